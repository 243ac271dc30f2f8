// What the shared job queue throws that its callers tell apart: a job of another bot, a Redis never reached.

/**
 * A job whose row this bot's database does not have: enqueued by another bot sharing the Redis and the
 * QUEUE_PREFIX. Never tried again, and said loudly: the other bot's job is lost to it.
 */
export class MissingRowError extends Error {
  constructor(what: string) {
    super(`no ${what} in this bot's database: is another bot using the same REDIS_URL and QUEUE_PREFIX?`);
    this.name = "MissingRowError";
  }
}

/** A Redis that cannot be reached at start: one clear message naming REDIS_URL. */
export class QueueUnavailableError extends Error {
  readonly variable = "REDIS_URL";
  constructor(why: string) {
    super(`cannot be reached (${why})`);
    this.name = "QueueUnavailableError";
  }
}
