// /readyz in fleet mode names a Redis eviction policy that could drop queued jobs: anything but noeviction.
// The Redis is the real one the fleet tests share; its policy is put back after the test (its maxmemory is 0, so
// no key is evicted meanwhile whatever the policy says).
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { AppContext } from "../../src/features/context.ts";
import { checkReadiness } from "../../src/http/routes/health.ts";
import { SharedJobQueue } from "../../src/queue/job-queue.ts";
import { captureLogger } from "../support/env.ts";
import { removeKeys, TEST_REDIS_URL, testQueuePrefix } from "../support/redis.ts";

const admin = () => new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
let restore: (() => Promise<void>) | undefined;

afterEach(async () => {
  await restore?.();
  restore = undefined;
});

describe("the shared queue's readiness", () => {
  it("fails /readyz's queueEvictionPolicy check while Redis may evict keys, and passes with noeviction", async () => {
    const prefix = testQueuePrefix();
    const { logger } = captureLogger();
    const jobs = await SharedJobQueue.open(
      { redisUrl: TEST_REDIS_URL, prefix, lockMs: 8000, concurrency: 2, createsPerMinute: 600 },
      logger,
    );
    const redis = admin();
    const before = ((await redis.config("GET", "maxmemory-policy")) as string[])[1] as string;
    restore = async () => {
      await redis.config("SET", "maxmemory-policy", before);
      redis.disconnect();
      await jobs.close();
      await removeKeys(prefix);
    };
    // Only the queue's checks matter here: the database and storage stand-ins always answer.
    const ctx = {
      data: { ping: async () => undefined },
      files: { objects: { check: async () => undefined } },
      jobs,
    } as unknown as AppContext;

    await redis.config("SET", "maxmemory-policy", "noeviction");
    expect(await jobs.evictionPolicy()).toBe("noeviction");
    expect((await checkReadiness({ ctx })).status).toBe("ready");

    await redis.config("SET", "maxmemory-policy", "allkeys-lru");
    const answer = await checkReadiness({ ctx });
    expect(answer.status).toBe("not ready");
    expect(answer.failed).toEqual(["queueEvictionPolicy"]);
    expect(answer.checks.queueEvictionPolicy).toMatchObject({
      ok: false,
      error: expect.stringContaining("maxmemory-policy is allkeys-lru"),
    });
  });
});
