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
    await grids.sending("g1");
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

  it("stands for a grid sent again after an earlier progress edit, and never for one that did not arrive", async () => {
    // A progress edit answered before the grid set out cannot replace it.
    await grids.sending("again");
    await grids.progressEdited("again");
    await grids.sending("again");
    await grids.shown("again", "digest-2");
    expect(await grids.standing("again")).toBe("digest-2");
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
