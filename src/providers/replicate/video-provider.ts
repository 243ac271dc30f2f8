// The real video provider: an image-to-video model on Replicate, fed the reference as a signed link to the bot's
// own copy, else as a file uploaded to Replicate's Files API, else (a small image only) as a data: URI.

import type { Logger } from "../../kit/logger.ts";
import type { RequestBudget } from "../../kit/request-budget.ts";
import type { StartedPrediction, VideoProvider, VideoRequest } from "../types.ts";
import { buildVideoInput, isVideoModelId, type VideoModelId, videoModel } from "../video-models.ts";
import { classifyRequestError } from "./errors.ts";
import { ReplicatePredictions } from "./predictions-client.ts";
import { ReplicateProvider, referenceInput } from "./provider-base.ts";
import type { RetryOptions } from "./retrying-fetch.ts";

/** Videos are larger than images; Discord's own limit is checked when posting. */
export const MAX_VIDEO_BYTES = 100 * 1024 * 1024;

export class ReplicateVideoProvider extends ReplicateProvider<VideoRequest> implements VideoProvider {
  constructor(
    private readonly options: {
      token: string;
      apiUrl: string;
      /** The model of a request that names none in the table (see VideoRequest.model). */
      model: VideoModelId;
      logger: Logger;
      retry?: Partial<RetryOptions>;
      /** Origins outputs may be downloaded from (default: Replicate's delivery hosts); see download.ts. */
      outputOrigins?: readonly string[] | undefined;
      reconcileDelaysMs?: readonly number[] | undefined;
      /** How long after its create a prediction is surely listed (see lost-creates.ts). */
      listedWithinMs?: number | undefined;
      /** Replicate posts each prediction's completion here (see ReplicateClientOptions). */
      webhookUrl?: string | undefined;
      /** Taken before every status check (see ReplicateClientOptions). */
      statusBudget?: RequestBudget | undefined;
    },
  ) {
    super(new ReplicatePredictions(options));
  }

  async start(request: VideoRequest, signal?: AbortSignal): Promise<StartedPrediction> {
    const [{ model, input }] = this.sentAs(request) as [{ model: string; input: Record<string, unknown> }];
    try {
      const predictionId = await this.predictions.create(model, input, signal);
      return { predictionId, model };
    } catch (err) {
      throw classifyRequestError(err, `starting a ${model} prediction`);
    }
  }

  /** What a create for `request` sent: the same request always makes the same input. */
  protected sentAs(request: VideoRequest) {
    const model = isVideoModelId(request.model) ? request.model : this.options.model;
    const input = buildVideoInput(videoModel(model), {
      prompt: request.prompt,
      image: referenceInput(request.image),
      endImage: request.endImage && referenceInput(request.endImage),
      referenceImages: request.referenceImages?.map(referenceInput),
      durationSeconds: request.durationSeconds,
      aspectRatio: request.aspectRatio,
    });
    return [{ model, input }];
  }

  protected get logger(): Logger {
    return this.options.logger;
  }

  protected downloadLimits() {
    return { timeoutMs: 180_000, maxBytes: MAX_VIDEO_BYTES };
  }
}
