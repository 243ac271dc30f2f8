// The real video provider: an image-to-video model on Replicate, fed the reference as a data: URI.
import type { Logger } from "../../domain/logger.ts";
import { classifyRequestError, ReplicatePredictions } from "./replicate-client.ts";
import type { RetryOptions } from "./retrying-fetch.ts";
import type { PredictionState, StartedPrediction, VideoProvider, VideoRequest } from "./types.ts";
import { type VideoModelId, videoModel } from "./video-models.ts";

/** Videos are larger than images; Discord's own limit is checked when posting. */
export const MAX_VIDEO_BYTES = 100 * 1024 * 1024;

export class ReplicateVideoProvider implements VideoProvider {
  readonly name = "replicate";
  private readonly predictions: ReplicatePredictions;

  constructor(
    private readonly options: {
      token: string;
      apiUrl: string;
      model: VideoModelId;
      logger: Logger;
      retry?: Partial<RetryOptions>;
      /** Origins outputs may be downloaded from (default: Replicate's delivery hosts); see download.ts. */
      outputOrigins?: readonly string[] | undefined;
      reconcileDelaysMs?: readonly number[] | undefined;
    },
  ) {
    this.predictions = new ReplicatePredictions(options);
  }

  async start(request: VideoRequest, signal?: AbortSignal): Promise<StartedPrediction> {
    const { model } = this.options;
    try {
      const predictionId = await this.predictions.create(
        model,
        videoModel(model).buildInput(request),
        signal,
      );
      return { predictionId, model };
    } catch (err) {
      throw classifyRequestError(err, `starting a ${model} prediction`);
    }
  }

  async recover(
    request: VideoRequest,
    sentAt: number,
    excludeIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<StartedPrediction | undefined> {
    const { model } = this.options;
    const candidates = [{ model, input: videoModel(model).buildInput(request) }];
    return await this.predictions.recover(candidates, sentAt, excludeIds, signal);
  }

  get(predictionId: string, signal?: AbortSignal): Promise<PredictionState> {
    return this.predictions.get(predictionId, signal);
  }

  cancel(predictionId: string): Promise<void> {
    return this.predictions.cancel(predictionId);
  }

  fetchOutput(output: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.predictions.download(output, { timeoutMs: 180_000, maxBytes: MAX_VIDEO_BYTES }, signal);
  }
}
