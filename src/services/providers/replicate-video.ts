// The real video provider: an image-to-video model on Replicate, fed the reference as a data: URI.
import type { Logger } from "../../domain/logger.ts";
import { ReplicatePredictions } from "./replicate-client.ts";
import { classifyRequestError } from "./replicate-errors.ts";
import { ReplicateProvider } from "./replicate-provider.ts";
import type { RetryOptions } from "./retrying-fetch.ts";
import type { StartedPrediction, VideoProvider, VideoRequest } from "./types.ts";
import { type VideoModelId, videoModel } from "./video-models.ts";

/** Videos are larger than images; Discord's own limit is checked when posting. */
export const MAX_VIDEO_BYTES = 100 * 1024 * 1024;

export class ReplicateVideoProvider extends ReplicateProvider<VideoRequest> implements VideoProvider {
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
    super(new ReplicatePredictions(options));
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

  protected sentAs(request: VideoRequest) {
    const { model } = this.options;
    return [{ model, input: videoModel(model).buildInput(request) }];
  }

  protected downloadLimits() {
    return { timeoutMs: 180_000, maxBytes: MAX_VIDEO_BYTES };
  }
}
