// The grid of a running generation, told once every open slot has ended or is being stored, so it goes out while
// the last image is stored; where a put is an upload, that image's put waits a moment for the grid's send.
import type { GenerationRow } from "../../db/repositories/generations-repo.ts";
import type { ImageRow, ImagesRepo, StoredFileFacts } from "../../db/repositories/images-repo.ts";
import type { FileStore } from "../../files/file-store.ts";
import { type Clock, within } from "../../kit/clock.ts";
import type { Logger } from "../../kit/logger.ts";
import type { RowJobs } from "../../predictions/row-jobs.ts";
import { isOpen, type LandedListener } from "./generation-view.ts";
import type { ReportedSlots } from "./run-progress.ts";
import type { SettlingRuns } from "./settling-runs.ts";

/**
 * How long the last image's put waits for the grid that carries it (see LandedListener): a press on the grid
 * meanwhile waits for the row (whenStored), and a crash meanwhile leaves the slot to be stored again from its
 * recorded prediction at the next start.
 */
export const GRID_HOLD_MS = 1_000;

export interface GridHoldDeps {
  jobs: Pick<RowJobs<GenerationRow>, "stopped" | "signal" | "storingContended">;
  images: Pick<ImagesRepo, "forGeneration">;
  files: Pick<FileStore, "objects">;
  /** Where the member's next request finds this run while its grid is out and its last images are stored. */
  settling: Pick<SettlingRuns, "hold">;
  clock: Clock;
  logger: Logger;
}

export class LandedGrid {
  /** Slots whose run ended. */
  private readonly ended = new Set<string>();
  /** Slots whose image passed its checks and is being stored, with what it will be stored as. */
  private readonly storing = new Map<string, StoredFileFacts>();
  /** Whether the grid was told (or there is no one to tell). */
  private told: boolean;
  /** The grid went out: progress reports after it would only be read and dropped. */
  private sent = false;
  /** Lets the member's next request go on, once this run settled. */
  private releaseSettling: (() => void) | undefined;
  /** The read for the grid, when one was needed: the run ends after it, so the grid is never overtaken. */
  private read: Promise<void> | undefined;

  constructor(
    private readonly deps: GridHoldDeps,
    private readonly generation: GenerationRow,
    private readonly open: readonly ImageRow[],
    /** The newest progress report: when no slot ended since it was read, the grid is made from it. */
    private readonly progress: { readonly reported: ReportedSlots | undefined },
    private readonly onLanded: LandedListener | undefined,
  ) {
    this.told = !onLanded;
  }

  get out(): boolean {
    return this.sent;
  }

  get endedCount(): number {
    return this.ended.size;
  }

  /**
   * A slot's image passed its checks and is being stored: the grid may go out now. What its put waits for: the
   * grid's send, held only where a put is an upload, and never while other outputs wait for a storing place (the
   * hold keeps this one's).
   */
  storingImage(imageId: string, facts: StoredFileFacts): undefined | Promise<void> {
    this.storing.set(imageId, facts);
    const grid = this.tell();
    const { jobs, files } = this.deps;
    if (!grid || !files.objects.putUploads || jobs.storingContended) {
      grid?.catch(() => {});
      return undefined;
    }
    return within(grid, GRID_HOLD_MS, jobs.signal);
  }

  slotEnded(imageId: string): void {
    this.ended.add(imageId);
    this.storing.delete(imageId);
  }

  /** Tells the grid once every open slot has ended or is being stored; what the listener returned for it. */
  tell(): Promise<unknown> | undefined {
    if (this.told || this.storing.size === 0 || this.deps.jobs.stopped) return;
    if (this.open.some((i) => !this.ended.has(i.id) && !this.storing.has(i.id))) return;
    this.told = true;
    this.releaseSettling = this.deps.settling.hold(this.generation.userId);
    const stored = new Map(this.storing);
    const at = this.deps.clock.now();
    // A progress report read after every slot that has ended had ended has their final rows (deletions up
    // to a moment ago included, as any grid has): no read again. Otherwise only the slots are read; what the
    // grid shows of the generation itself never changes while it runs.
    const reported = this.progress.reported;
    if (reported && reported.ended >= this.ended.size) return this.send(reported.images, stored, at);
    let sending: Promise<unknown> | undefined;
    this.read = this.deps.images.forGeneration(this.generation.id).then(
      (rows) => {
        sending = this.send(rows, stored, at);
      },
      (err: unknown) =>
        this.deps.logger.warn(
          { err, generationId: this.generation.id },
          "could not read the generation for its grid",
        ),
    );
    return this.read.then(() => sending);
  }

  /** The read the grid needed, if any: the run ends after it. */
  reading(): Promise<void> | undefined {
    return this.read;
  }

  /** The run settled: the member's next request need not wait for it. */
  release(): void {
    this.releaseSettling?.();
  }

  /** The slots being stored shown succeeded (as they will be recorded), unless one is still open. */
  private send(
    rows: ImageRow[],
    stored: Map<string, StoredFileFacts>,
    at: number,
  ): Promise<unknown> | undefined {
    if (this.deps.jobs.stopped) return;
    const images = rows.map((i): ImageRow => {
      const facts = stored.get(i.id);
      return facts && i.status !== "failed" ? { ...i, ...facts, status: "succeeded", finishedAt: at } : i;
    });
    if (images.some(isOpen)) return;
    this.sent = true;
    return this.onLanded?.({ generation: this.generation, images });
  }
}
