// Fleet mode when Redis forgets (a restart without persistence, a failover, FLUSHDB): the rows are the truth.
// A gateway and two workers on Redis, PostgreSQL and S3; three members' /character (2 images each, fleet cap 3)
// are running when every key of the bot is deleted. The workers whose jobs vanished still record their results,
// and the reconciler (QUEUE_RECONCILE_SECONDS, the default 30 here) puts every undelivered row back on the queue:
// every grid arrives, and no prediction is created twice.
import { describe, expect, it } from "vitest";
import { buttons } from "../support/bot-harness.ts";
import { removeKeys } from "../support/redis.ts";
import { cleanUpAfterEach, finalGrid, output, settledRows, setup, start, users } from "./fleet-rig.ts";

cleanUpAfterEach();

describe("fleet: Redis loses its data while predictions run", () => {
  it("delivers every grid from the rows, creating each slot once", async () => {
    const { sandbox: s, fake: f, store: db, prefix } = await setup(4000);
    const fleet = { MAX_CONCURRENT_PREDICTIONS: "3", QUEUE_RECONCILE_SECONDS: "" };
    await start("gateway", fleet);
    await start("worker", fleet);
    await start("worker", fleet);

    const interactions = users.slice(0, 3).map((user) =>
      s.runCommand({
        command: "character",
        options: { description: `forgetful redis ${user.username}`, count: 2 },
        user,
      }),
    );
    // Three slots running at Replicate (the cap), three waiting in the queue: then Redis forgets everything.
    await s.waitFor(() => f.creates.length >= 3, 30_000, "three running predictions");
    await removeKeys(prefix);
    const lostAt = Date.now();

    // Bound: the reconciler's period (30 s) plus two rounds of 4 s predictions; 90 s leaves a busy machine room.
    const grids = await Promise.all(interactions.map((i) => finalGrid(s, i, 90_000))).catch((err) => {
      throw new Error(`${(err as Error).message}\n${output()}`);
    });
    const deliveredInMs = Date.now() - lostAt;

    for (const grid of grids) {
      expect(grid.attachments).toHaveLength(2);
      expect(buttons(grid).filter((b) => /^[1-2]$/.test(b.label ?? ""))).toHaveLength(2);
    }
    const rows = await settledRows(db, grids);
    expect(rows).toHaveLength(6);
    expect(rows.every((r) => r.status === "succeeded")).toBe(true);
    // Nothing created twice: one create per slot, each slot holding its own prediction.
    expect(f.creates).toHaveLength(6);
    expect(new Set(rows.map((r) => r.predictionId)).size).toBe(6);
    expect(f.peakInFlight()).toBeLessThanOrEqual(3);
    expect(output()).toContain("undelivered jobs missing from the queue were put back from the rows");
    console.log(
      `redis loss test: 3 members × 2 images, ${f.creates.length} creates for ${rows.length} slots, ` +
        `peak ${f.peakInFlight()} in flight (cap 3), every grid delivered ${deliveredInMs} ms after the loss (goal ≤ 60000)`,
    );
  }, 150_000);
});
