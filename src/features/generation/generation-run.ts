// One run of a generation: every open slot run in parallel as a prediction job (through a database outage), the
// member told on the way, the grid sent once the last image is being stored, and the generation settled.
import type { GenerationRow } from "../../db/repositories/generations-repo.ts";
import type { ImageRow } from "../../db/repositories/images-repo.ts";
import type { JobState } from "../../db/repositories/job-rows.ts";
import type { Inspected } from "../../files/file-store.ts";
import type { JobEvents } from "../../predictions/job-runner.ts";
import type { RowJobs } from "../../predictions/row-jobs.ts";
import {
  type GenerationView,
  isOpen,
  type LandedListener,
  type ProgressListener,
} from "./generation-view.ts";
import { type GridHoldDeps, LandedGrid } from "./grid-hold.ts";
import { QueuePlaces, RunProgress, type RunProgressDeps } from "./run-progress.ts";
import type { SlotJobs } from "./slot-jobs.ts";

export interface GenerationRunDeps extends GridHoldDeps, RunProgressDeps {
  jobs: RowJobs<GenerationRow>;
  slots: Pick<SlotJobs, "slotJob">;
  /** Settles the generation once no slot is open: as the settling transaction read it, or undefined. */
  finish(generationId: string): Promise<GenerationView | undefined>;
  view(generationId: string): Promise<GenerationView | undefined>;
}

/** Who hears of a run on its way (see ProgressListener and LandedListener); `onQueue` hears its place. */
export interface RunListeners {
  onProgress?: ProgressListener | undefined;
  onQueue?: ((ahead: number) => void) | undefined;
  onLanded?: LandedListener | undefined;
}

export class GenerationRun {
  private readonly generation: GenerationRow;
  /** The slots this run runs: those not ended when it began. */
  private readonly open: ImageRow[];
  private readonly queue: QueuePlaces;
  private readonly progress: RunProgress;
  private readonly grid: LandedGrid;

  constructor(
    private readonly deps: GenerationRunDeps,
    found: GenerationView,
    /** The slots' job states read beside the generation: each slot's first attempt starts from its state. */
    private readonly states: Map<string, JobState>,
    listeners: RunListeners,
  ) {
    this.generation = found.generation;
    this.open = found.images.filter(isOpen);
    this.queue = new QueuePlaces(listeners.onQueue);
    this.progress = new RunProgress(deps, this.generation, this.open, listeners.onProgress);
    this.grid = new LandedGrid(deps, this.generation, this.open, this.progress, listeners.onLanded);
  }

  /** Runs every open slot and settles the generation; what it recorded, as the member will be shown it. */
  async run(): Promise<GenerationView> {
    const { jobs } = this.deps;
    const generationId = this.generation.id;
    try {
      await Promise.all(this.open.map((image) => this.runSlot(image)));
      // The settling transaction's own reading when it settled the generation (no read again on the grid's path).
      const settled = jobs.stopped ? undefined : await this.deps.finish(generationId);
      await Promise.all([...this.progress.pending(), this.grid.reading()]);
      return settled ?? ((await this.deps.view(generationId)) as GenerationView);
    } finally {
      this.grid.release();
    }
  }

  /**
   * Runs a slot; when its result cannot be recorded because the database is away, says so and tries again (see
   * RowJobs.runThroughOutage). Then tells the grid and the member's progress that it ended.
   */
  private async runSlot(image: ImageRow): Promise<void> {
    const { jobs, logger } = this.deps;
    const events = this.queue.eventsFor(image.slot);
    const inspected: Inspected = (facts) => this.grid.storingImage(image.id, facts);
    try {
      await jobs.runThroughOutage(
        (tries) =>
          this.attempt(image, events, tries === 0 ? this.states.get(image.id) : undefined, inspected),
        (err, pause) => {
          logger.warn(
            { err, imageId: image.id, slot: image.slot, retryInMs: pause },
            "could not record the slot's result: the database is away; trying again",
          );
          this.progress.waitingOnStorage(image);
        },
      );
    } finally {
      this.grid.slotEnded(image.id);
    }
    // A slot that ended may complete the grid too; only a put waits on the grid's send, none here.
    this.grid.tell()?.catch(() => {});
    this.progress.slotEnded(image.slot);
    if (jobs.stopped || this.grid.out) return;
    this.progress.report(image.id, this.grid.endedCount);
  }

  /** One attempt at a slot; `state` is its job state as the run read it, known only to the first. */
  private async attempt(
    image: ImageRow,
    events: JobEvents,
    state: JobState | undefined,
    inspected: Inspected,
  ): Promise<void> {
    const job = await this.deps.slots.slotJob(image.id, this.deps.logger, {
      image,
      generation: this.generation,
      inspected,
    });
    if (job) await this.deps.jobs.run(job, events, state);
  }
}
