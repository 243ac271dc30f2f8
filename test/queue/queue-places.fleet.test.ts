// A waiting request's place on the real Redis, with the real rows: the jobs a worker has taken whose prediction is
// not yet made start before it, so they count as ahead of it, a create on its way too; once the prediction is
// recorded they do not.
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import type { AppContext } from "../../src/features/context.ts";
import { jobIdOf, SharedJobQueue } from "../../src/queue/job-queue.ts";
import { PLACES_FRESH_MS, type QueuePlace } from "../../src/queue/queue-places.ts";
import { REQUEST } from "../providers/replicate/support.ts";
import { captureLogger, makeTempDir, testConfig } from "../support/env.ts";
import { removeKeys, TEST_REDIS_URL, testQueuePrefix } from "../support/redis.ts";

let cleanUp: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanUp.reverse()) await step();
  cleanUp = [];
});

/** The bot's context on a temp directory with the shared queue, as a gateway has it, and a bare BullMQ worker. */
async function rig(): Promise<{ app: AppContext; jobs: SharedJobQueue; worker: Worker }> {
  const prefix = testQueuePrefix();
  const { logger } = captureLogger();
  const jobs = await SharedJobQueue.open(
    { redisUrl: TEST_REDIS_URL, prefix, lockMs: 30_000, concurrency: 8, createsPerMinute: 600 },
    logger,
  );
  const dir = makeTempDir();
  const app = await createAppContext(testConfig(dir.path), logger, { jobs });
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  // Takes jobs only when told (getNextJob), as a worker's fetch does, and never runs them.
  const worker = new Worker("predictions", null, { connection, prefix, autorun: false });
  cleanUp.push(async () => {
    await worker.close();
    connection.disconnect();
    await app.close();
    await removeKeys(prefix);
    dir.remove();
  });
  return { app, jobs, worker };
}

/** The place after the shared read lapses. */
async function placeOf(jobs: SharedJobQueue, imageId: string): Promise<QueuePlace | undefined> {
  await new Promise((r) => setTimeout(r, PLACES_FRESH_MS + 50));
  return jobs.places.place([jobIdOf({ kind: "image", id: imageId })]);
}

describe("a queued request's place", () => {
  it("counts the jobs a worker took until their prediction is made, and not once it is", async () => {
    const { app, jobs, worker } = await rig();
    const created = await app.generation.create({ ...REQUEST, count: 4 });
    if (!created.ok) throw new Error("refused");
    const slots = (await app.repos.images.forGeneration(created.generationId)).map((s) => s.id);
    await jobs.enqueueGeneration(created.generationId, slots);
    const last = slots[3] as string;
    const queued = await placeOf(jobs, last);
    expect(queued?.ahead).toBe(3);

    // Two jobs taken together, as a create window opens: both still start before the last slot.
    const first = await worker.getNextJob("token-1");
    const second = await worker.getNextJob("token-2");
    expect([first?.id, second?.id]).toEqual(slots.slice(0, 2).map((id) => jobIdOf({ kind: "image", id })));
    const taken = await placeOf(jobs, last);
    expect(taken?.ahead).toBe(3);
    // Their creates leave in the window they were taken in: the wait is the one waiting job's, a third of before
    // (the pace is still the create rate's ceiling, with under 10 s of history).
    expect(Math.abs((taken?.expectedWaitMs ?? 0) - (queued?.expectedWaitMs ?? 0) / 3)).toBeLessThanOrEqual(1);

    // One create sent, not answered yet: it may reach Replicate after the place reaches the member, so it counts.
    expect(await app.repos.images.jobs.markCreateSent(slots[0] as string, Date.now())).toBe(true);
    expect((await placeOf(jobs, last))?.ahead).toBe(3);
    // Its prediction made: that job no longer waits to start.
    expect(await app.repos.images.markStarted(slots[0] as string, "pred-1", "google/imagen-4")).toBe(true);
    expect((await placeOf(jobs, last))?.ahead).toBe(2);
    // A taken job whose row ended (a job run again after its slot failed) starts nothing.
    await app.repos.images.markFailed(slots[1] as string, "bad_output", "ended by the test", Date.now());
    expect((await placeOf(jobs, last))?.ahead).toBe(1);
    // A job that has started is no longer placed: its worker's edits say how far it got.
    expect(await placeOf(jobs, slots[0] as string)).toBeUndefined();
  });
});
