// The grid sent by the worker whose slot ends a generation, in a fleet of real processes (a gateway and two
// workers on Redis, PostgreSQL and s3rver): it reaches Discord before the generation's delivery job runs (that
// queue is paused here), and the delivery job then only records it, unless a slot's progress edit answered after
// it set out may have replaced it, when it sends the grid again.
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import type { DataStore } from "../../src/db/data-store.ts";
import { EarlyGrids } from "../../src/queue/early-grids.ts";
import type { DiscordSandbox, SandboxInteraction } from "../../src/sandbox/server.ts";
import { ALICE, buttons, eventually } from "../support/bot-harness.ts";
import { TEST_REDIS_URL } from "../support/redis.ts";
import { cleanUpAfterEach, finalGrid, generationIdOf, output, setup, start } from "./fleet-rig.ts";

cleanUpAfterEach();

const SENT_EARLY = /grid sent by the slot that ended the generation/;

/** A gateway and two workers with the delivery jobs held, and a /character of `count` images asked. */
async function heldFleet(count: number) {
  const rig = await setup(300);
  await start("gateway");
  await start("worker");
  await start("worker");
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const deliveries = new Queue("deliveries", { connection: redis, prefix: rig.prefix });
  await deliveries.pause();
  const asked = rig.sandbox.runCommand({
    command: "character",
    options: { description: "sent early", count },
    user: ALICE,
  });
  const close = async () => {
    await deliveries.close();
    redis.disconnect();
  };
  return { ...rig, redis, deliveries, asked, close };
}

/** The grid while the delivery jobs are held: only one a slot's worker sent can show. */
function earlyGrid(s: DiscordSandbox, asked: SandboxInteraction) {
  return finalGrid(s, asked, 30_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${output()}`);
  });
}

function delivered(store: DataStore, generationId: string) {
  return eventually(
    async () => ((await store.repos.generations.get(generationId))?.deliveredAt ?? null) !== null,
    30_000,
    "the delivery to be recorded",
  );
}

describe("the grid from the worker whose slot ends the generation", () => {
  it("reaches Discord before the delivery job runs, which then records it without sending it again", async () => {
    const { sandbox: s, store, deliveries, asked, close } = await heldFleet(1);
    try {
      const grid = await earlyGrid(s, asked);
      const generationId = generationIdOf(grid);
      expect(grid.attachments).toHaveLength(1);
      expect(buttons(grid).map((b) => b.label)).toContain("Regenerate");
      expect((await store.repos.generations.get(generationId))?.deliveredAt).toBeNull();
      // Settled by the slot's worker, before the delivery job: Regenerate pressed now is not refused as running.
      await eventually(
        async () => (await store.repos.generations.get(generationId))?.status === "succeeded",
        10_000,
        "the generation to be settled",
      );
      const uploaded = grid.attachments.map((a) => a.id);
      await deliveries.resume();
      await delivered(store, generationId);
      // The same attachment: the delivery job uploaded nothing again.
      expect(s.original(asked)?.attachments.map((a) => a.id)).toEqual(uploaded);
      expect(output()).toMatch(SENT_EARLY);
    } finally {
      await close();
    }
  }, 90_000);

  it("is sent again by the delivery job when a progress edit was answered after it set out", async () => {
    const { sandbox: s, store, redis, prefix, deliveries, asked, close } = await heldFleet(1);
    try {
      const generationId = generationIdOf(await earlyGrid(s, asked));
      // What a slot's progress edit that reached Discord after the grid does: the message shows the progress
      // text without images, and the slot's worker marks the edit.
      await editOriginal(s, asked, { content: "Drawing… 3 of 4", components: [], attachments: [] });
      await new EarlyGrids(redis, prefix).progressEdited(generationId);
      expect(s.original(asked)?.attachments).toHaveLength(0);
      await deliveries.resume();
      await delivered(store, generationId);
      const again = await finalGrid(s, asked, 10_000);
      expect(again.attachments).toHaveLength(1);
    } finally {
      await close();
    }
  }, 90_000);

  it("is sent by the slot recorded last when every slot ends at the same moment", async () => {
    const { sandbox: s, fake: f, store, deliveries, asked, close } = await heldFleet(4);
    try {
      // The four predictions take the same time: each slot is stored while the others are, so none sees the
      // rest ended while its image is stored; the one recorded last sees them all recorded.
      await s.waitFor(() => SENT_EARLY.test(output()), 30_000, "a slot's worker to send the grid");
      await deliveries.resume();
      const grid = await finalGrid(s, asked, 30_000);
      expect(grid.attachments).toHaveLength(4);
      await delivered(store, generationIdOf(grid));
      expect(f.creates).toHaveLength(4);
    } finally {
      await close();
    }
  }, 90_000);
});

async function editOriginal(s: DiscordSandbox, i: SandboxInteraction, body: Record<string, unknown>) {
  const url = `${s.apiUrl}/v10/webhooks/${s.applicationId}/${i.token}/messages/@original`;
  const response = await fetch(url, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}
