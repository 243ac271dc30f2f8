// The Redis the fleet tests share (127.0.0.1:6379 on the development and CI machines): each test gets its own
// key prefix for the job queue and the Discord budget, and removes every key under it afterwards.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Resolves when Redis answers PING; rejects with the reason within a few seconds. */
export async function probeRedis(url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}

/** A key prefix no other test uses. */
export function testQueuePrefix(): string {
  return `crbot-test-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Deletes every key under `prefix` (BullMQ's keys are `<prefix>:<queue>:…`). */
export async function removeKeys(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
