// The classified ways a prediction can fail, and the words a user reads for each.
import { StorageUnavailableError } from "./errors.ts";
import { tPublic } from "./i18n.ts";

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

/** Each code's message in the `errors` namespace. */
const REASON_KEYS: Record<FailureCode, string> = {
  safety_blocked: "errors:failure.safetyBlocked",
  rate_limited: "errors:failure.rateLimited",
  timeout: "errors:failure.timeout",
  provider_error: "errors:failure.providerError",
  bad_output: "errors:failure.badOutput",
  storage_unavailable: "errors:failure.storageUnavailable",
  input_rejected: "errors:failure.inputRejected",
  abandoned: "errors:failure.abandoned",
};

/**
 * Why a prediction failed, in words for the person who asked for an image or a video. Rendered from the stored
 * code when the message is shown (the row keeps the code, not words), in the language of the message it goes
 * on: the channel's, as grids and video posts are public. A code no longer known reads "failed".
 */
export function failureReason(code: FailureCode, made: "image" | "video"): string {
  const key = Object.hasOwn(REASON_KEYS, code) ? REASON_KEYS[code] : "errors:failure.failed";
  return tPublic(key, { made });
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
