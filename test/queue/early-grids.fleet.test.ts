// The fleet's record of a grid a slot's worker sent early, on the real Redis: the delivery job trusts only a
// grid that reached Discord with no progress edit answered since it set out (see src/queue/early-grids.ts).
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { EarlyGrids } from "../../src/queue/early-grids.ts";
import { removeKeys, TEST_REDIS_URL, testQueuePrefix } from "../support/redis.ts";

const prefix = testQueuePrefix();
const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
const grids = new EarlyGrids(redis, prefix);

afterEach(async () => {
  await removeKeys(prefix);
});

describe("EarlyGrids", () => {
  it("stands for the grid that reached Discord, until the delivery forgets it", async () => {
    expect(await grids.sending("g1")).toBe(true);
    expect(await grids.standing("g1")).toBeUndefined();
    await grids.shown("g1", "digest-1");
    expect(await grids.standing("g1")).toBe("digest-1");
    // Kept for an hour at most, whatever becomes of the delivery job.
    const ttl = await redis.pttl(`${prefix}:early-grid:g1`);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    await grids.forget("g1");
    expect(await grids.standing("g1")).toBeUndefined();
  });

  it("does not stand once a progress edit was answered after the grid set out, before or after it arrived", async () => {
    await grids.sending("before");
    await grids.progressEdited("before");
    await grids.shown("before", "digest");
    expect(await grids.standing("before")).toBeUndefined();

    await grids.sending("after");
    await grids.shown("after", "digest");
    await grids.progressEdited("after");
    expect(await grids.standing("after")).toBeUndefined();
  });

  it("lets one grid set out, none after a progress edit was marked, and stands for none that did not arrive", async () => {
    expect(await grids.sending("one")).toBe(true);
    // A second slot's worker that also saw every slot ended does not send the grid again.
    expect(await grids.sending("one")).toBe(false);
    await grids.shown("one", "digest-1");
    expect(await grids.standing("one")).toBe("digest-1");
    // Once a progress edit was marked, no grid sets out early: the delivery job sends it.
    await grids.sending("marked");
    await grids.progressEdited("marked");
    expect(await grids.sending("marked")).toBe(false);
    await grids.shown("marked", "digest-2");
    expect(await grids.standing("marked")).toBeUndefined();
    // A worker that died on the way left `sending`: the delivery job sends the grid itself.
    await grids.sending("died");
    expect(await grids.standing("died")).toBeUndefined();
  });

  it("leaves no key for a progress edit of a generation whose grid never set out", async () => {
    await grids.progressEdited("none");
    expect(await redis.exists(`${prefix}:early-grid:none`)).toBe(0);
    expect(await grids.standing("none")).toBeUndefined();
  });
});

afterAll(() => redis.disconnect());
