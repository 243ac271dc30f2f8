// What a running generation tells its member on the way: each slot as it settles (with the slots an outage keeps
// from being recorded), and how many predictions wait ahead of it.
import type { GenerationRow } from "../../db/repositories/generations-repo.ts";
import type { ImageRow, ImagesRepo } from "../../db/repositories/images-repo.ts";
import type { Logger } from "../../kit/logger.ts";
import type { JobEvents } from "../../predictions/job-runner.ts";
import type { GenerationView, ProgressListener } from "./generation-view.ts";

export interface RunProgressDeps {
  images: Pick<ImagesRepo, "forGeneration">;
  logger: Logger;
}

/** A progress report's slots, and how many slots had ended when it was read. */
export interface ReportedSlots {
  images: ImageRow[];
  ended: number;
}

/**
 * Each slot's progress report reads the generation after the slot settles; the last one's read runs beside the
 * settling transaction instead of before it (the grid that follows supersedes that report anyway), and a slot
 * recorded after the grid went out has none (two reads per /character, in the moments that grid and the next
 * member's request share).
 */
export class RunProgress {
  /** The generation as this run last read it: what the member is shown while the database is away. */
  private latest: GenerationView;
  /** The slots an outage keeps from being recorded. */
  private readonly outage = new Set<number>();
  /** The reports being read; the run ends after them. */
  private readonly reports: Array<Promise<void>> = [];
  /** The newest report's slots: the grid needs no read of its own when no slot ended since. */
  private newest: ReportedSlots | undefined;

  constructor(
    private readonly deps: RunProgressDeps,
    private readonly generation: GenerationRow,
    open: ImageRow[],
    private readonly onProgress: ProgressListener | undefined,
  ) {
    this.latest = { generation, images: open };
  }

  get reported(): ReportedSlots | undefined {
    return this.newest;
  }

  /** A slot's result could not be recorded, the database being away: told at once, on the last reading. */
  waitingOnStorage(image: ImageRow): void {
    this.outage.add(image.slot);
    this.tell(this.latest, image);
  }

  /** The slot's run ended: whatever it met, no outage holds it any longer. */
  slotEnded(slot: number): void {
    this.outage.delete(slot);
  }

  /** Reads the generation for a report on the slot that settled, `endedThen` slots having ended. */
  report(imageId: string, endedThen: number): void {
    if (!this.onProgress) return;
    this.reports.push(
      this.read(imageId, (view, settled) => {
        this.latest = view;
        if (!this.newest || endedThen >= this.newest.ended) {
          this.newest = { images: view.images, ended: endedThen };
        }
        this.tell(view, settled);
      }),
    );
  }

  /** The reports being read, for the run to end after them. */
  pending(): Array<Promise<void>> {
    return this.reports;
  }

  private tell(view: GenerationView, settled: ImageRow): void {
    try {
      this.onProgress?.({ ...view, waitingOnStorage: [...this.outage].sort() }, settled);
    } catch (err) {
      this.deps.logger.error({ err, generationId: this.generation.id }, "progress listener failed");
    }
  }

  /** Only the slots are read: what a progress view shows of the generation itself never changes while it runs. */
  private async read(imageId: string, told: ProgressListener): Promise<void> {
    try {
      const view = {
        generation: this.generation,
        images: await this.deps.images.forGeneration(this.generation.id),
      };
      const settled = view.images.find((i) => i.id === imageId);
      if (settled) told(view, settled);
    } catch (err) {
      this.deps.logger.error({ err, generationId: this.generation.id }, "progress listener failed");
    }
  }
}

/** How many predictions wait ahead of a generation's first waiting slot; told to its member as it changes. */
export class QueuePlaces {
  /** How many wait ahead of each slot that waits for its place, by slot. */
  private readonly waiting = new Map<number, number>();
  /** The number last told: 0 once none of the generation's slots wait. */
  private shown: number | undefined;

  constructor(private readonly onQueue: ((ahead: number) => void) | undefined) {}

  /** What slot `slot`'s job tells of its place. */
  eventsFor(slot: number): Required<Pick<JobEvents, "queued" | "started">> {
    return {
      queued: (ahead) => {
        this.waiting.set(slot, ahead);
        this.report();
      },
      started: () => {
        if (this.waiting.delete(slot)) this.report();
      },
    };
  }

  private report(): void {
    const ahead = this.waiting.size === 0 ? 0 : Math.min(...this.waiting.values());
    if (ahead !== this.shown) {
      this.shown = ahead;
      this.onQueue?.(ahead);
    }
  }
}
