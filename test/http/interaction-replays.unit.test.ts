// The replay guard while Redis does not answer: the queue's connection holds commands until Redis is back, so
// the check must not wait for it (Discord allows 3 s); this process's memory decides meanwhile.
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { seenInRedis } from "../../src/http/interaction-replays.ts";
import { createLogger } from "../../src/kit/logger.ts";

let redis: Redis | undefined;
afterEach(() => redis?.disconnect());

describe("interaction ids while Redis is away", () => {
  // Without the fallback the first check waits until Redis comes back: the test's time limit fails it.
  it("are decided by the process's memory, a replay still refused", async () => {
    // Nothing listens on port 1; with maxRetriesPerRequest null (as BullMQ's connection) commands wait offline.
    redis = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: null, retryStrategy: () => 1000 });
    redis.on("error", () => undefined);
    const seen = seenInRedis(redis, "replay-test", createLogger({ level: "silent" }));
    expect(await seen.firstSight("1578000000000000001", Date.now())).toBe(true);
    expect(await seen.firstSight("1578000000000000001", Date.now())).toBe(false);
    expect(await seen.firstSight("1578000000000000002", Date.now())).toBe(true);
  });
});
