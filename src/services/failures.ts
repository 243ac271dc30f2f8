// The classified ways a prediction can fail, and the words a user reads for each.
export const FAILURE_CODES = [
  "safety_blocked",
  "rate_limited",
  "timeout",
  "provider_error",
  "bad_output",
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

export const FAILURE_REASONS: Record<FailureCode, string> = {
  safety_blocked: "blocked by the model's safety filter; try rewording the description",
  rate_limited: "the image service is busy (rate limited); try again in a minute",
  timeout: "took too long and was cancelled",
  provider_error: "the image service failed",
  bad_output: "the image service returned something that is not a usable image",
};

const SAFETY = /safety|nsfw|sensitive|flagged|blocked|responsible ai|prohibited|content polic/i;

/** Classifies the `error` text of a failed prediction. */
export function classifyPredictionError(error: unknown): PredictionFailure {
  const text = typeof error === "string" ? error : error == null ? "" : JSON.stringify(error);
  const message = text.trim() || "the prediction failed without a reason";
  return new PredictionFailure(SAFETY.test(message) ? "safety_blocked" : "provider_error", message);
}
