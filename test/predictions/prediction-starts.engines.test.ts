// Two runs of one prediction job, and a run whose record of its own create failed: the row records one
// prediction id, the first recorded, and no run leaves a second prediction running or sends a create twice.
// The real runner on the real rows, the real Replicate client against the fake Replicate server.
import { afterEach, describe, expect, it } from "vitest";
import type { ImageRow } from "../../src/db/repositories/images-repo.ts";
import { StorageUnavailableError } from "../../src/kit/errors.ts";
import { type PredictionJob, PredictionJobRunner } from "../../src/predictions/job-runner.ts";
import type { ImageRequest, StartedPrediction } from "../../src/providers/types.ts";
import { REQUEST, type Rig, startRig } from "../providers/replicate/support.ts";
import { captureLogger } from "../support/env.ts";

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const IMAGE: ImageRequest = { prompt: "a lighthouse keeper", aspectRatio: "1:1", slot: 1 };

/** A slot's job over its real row, with `markStarted` as the test makes it, and what it stored. */
function slotJob(
  r: Rig,
  slot: ImageRow,
  markStarted: (started: StartedPrediction) => Promise<boolean>,
): { job: PredictionJob<ImageRequest>; stored: string[] } {
  const rows = r.app.repos.images.jobs;
  const stored: string[] = [];
  const job: PredictionJob<ImageRequest> = {
    key: { kind: "image", id: slot.id },
    provider: r.provider,
    log: captureLogger().logger,
    state: () => rows.state(slot.id),
    request: async () => IMAGE,
    markCreateSent: (at, previous) => rows.markCreateSent(slot.id, at, previous),
    markStarted,
    heldElsewhere: async () => [],
    deadline: (now) => now + 20_000,
    store: async (output) => {
      stored.push(output);
      await r.app.repos.images.markFailed(slot.id, "bad_output", "stored by the test", Date.now());
    },
    fail: async (failure) => {
      throw failure;
    },
  };
  return { job, stored };
}

async function oneSlot(r: Rig): Promise<ImageRow> {
  const created = await r.generation.create({ ...REQUEST, count: 1 });
  if (!created.ok) throw new Error("refused");
  const [slot] = await r.app.repos.images.forGeneration(created.generationId);
  if (!slot) throw new Error("no slot");
  return slot;
}

describe("a job's prediction, recorded once", () => {
  it("waits on the prediction another run recorded first, and cancels its own at once", async () => {
    rig = await startRig();
    const r = rig;
    const slot = await oneSlot(r);
    const images = r.app.repos.images;
    // Another run holding the same job (a lapsed lock) created its prediction and records it first.
    const other = await r.provider.start(IMAGE);
    const { job, stored } = slotJob(r, slot, async (started) => {
      expect(await images.markStarted(slot.id, other.predictionId, other.model)).toBe(true);
      return images.markStarted(slot.id, started.predictionId, started.model);
    });
    const runner = new PredictionJobRunner({ limiter: r.app.limiter, clock: r.app.clock, pollMs: 10 });
    await runner.run(job);

    expect(r.fake.creates).toHaveLength(2);
    const own = r.fake.creates.find((c) => c.id !== other.predictionId);
    expect(r.fake.cancels).toEqual([own?.id]);
    expect((await images.jobs.state(slot.id))?.predictionId).toBe(other.predictionId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toContain(other.predictionId);
  });

  it("adopts its own prediction when the database went away as it was recorded, creating nothing again", async () => {
    rig = await startRig();
    const r = rig;
    const slot = await oneSlot(r);
    const images = r.app.repos.images;
    let away = true;
    const { job, stored } = slotJob(r, slot, async (started) => {
      if (away) {
        away = false;
        throw new StorageUnavailableError("DATABASE_URL", "the database does not answer");
      }
      return images.markStarted(slot.id, started.predictionId, started.model);
    });
    const runner = new PredictionJobRunner({ limiter: r.app.limiter, clock: r.app.clock, pollMs: 10 });
    await expect(runner.run(job)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect((await images.jobs.state(slot.id))?.createSentAt).not.toBeNull();

    // The attempt again, in the same process: Replicate's list skips this process's own creates.
    await runner.run(job);
    expect(r.fake.creates).toHaveLength(1);
    expect((await images.jobs.state(slot.id))?.predictionId).toBe(r.fake.creates[0]?.id);
    expect(stored[0]).toContain(r.fake.creates[0]?.id);
  });
});
