/**
 * An expected failure whose message is safe to show the user (ephemerally), written with `t` where it is thrown
 * so it is in the member's language. Everything else is a bug.
 */
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserFacingError";
  }
}

/**
 * The store cannot be reached or refuses the bot (after the backend's own retries). `variable` names the
 * setting to look at; the message says what happened without any credential.
 */
export class StorageUnavailableError extends Error {
  constructor(
    readonly variable: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StorageUnavailableError";
  }
}
