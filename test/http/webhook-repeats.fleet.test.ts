// A Replicate webhook delivery is handled once by the fleet, not once per process: its id is claimed in Redis
// (SET NX with an expiry under the queue's prefix), so whichever process hears a copy answers it as a repeat.
// The two bots here keep their rows in two different schemas: only Redis can tell the second about the first.
import { afterEach, describe, expect, it } from "vitest";
import { jobQueueOrExit } from "../../src/app/startup.ts";
import { DELIVERY_MEMORY_MS } from "../../src/providers/replicate/webhooks.ts";
import { captureLogger, makeTempDir, type TempDir, testConfig } from "../support/env.ts";
import { removeKeys, TEST_REDIS_URL, testQueuePrefix } from "../support/redis.ts";
import { deliver, type Receiving, startReceiving, WEBHOOK_SECRET } from "../support/webhook-deliveries.ts";

const dirs: TempDir[] = [];
const running: Receiving[] = [];
const prefix = testQueuePrefix();
afterEach(async () => {
  for (const r of running.splice(0)) await r.close();
  for (const d of dirs.splice(0)) d.remove();
  await removeKeys(prefix);
});

/** A process of the fleet: its own context and queue connection on the shared Redis. */
async function fleetProcess(): Promise<Receiving> {
  const dir = makeTempDir("crbot-webhooks-fleet-");
  dirs.push(dir);
  const config = testConfig(dir.path, {
    REPLICATE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
  });
  const jobs = await jobQueueOrExit(config, captureLogger().logger);
  const r = await startReceiving(config, jobs ? { jobs } : {});
  running.push(r);
  return r;
}

describe("repeated webhook deliveries in a fleet", () => {
  it("answers a delivery one process handled as a repeat in every other", async () => {
    const [first, second] = [await fleetProcess(), await fleetProcess()];
    expect(await deliver(first, "msg_fleet", "pred_fleet")).toEqual({ status: 200, result: "no waiter" });
    expect(await deliver(second, "msg_fleet", "pred_fleet")).toEqual({
      status: 200,
      result: "repeated delivery",
    });
    expect(await deliver(second, "msg_fleet_2", "pred_fleet_2")).toEqual({
      status: 200,
      result: "no waiter",
    });

    // The claim is one key under the queue's prefix that expires by itself after the receiver's memory; the
    // databases hold nothing of it.
    const redis = first.ctx.jobs?.redis;
    const ttl = await redis?.ttl(`${prefix}:webhook-delivery:msg_fleet`);
    expect(ttl).toBeGreaterThan(DELIVERY_MEMORY_MS / 1000 - 60);
    expect(ttl).toBeLessThanOrEqual(DELIVERY_MEMORY_MS / 1000);
    for (const r of [first, second]) {
      expect(await r.ctx.data.db.selectFrom("webhookDeliveries").select("id").execute()).toEqual([]);
    }
  });
});
