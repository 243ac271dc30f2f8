// The real image provider: Google's image models on Replicate, with a fallback for a retired model.
import { PredictionFailure } from "../../kit/failures.ts";
import type { Logger } from "../../kit/logger.ts";
import type { RequestBudget } from "../../kit/request-budget.ts";
import { MAX_OUTPUT_BYTES } from "../download.ts";
import { type ImageModelId, imageModel } from "../image-models.ts";
import type { ImageProvider, ImageRequest, StartedPrediction } from "../types.ts";
import { apiStatus, classifyRequestError } from "./errors.ts";
import { ReplicatePredictions } from "./predictions-client.ts";
import { ReplicateProvider, referenceInput } from "./provider-base.ts";
import type { RetryOptions } from "./retrying-fetch.ts";

export interface ReplicateProviderOptions {
  token: string;
  apiUrl: string;
  model: ImageModelId;
  /** Used, and announced once, when Replicate answers that `model` does not exist. */
  fallbackModel?: ImageModelId | undefined;
  logger: Logger;
  retry?: Partial<RetryOptions>;
  downloadTimeoutMs?: number;
  maxOutputBytes?: number;
  /** Origins outputs may be downloaded from (default: Replicate's delivery hosts); see download.ts. */
  outputOrigins?: readonly string[] | undefined;
  reconcileDelaysMs?: readonly number[] | undefined;
  /** How long after its create a prediction is surely listed (see lost-creates.ts). */
  listedWithinMs?: number | undefined;
  /** Replicate posts each prediction's completion here (see ReplicateClientOptions). */
  webhookUrl?: string | undefined;
  /** Taken before every status check (see ReplicateClientOptions). */
  statusBudget?: RequestBudget | undefined;
}

export class ReplicateImageProvider extends ReplicateProvider<ImageRequest> implements ImageProvider {
  private activeModel: ImageModelId;

  constructor(private readonly options: ReplicateProviderOptions) {
    super(new ReplicatePredictions(options));
    this.activeModel = options.model;
  }

  /** The model new predictions go to. */
  get model(): ImageModelId {
    return this.activeModel;
  }

  async start(request: ImageRequest, signal?: AbortSignal): Promise<StartedPrediction> {
    const model = this.activeModel;
    try {
      return await this.create(model, request, signal);
    } catch (err) {
      const fallback = this.options.fallbackModel;
      if (!(apiStatus(err) === 404 && fallback && model !== fallback)) {
        throw classifyRequestError(err, `starting a ${model} prediction`);
      }
      this.switchToFallback(model, fallback);
      try {
        return await this.create(fallback, request, signal);
      } catch (fallbackErr) {
        throw classifyRequestError(fallbackErr, `starting a ${fallback} prediction`);
      }
    }
  }

  /** A lost create may have gone to the configured model or to its fallback. */
  protected sentAs(request: ImageRequest) {
    const models = [...new Set([this.activeModel, this.options.model, this.options.fallbackModel])].filter(
      (m): m is ImageModelId => m !== undefined,
    );
    return models.map((model) => ({ model, input: this.input(model, request) }));
  }

  protected get logger(): Logger {
    return this.options.logger;
  }

  /**
   * The model's input for a request; one that carries references goes only to a model that takes as many
   * (the services refuse more before anything is recorded; this holds for a model switched in between).
   */
  private input(model: ImageModelId, request: ImageRequest): Record<string, unknown> {
    const spec = imageModel(model);
    const references = request.references ?? [];
    if (references.length > 0 && !spec.takesReference) {
      throw new PredictionFailure("provider_error", `${model} cannot draw from a reference image`);
    }
    if (references.length > spec.maxImageInputs) {
      throw new PredictionFailure(
        "provider_error",
        `${model} takes at most ${spec.maxImageInputs} reference images, not ${references.length}`,
      );
    }
    return spec.buildInput(request, references.map(referenceInput));
  }

  protected downloadLimits() {
    return {
      timeoutMs: this.options.downloadTimeoutMs ?? 60_000,
      maxBytes: this.options.maxOutputBytes ?? MAX_OUTPUT_BYTES,
    };
  }

  private async create(model: ImageModelId, request: ImageRequest, signal?: AbortSignal) {
    const predictionId = await this.predictions.create(model, this.input(model, request), signal);
    return { predictionId, model };
  }

  private switchToFallback(from: ImageModelId, to: ImageModelId): void {
    if (this.activeModel !== from) return; // another slot switched first; one warning is enough
    this.activeModel = to;
    this.options.logger.warn(
      { model: from, fallbackModel: to },
      "Replicate says the image model does not exist (Google retired Imagen in 2026); using the fallback model",
    );
  }
}
