// The real image provider: Replicate's HTTP API through the official `replicate` client.
import Replicate from "replicate";
import type { Logger } from "../../logger.ts";
import { classifyPredictionError, PredictionFailure } from "../failures.ts";
import { downloadOutput, MAX_OUTPUT_BYTES } from "./download.ts";
import { type ImageModelId, imageModel } from "./image-models.ts";
import { createRetryingFetch, type RetryOptions } from "./retrying-fetch.ts";
import type { ImageProvider, ImageRequest, PredictionState, StartedPrediction } from "./types.ts";

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
}

export const DEFAULT_RETRY: RetryOptions = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 30_000,
  requestTimeoutMs: 30_000,
};

export class ReplicateImageProvider implements ImageProvider {
  readonly name = "replicate";
  private readonly client: Replicate;
  private activeModel: ImageModelId;

  constructor(private readonly options: ReplicateProviderOptions) {
    this.activeModel = options.model;
    this.client = new Replicate({
      auth: options.token,
      baseUrl: options.apiUrl,
      useFileOutput: false,
      fetch: createRetryingFetch({
        ...DEFAULT_RETRY,
        ...options.retry,
        onRetry: (info) => options.logger.info(info, "retrying Replicate request"),
      }),
    });
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

  async get(predictionId: string, signal?: AbortSignal): Promise<PredictionState> {
    let prediction: Awaited<ReturnType<Replicate["predictions"]["get"]>>;
    try {
      prediction = await this.client.predictions.get(predictionId, { signal });
    } catch (err) {
      if (apiStatus(err) === 404) {
        return {
          status: "failed",
          failure: new PredictionFailure("provider_error", "Replicate no longer knows this prediction"),
        };
      }
      throw classifyRequestError(err, "checking a prediction");
    }
    switch (prediction.status) {
      case "starting":
      case "processing":
        return { status: "running" };
      case "succeeded": {
        const output = Array.isArray(prediction.output) ? prediction.output[0] : prediction.output;
        return typeof output === "string"
          ? { status: "succeeded", output }
          : {
              status: "failed",
              failure: new PredictionFailure("bad_output", "prediction returned no file URL"),
            };
      }
      case "canceled":
        return {
          status: "failed",
          failure: new PredictionFailure("provider_error", "the prediction was cancelled"),
        };
      default:
        return { status: "failed", failure: classifyPredictionError(prediction.error) };
    }
  }

  async cancel(predictionId: string): Promise<void> {
    try {
      await this.client.predictions.cancel(predictionId);
    } catch (err) {
      this.options.logger.warn({ err, predictionId }, "could not cancel prediction");
    }
  }

  fetchOutput(output: string, signal?: AbortSignal): Promise<Uint8Array> {
    return downloadOutput(output, {
      timeoutMs: this.options.downloadTimeoutMs ?? 60_000,
      maxBytes: this.options.maxOutputBytes ?? MAX_OUTPUT_BYTES,
      signal,
    });
  }

  private async create(model: ImageModelId, request: ImageRequest, signal?: AbortSignal) {
    const input = imageModel(model).buildInput(request);
    const prediction = await this.client.predictions.create({ model, input, signal });
    return { predictionId: prediction.id, model };
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

function classifyRequestError(err: unknown, doing: string): PredictionFailure {
  if (err instanceof PredictionFailure) return err;
  const status = apiStatus(err);
  if (status !== undefined) {
    if (status === 429) return new PredictionFailure("rate_limited", `Replicate rate limit while ${doing}`);
    if (status === 404)
      return new PredictionFailure("provider_error", `Replicate answered 404 while ${doing}`);
    return new PredictionFailure("provider_error", `Replicate answered HTTP ${status} while ${doing}`);
  }
  const name = (err as Error)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new PredictionFailure("timeout", `Replicate did not answer in time while ${doing}`);
  }
  return new PredictionFailure(
    "provider_error",
    `could not reach Replicate while ${doing}: ${(err as Error)?.message}`,
  );
}

/** The HTTP status of the client's ApiError (not exported at run time, so recognised by its shape). */
function apiStatus(err: unknown): number | undefined {
  if (
    err instanceof Error &&
    err.name === "ApiError" &&
    "response" in err &&
    err.response instanceof Response
  ) {
    return err.response.status;
  }
  return undefined;
}
