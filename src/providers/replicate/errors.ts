// How the bot reads the Replicate client's errors: the HTTP status, whether a create may have happened, and the
// classified failure a user and a moderator read.
import { PredictionFailure } from "../../kit/failures.ts";
import { certainlyNotSent } from "./retrying-fetch.ts";

/** A 5xx, a timeout or a dropped connection after sending: the create may have happened. */
export function mayHaveBeenCreated(err: unknown): boolean {
  const status = apiStatus(err);
  if (status !== undefined) return status >= 500;
  if (err instanceof PredictionFailure) return false;
  return !certainlyNotSent(err);
}

export function describeLostAnswer(err: unknown): string {
  const status = apiStatus(err);
  if (status !== undefined) return `HTTP ${status}`;
  const name = (err as Error)?.name;
  if (name === "TimeoutError" || name === "AbortError") return "no answer in time";
  return `connection lost: ${(err as Error)?.message}`;
}

export function classifyRequestError(err: unknown, doing: string): PredictionFailure {
  if (err instanceof PredictionFailure) return err;
  const status = apiStatus(err);
  if (status !== undefined) {
    if (status === 429) return new PredictionFailure("rate_limited", `Replicate rate limit while ${doing}`);
    // Replicate validates a create's input against the model's schema: a 422 is the model refusing it.
    if (status === 422)
      return new PredictionFailure("input_rejected", `Replicate refused the input (HTTP 422) while ${doing}`);
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
