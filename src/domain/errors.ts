/** An expected failure whose message is safe to show the user (ephemerally). Everything else is a bug. */
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserFacingError";
  }
}
