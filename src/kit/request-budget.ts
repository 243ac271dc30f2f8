// A budget of requests per second, for this process alone or for every process sharing one Redis: what keeps
// a fleet under a limit the service counts per bot or per account (Discord's global limit on bot-token
// requests, Replicate's status checks), however many processes send them.
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterQueue, RateLimiterRedis } from "rate-limiter-flexible";

export interface RequestBudget {
  /**
   * Resolves when one more request may go out now; with a `deadline` (epoch ms), rejects, spending nothing,
   * when that would be after it.
   */
  take(deadline?: number): Promise<void>;
}

function queued(queue: RateLimiterQueue): RequestBudget {
  return {
    take: (deadline) =>
      queue
        .removeTokens(1, undefined, deadline === undefined ? undefined : deadline / 1000)
        .then(() => undefined),
  };
}

/** `points` requests in each counting second (fixed windows), in this process. */
export function localBudget(points: number): RequestBudget {
  return queued(new RateLimiterQueue(new RateLimiterMemory({ points, duration: 1 })));
}

/**
 * `points` requests in each counting second, counted in Redis under `key` and shared by every process given the
 * same one. While Redis cannot be reached, each process counts alone (a guess at the fleet's size would be no
 * better, and the service's own 429s, which the clients honour, hold the rest back).
 */
export function redisBudget(redis: Redis, key: string, points: number): RequestBudget {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: key,
    points,
    duration: 1,
    // Redis not ready: the insurance limiter answers at once, instead of the request waiting on Redis.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ points, duration: 1 }),
  });
  return queued(new RateLimiterQueue(limiter));
}
