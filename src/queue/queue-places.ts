// A waiting request's place in the fleet's queue: the prediction jobs that will start before its own. Those are
// the jobs waiting ahead of it, and the jobs a worker has already taken whose prediction is not yet made: the
// create rate limit lets a window's jobs be taken together, and each one's create reaches the provider a moment
// later, after its worker read and marked its row and the request crossed the network. Without the second part
// a place read as a window opens is short by up to a window.
import type { Queue } from "bullmq";
import { within } from "../kit/clock.ts";
import type { Logger } from "../kit/logger.ts";
import type { JobKind } from "../predictions/job-runner.ts";
import { sustainedPerSecond } from "./create-rate.ts";
import { DrainRate } from "./drain-rate.ts";

/** How long one read of the queue answers every waiting request's place. */
export const PLACES_FRESH_MS = 250;
/** How long a read waits for the taken jobs' count (the database) before it keeps the last one counted. */
const TAKEN_WAIT_MS = 500;

/** The rows of one kind of job: how many of `ids` are open with no prediction recorded (JobRows.countUncreated). */
export interface UncreatedRows {
  countUncreated(ids: string[]): Promise<number>;
}

/** A waiting request's place: the jobs that start before it, and the wait expected for them. */
export interface QueuePlace {
  ahead: number;
  expectedWaitMs: number;
}

interface Read {
  /** The ids waiting in the predictions queue, in order. */
  waiting: string[];
  /** Jobs taken by a worker whose prediction is not yet made. */
  taken: number;
}

export class QueuePlaces {
  /** The latest read, shared by every waiting request's place check. */
  private latest: { at: number; read: Promise<Read>; settled: boolean } | undefined;
  /** The last count of taken jobs: kept while a new one cannot be had, so a shown place does not jump. */
  private lastTaken = 0;
  /** How fast the wait list drained over the last minute, learnt from those reads: each place's expected wait. */
  private readonly pace: DrainRate;
  private rows: Record<JobKind, UncreatedRows> | undefined;

  constructor(
    private readonly predictions: Queue,
    createsPerMinute: number,
    private readonly logger: Logger,
  ) {
    this.pace = new DrainRate(sustainedPerSecond(createsPerMinute));
  }

  /** The rows a taken job's create is looked up in; without them, only waiting jobs count as ahead. */
  countTakenBy(rows: Record<JobKind, UncreatedRows>): void {
    this.rows = rows;
  }

  /**
   * How many prediction jobs will start ahead of `jobIds`, fleet-wide, while every one of them still waits, and
   * how long that can be expected to take at the last minute's pace; undefined once any has started (its
   * worker's edits say how far it got) or ended. The wait counts the waiting jobs ahead only: a taken job's
   * create is made within moments, in the window it was taken in, and the pace is the wait list's own.
   */
  async place(jobIds: string[]): Promise<QueuePlace | undefined> {
    let read = await this.read(false);
    // A read a moment ago may predate these jobs (requests arriving together): one missing is looked for in a
    // fresh read before it counts as started.
    if (jobIds.some((id) => !read.waiting.includes(id))) read = await this.read(true);
    const places = jobIds.map((id) => read.waiting.indexOf(id));
    if (places.length === 0 || places.includes(-1)) return undefined;
    const waitingAhead = Math.min(...places);
    return { ahead: waitingAhead + read.taken, expectedWaitMs: this.pace.waitMs(waitingAhead) };
  }

  /**
   * The queue, read at most every PLACES_FRESH_MS, and never again while a read is under way, unless `fresh`
   * (a read begun before a request's jobs were enqueued cannot place them).
   */
  private read(fresh: boolean): Promise<Read> {
    const now = Date.now();
    const latest = this.latest;
    if (fresh || !latest || (latest.settled && now - latest.at > PLACES_FRESH_MS)) {
      const read = this.readNow(now);
      const next = { at: now, read, settled: false };
      const settle = () => {
        next.settled = true;
      };
      read.then(settle, settle);
      this.latest = next;
    }
    return (this.latest as { read: Promise<Read> }).read;
  }

  private async readNow(now: number): Promise<Read> {
    const waiting = await this.predictions.getRanges(["wait", "prioritized"], 0, -1, true);
    this.pace.observe(waiting, now);
    return { waiting, taken: await this.taken(new Set(waiting)) };
  }

  /**
   * Jobs a worker holds whose prediction is not yet made: a create marked sent but not answered counts (it may
   * reach the provider after the place reaches the member). A job still in `waiting` (taken between the two reads, a
   * request's own among them) is placed there, not counted again. When the count fails or the database is slow,
   * the last one stands: the place is a courtesy, and one that dropped and rose again would mislead.
   */
  private async taken(waiting: ReadonlySet<string>): Promise<number> {
    const rows = this.rows;
    if (!rows) return 0;
    const counted = this.countTaken(rows, waiting).then(
      (n) => {
        this.lastTaken = n;
      },
      (err: unknown) =>
        this.logger.debug({ err }, "could not count the taken jobs ahead of the waiting ones"),
    );
    await within(counted, TAKEN_WAIT_MS);
    return this.lastTaken;
  }

  private async countTaken(
    rows: Record<JobKind, UncreatedRows>,
    waiting: ReadonlySet<string>,
  ): Promise<number> {
    const active = await this.predictions.getRanges(["active"], 0, -1, true);
    const byKind: Record<JobKind, string[]> = { image: [], video: [] };
    for (const jobId of active) {
      const [kind, id] = splitJobId(jobId);
      if (kind && !waiting.has(jobId)) byKind[kind].push(id);
    }
    const [images, videos] = await Promise.all([
      byKind.image.length ? rows.image.countUncreated(byKind.image) : 0,
      byKind.video.length ? rows.video.countUncreated(byKind.video) : 0,
    ]);
    return images + videos;
  }
}

/** `image-<uuid>` or `video-<uuid>` (jobIdOf), split; no kind for any other id. */
function splitJobId(jobId: string): [JobKind | undefined, string] {
  const dash = jobId.indexOf("-");
  const kind = jobId.slice(0, dash);
  const id = jobId.slice(dash + 1);
  return kind === "image" || kind === "video" ? [kind, id] : [undefined, id];
}
