// One slot run as a shared queue's job (ROLE=worker), and the grid sent from the worker whose slot ends the
// generation, without waiting for the slot's job to end and the generation's delivery job to be taken:
// - while the slot's image is stored, when the rows say every other slot has ended: its image is sent from
//   memory, the others read from storage, and the put waits a moment for the grid, as a single process does;
// - otherwise once the slot is recorded, when the rows say every slot has ended. Of slots recorded at the same
//   moment, the last one recorded always sees the rest ended (its read comes after every commit, on the one
//   primary the fleet writes to); two that both see it are told both, and EarlyGrids lets one of them send.
import type { GenerationRow, GenerationsRepo } from "../../db/repositories/generations-repo.ts";
import type { ImageRow, ImagesRepo, StoredFileFacts } from "../../db/repositories/images-repo.ts";
import { within } from "../../kit/clock.ts";
import type { Logger } from "../../kit/logger.ts";
import type { RowJobs } from "../../predictions/row-jobs.ts";
import { isOpen, type LandedListener } from "./generation-view.ts";
import { GRID_HOLD_MS, type GridHoldDeps } from "./grid-hold.ts";
import type { SlotJobs } from "./slot-jobs.ts";

/** How a queued slot's run went: `ended` when it had ended before (a job run again); `missing`: no such slot. */
export type QueuedSlotRun = "ran" | "ended" | "missing";

export interface QueuedSlotDeps extends Omit<GridHoldDeps, "settling"> {
  jobs: RowJobs<GenerationRow>;
  slots: Pick<SlotJobs, "slotJob">;
  images: Pick<ImagesRepo, "get" | "forGeneration">;
  generations: Pick<GenerationsRepo, "get">;
}

/**
 * Runs one slot's prediction job to its end. With `onLanded`, tells the grid when this slot ends the generation;
 * the slot's job ends once the grid is sent.
 */
export async function runQueuedSlot(
  deps: QueuedSlotDeps,
  imageId: string,
  log: Logger | undefined,
  onLanded: LandedListener | undefined,
): Promise<QueuedSlotRun> {
  const image = await deps.images.get(imageId);
  const generation = image && (await deps.generations.get(image.generationId));
  if (!image || !generation) return "missing";
  if (!isOpen(image)) return "ended";
  let told: Promise<unknown> | undefined;
  const tell = (storing?: StoredFileFacts) => {
    told = onLanded && whenLast(deps, generation, storing && { id: imageId, facts: storing }, onLanded);
    return told;
  };
  const job = await deps.slots.slotJob(imageId, log, {
    image,
    generation,
    inspected: (facts) => {
      if (deps.jobs.stopped) return undefined;
      const grid = tell(facts);
      const { jobs, files } = deps;
      if (!grid || !files.objects.putUploads || jobs.storingContended) return undefined;
      return within(grid, GRID_HOLD_MS, jobs.signal);
    },
  });
  if (!job) return "missing";
  try {
    await deps.jobs.run(job);
  } finally {
    // The grid's send, if it began, ends before the slot's job does: the delivery job never overtakes it.
    await told;
  }
  // Not told while stored (another slot was still being stored then): the rows may say so now.
  if (!deps.jobs.stopped && !(told && (await told))) await tell();
  return "ran";
}

/**
 * The grid, told when no slot of the generation is open any more (`storing`, being stored here, shown as it
 * will be recorded); what the listener returned, or undefined when a slot is still open.
 */
async function whenLast(
  deps: Pick<QueuedSlotDeps, "images" | "clock" | "logger">,
  generation: GenerationRow,
  storing: { id: string; facts: StoredFileFacts } | undefined,
  onLanded: LandedListener,
): Promise<unknown> {
  const at = deps.clock.now();
  try {
    const rows = await deps.images.forGeneration(generation.id);
    const images = rows.map(
      (i): ImageRow =>
        storing && i.id === storing.id && i.status !== "failed"
          ? { ...i, ...storing.facts, status: "succeeded", finishedAt: at }
          : i,
    );
    if (images.some(isOpen)) return undefined;
    return (await onLanded({ generation, images })) ?? true;
  } catch (err) {
    deps.logger.warn({ err, generationId: generation.id }, "could not read the generation for its grid");
    return undefined;
  }
}
