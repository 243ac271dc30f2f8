// Replicate's prediction API through the official client: create, poll, cancel, download; every failure classified.
import Replicate from "replicate";
import type { Logger } from "../../logger.ts";
import { classifyPredictionError, PredictionFailure } from "../failures.ts";
import { downloadOutput } from "./download.ts";
import { createRetryingFetch, type RetryOptions } from "./retrying-fetch.ts";
import type { PredictionState } from "./types.ts";

export const DEFAULT_RETRY: RetryOptions = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 30_000,
  requestTimeoutMs: 30_000,
};

export interface ReplicateClientOptions {
  token: string;
  apiUrl: string;
  logger: Logger;
  retry?: Partial<RetryOptions> | undefined;
}

export class ReplicatePredictions {
  private readonly client: Replicate;

  constructor(private readonly options: ReplicateClientOptions) {
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

  /** Creates a prediction of an official model; the raw client error is left for the caller to classify. */
  async create(model: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
    const prediction = await this.client.predictions.create({ model, input, signal });
    return prediction.id;
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

  download(
    url: string,
    limits: { timeoutMs: number; maxBytes: number },
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    return downloadOutput(url, { ...limits, signal });
  }
}

export function classifyRequestError(err: unknown, doing: string): PredictionFailure {
  if (err instanceof PredictionFailure) return err;
  const status = apiStatus(err);
  if (status !== undefined) {
    if (status === 429) return new PredictionFailure("rate_limited", `Replicate rate limit while ${doing}`);
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
export function apiStatus(err: unknown): number | undefined {
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
