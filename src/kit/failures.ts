// The classified ways a prediction can fail, and the words a user reads for each.
import { StorageUnavailableError } from "./errors.ts";

export const FAILURE_CODES = [
  "safety_blocked",
  "rate_limited",
  "timeout",
  "provider_error",
  "bad_output",
  "abandoned",
  "storage_unavailable",
  "input_rejected",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** A prediction that ended without a usable file. The message is safe to store and to show a moderator. */
export class PredictionFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
    this.name = "PredictionFailure";
  }
}

/** Why a prediction failed, in words for the person who asked for an image or a video. */
export function failureReason(code: FailureCode, made: "image" | "video"): string {
  switch (code) {
    case "safety_blocked":
      return "blocked by the model's safety filter; try rewording the description";
    case "rate_limited":
      return `the ${made} service is busy (rate limited); try again in a minute`;
    case "timeout":
      return "took too long and was cancelled";
    case "provider_error":
      return `the ${made} service failed`;
    case "bad_output":
      return `the ${made} service returned something that is not a usable ${made}`;
    case "storage_unavailable":
      return `the bot could not store the ${made} (its storage is unavailable); try again in a minute`;
    case "input_rejected":
      return `the model refused its input (for an image drawn from a reference: that image); try another reference`;
    case "abandoned":
      return "Discord did not take the request, so it never started and cost nothing; please try again";
  }
}

/**
 * The failure to record for an error a prediction job ended with. Expected failures are logged as facts;
 * anything else is a bug, logged with its stack, and recorded as a provider_error.
 */
export function recordableFailure(
  err: unknown,
  log: { info(o: object, m: string): void; error(o: object, m: string): void },
  what: "image" | "video",
): PredictionFailure {
  if (err instanceof PredictionFailure) {
    log.info({ code: err.code, reason: err.message }, `${what} failed`);
    return err;
  }
  if (err instanceof StorageUnavailableError) {
    log.error({ err, variable: err.variable }, `${what} could not be stored`);
    return new PredictionFailure("storage_unavailable", err.message);
  }
  log.error({ err }, `${what} failed unexpectedly`);
  return new PredictionFailure("provider_error", "unexpected error in the bot");
}

const SAFETY = /safety|nsfw|sensitive|flagged|blocked|responsible ai|prohibited|content polic/i;

/** Classifies the `error` text of a failed prediction. */
export function classifyPredictionError(error: unknown): PredictionFailure {
  const text = typeof error === "string" ? error : error == null ? "" : JSON.stringify(error);
  const message = text.trim() || "the prediction failed without a reason";
  return new PredictionFailure(SAFETY.test(message) ? "safety_blocked" : "provider_error", message);
}
