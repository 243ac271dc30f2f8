// The real upscaler: UPSCALE_MODEL on Replicate, enlarging a stored image (sent as the other references are).
import { PredictionFailure } from "../../kit/failures.ts";
import type { Logger } from "../../kit/logger.ts";
import type { RequestBudget } from "../../kit/request-budget.ts";
import { MAX_OUTPUT_BYTES } from "../download.ts";
import type { ImageProvider, ImageRequest, StartedPrediction } from "../types.ts";
import { type UpscaleModelId, upscaleModel } from "../upscale-models.ts";
import { classifyRequestError } from "./errors.ts";
import { ReplicatePredictions } from "./predictions-client.ts";
import { ReplicateProvider, referenceInput } from "./provider-base.ts";

export interface ReplicateUpscaleOptions {
  token: string;
  apiUrl: string;
  model: UpscaleModelId;
  logger: Logger;
  outputOrigins?: readonly string[] | undefined;
  webhookUrl?: string | undefined;
  statusBudget?: RequestBudget | undefined;
  downloadTimeoutMs?: number;
}

export class ReplicateUpscaleProvider extends ReplicateProvider<ImageRequest> implements ImageProvider {
  constructor(private readonly options: ReplicateUpscaleOptions) {
    super(new ReplicatePredictions(options));
  }

  get model(): UpscaleModelId {
    return this.options.model;
  }

  async start(request: ImageRequest, signal?: AbortSignal): Promise<StartedPrediction> {
    const { model } = this.options;
    const input = this.input(request);
    try {
      const predictionId = await this.predictions.create(model, input, signal, upscaleModel(model).version);
      return { predictionId, model };
    } catch (err) {
      throw classifyRequestError(err, `starting a ${model} prediction`);
    }
  }

  protected sentAs(request: ImageRequest) {
    return [{ model: this.options.model, input: this.input(request) }];
  }

  protected get logger(): Logger {
    return this.options.logger;
  }

  protected downloadLimits() {
    return { timeoutMs: this.options.downloadTimeoutMs ?? 60_000, maxBytes: MAX_OUTPUT_BYTES };
  }

  /** Only an upscale of a stored image goes here: anything else is a mistake, failed before it costs. */
  private input(request: ImageRequest): Record<string, unknown> {
    const image = request.references?.[0];
    if (!request.upscale || !image || request.references?.length !== 1) {
      throw new PredictionFailure("provider_error", `${this.options.model} only enlarges one stored image`);
    }
    const { scale, faceEnhance } = request.upscale;
    return upscaleModel(this.options.model).buildInput(referenceInput(image), scale, faceEnhance);
  }
}
