// One prediction job, the unit of work for an image slot or a video: wait for a place under the limiter,
// create the prediction once (or find the one a stopped run's create made), wait for its output, store it,
// record how it ended. The job is keyed by its row; everything it needs is read from there when it runs.
import { setMaxListeners } from "node:events";
import type { JobState } from "../db/repositories/job-rows.ts";
import type { Clock } from "../kit/clock.ts";
import { StorageUnavailableError } from "../kit/errors.ts";
import { type PredictionFailure, recordableFailure } from "../kit/failures.ts";
import { Limiter } from "../kit/limiter.ts";
import type { Logger } from "../kit/logger.ts";
import { trace } from "../kit/trace.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { PredictionProvider, StartedPrediction } from "../providers/types.ts";
import { awaitOutput, type WaitOptions } from "./await-prediction.ts";
import { LatencyEstimate } from "./latency.ts";
import { isDatabaseAway } from "./outage.ts";
import { PollTicks } from "./poll-ticks.ts";
import { hasEnded, PredictionStarts } from "./prediction-starts.ts";

export type { JobState };

export type JobKind = "image" | "video";

/** What a queue carries for a job: its kind and its row's id (an image slot's or a video's). */
export interface JobKey {
  kind: JobKind;
  id: string;
}

/** What an image slot and a video do differently; their services build one for a row. */
export interface PredictionJob<Request> {
  readonly key: JobKey;
  readonly provider: PredictionProvider<Request>;
  readonly log: Logger;
  /** The row as it is now; undefined when it is gone. */
  state(): Promise<JobState | undefined>;
  /** The request a create sends, and that a lost create is looked up by. */
  request(): Promise<Request>;
  /**
   * Records, before the create leaves, that it is being sent: a restart then looks for the prediction instead
   * of creating it again. False when the row already has one sent or a prediction id; with `previous`, false
   * unless the create marked sent then is still the row's (it was found never made, and is replaced).
   */
  markCreateSent(at: number, previous?: number): Promise<boolean>;
  /**
   * Records the prediction id, created or adopted, the moment it is known; false when the row has ended or
   * records another run's prediction already (the first one recorded wins).
   */
  markStarted(started: StartedPrediction): Promise<boolean>;
  /** Prediction ids other rows hold that may have been created since `since`: never adopted for this row. */
  heldElsewhere(since: number): Promise<string[]>;
  /** When to give up waiting on the prediction, given the time it starts to be waited on. */
  deadline(now: number): number;
  /** Stores the output and records success, with the prediction's own running time when the provider gave it. */
  store(output: string, data: Uint8Array, predictMs?: number): Promise<void>;
  /** Records a failure, with whatever goes with it (its refund). */
  fail(failure: PredictionFailure): Promise<void>;
}

export interface JobEvents {
  /** How many jobs wait ahead of this one for a place, each time that number changes. */
  queued?: (ahead: number) => void;
  /** The job has its place and starts. */
  started?: () => void;
  /** Each status check while the prediction runs. */
  polled?: () => void;
}

export interface PredictionJobRunnerOptions {
  limiter: Limiter;
  clock: Clock;
  pollMs: number;
  /** With Replicate's webhooks on: completions wake the waits, and polling slows to a safety net. */
  webhooks?: WaitOptions["webhooks"];
  /** Hears how each job that ran ended (not one a stop cut short) and the storage errors it met. */
  metrics?: Pick<Metrics, "predictionEnded" | "storageError">;
  /**
   * Recorded running times of a model's latest predictions (oldest first), read once per model so that the
   * first job after a start polls as well-paced as later ones.
   */
  history?: (model: string) => Promise<readonly number[]>;
  /** The fast-poll ticks the application context's waits share (see PollTicks); without them, the runner's own. */
  ticks?: PollTicks;
}

/**
 * Outputs stored at once per runner. A store is a few ms of hashing and one write (fsync, or an S3 put), which
 * a busy disk or network makes take hundreds of ms, and concurrent fsyncs share the file system's journal
 * commits; each holds its image in memory (16 × a 1.3 MB PNG is about 21 MB).
 */
export const STORING_AT_ONCE = 16;

/** How many recorded running times a model's estimate starts from. */
export const HISTORY_SIZE = 20;

/** A job's prediction as its run waits on it: created, adopted or recorded before, and when its create left. */
export interface StartedJob {
  predictionId: string;
  model: string | null;
  sentAt?: number | undefined;
}

/** What one run of a job learnt on its way: for its metrics, and for the store after its limiter turn. */
interface JobRecord {
  /** Whether the job waited for its place: only then can its row have changed since it was read. */
  waited: boolean;
  /** When the job got its place (monotonic, for its duration). */
  began?: number;
  /** The model the job ran on, once known (for the metrics: no read of the row again). */
  model?: string | null;
  /** The downloaded output, stored once the prediction's place is given up, and the storing place it holds. */
  finished?: { output: string; data: Uint8Array; predictMs: number | undefined };
  releaseStoring?: () => void;
}

/** Runs a service's prediction jobs; stopping it leaves every unfinished job resumable. */
export class PredictionJobRunner {
  /** Aborted on shutdown: running jobs stop waiting and stay resumable, nothing is marked failed. */
  private readonly stopping = new AbortController();
  /** Outputs being stored at once, after their predictions gave up their places. */
  private readonly storing = new Limiter(STORING_AT_ONCE);

  /** Whether downloaded outputs wait for a storing place now: a store should then not wait on anything else. */
  get storingContended(): boolean {
    return this.storing.waiters > 0;
  }
  /** How long each model's predictions usually take; paces polling. */
  private readonly latency = new Map<string, LatencyEstimate>();
  /** The fast-poll ticks every wait of this runner joins (the application context's, when it gives them). */
  private readonly ticks: PollTicks;
  /** How a job's prediction is started, or found again after a stopped run's create. */
  private readonly starts: PredictionStarts;

  constructor(private readonly options: PredictionJobRunnerOptions) {
    this.ticks = options.ticks ?? new PollTicks();
    this.starts = new PredictionStarts(options.clock);
    // Every prediction being waited on listens for the stop; hundreds at once are expected, not a leak.
    setMaxListeners(0, this.stopping.signal);
  }

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Aborted when the runner stops: for waits of the runner's callers that must end with it. */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  /** Stops waiting on predictions so the process can exit; their rows stay resumable. */
  stop(): void {
    this.stopping.abort(new Error("shutting down"));
  }

  /**
   * Runs a job to its end: a row with a prediction id is polled, one whose create was sent but never answered
   * is recovered from the provider (adopted, or created once the provider surely never had it), and only a
   * row with neither is created. Resolves when the row records the end, or when a stop cut the wait short (the row stays open).
   */
  async run<Request>(
    job: PredictionJob<Request>,
    events: JobEvents = {},
    /** The row's state when the caller has just read it: not read again. */
    known?: JobState,
  ): Promise<void> {
    const signal = this.stopping.signal;
    const before = known ?? (await job.state());
    if (hasEnded(before)) return;
    const record: JobRecord = { waited: false };
    /** How the job ended, for the metrics. */
    let status: string | undefined;
    try {
      await this.options.limiter.run(
        () => this.predict(job, events, before, record),
        (ahead) => {
          record.waited = true;
          events.queued?.(ahead);
        },
      );
      if (record.finished) {
        const { output, data, predictMs } = record.finished;
        await job.store(output, data, predictMs);
        trace("slot.recorded", { imageId: job.key.id });
        status = "succeeded";
      }
    } catch (err) {
      if (signal.aborted) return;
      status = await this.recordFailure(job, err);
    } finally {
      record.releaseStoring?.();
    }
    if (status && record.began !== undefined) this.report(job, status, record.began, record.model);
  }

  /**
   * The job's turn under the limiter: its prediction started (or found again), waited on and its output
   * downloaded. The output is stored after the turn, in one of the few storing places this takes.
   */
  private async predict<Request>(
    job: PredictionJob<Request>,
    events: JobEvents,
    before: JobState | undefined,
    record: JobRecord,
  ): Promise<void> {
    const signal = this.stopping.signal;
    events.started?.();
    const state = record.waited ? await job.state() : before;
    if (!state || hasEnded(state)) return;
    record.began = performance.now();
    record.model = state.model;
    // The history is read while the create is under way; the first wait needs it, the create does not.
    const configured = state.model ? this.latencyFor(state.model) : undefined;
    const started: StartedJob = state.predictionId
      ? { predictionId: state.predictionId, model: state.model, sentAt: state.createSentAt ?? undefined }
      : await this.starts.startOrRecover(job, state, signal);
    const { predictionId } = started;
    record.model = started.model ?? record.model;
    const latency = started.model ? this.latencyFor(started.model) : configured;
    const { output, predictMs } = await this.awaitJobOutput(job, started, latency, events);
    const slot = { imageId: job.key.id, predictionId };
    trace("slot.noticed", slot);
    const data = await job.provider.fetchOutput(output, signal);
    trace("slot.downloaded", slot);
    // The prediction is over and its output is here: its place under MAX_CONCURRENT_PREDICTIONS goes to the
    // next job while this one is stored (a slow disk's fsync or an S3 put no longer holds a Replicate
    // slot), once one of the few storing places is free, so downloaded outputs never pile up in memory.
    record.releaseStoring = await this.storing.acquire();
    record.finished = { output, data, predictMs };
  }

  /** The output of the job's prediction, and its own running time when the provider gave it. */
  private async awaitJobOutput<Request>(
    job: PredictionJob<Request>,
    started: StartedJob,
    latency: LatencyEstimate | undefined,
    events: JobEvents,
  ): Promise<{ output: string; predictMs: number | undefined }> {
    const { clock, pollMs } = this.options;
    let predictMs: number | undefined;
    const output = await awaitOutput(job.provider, started.predictionId, {
      // Paced from when the create left, not from when its answer (and the row's record) came back: under
      // load those take a while, and a prediction counted from then finishes before it is thought due.
      ...(started.sentAt === undefined ? {} : { startedAt: Math.min(started.sentAt, clock.now()) }),
      deadline: job.deadline(clock.now()),
      pollMs,
      clock,
      signal: this.stopping.signal,
      ...(latency ? { latency } : {}),
      onRunningTime: (ms) => {
        predictMs = ms;
      },
      ...(events.polled ? { onPoll: events.polled } : {}),
      ...(this.options.webhooks ? { webhooks: this.options.webhooks } : {}),
      ticks: this.ticks,
    });
    return { output, predictMs };
  }

  /** Records how a job that ran failed; what it records it as, for the metrics. */
  private async recordFailure<Request>(job: PredictionJob<Request>, err: unknown): Promise<string> {
    if (err instanceof StorageUnavailableError) this.options.metrics?.storageError(err.variable);
    // The database away (past the data layer's own retries): nothing can be recorded, and the prediction may
    // well have succeeded. The row stays as it is, open, for the caller to run again once the database is
    // back (a queue's retry, the generation's own, or the next start); a run again never creates twice.
    if (isDatabaseAway(err)) throw err;
    const failure = recordableFailure(err, job.log, job.key.kind);
    await job.fail(failure);
    return failure.code;
  }

  /** Reads `model`'s recorded history now, so the first job after a start finds its estimate ready. */
  warm(model: string): void {
    this.latencyFor(model);
  }

  /** What the runner expects of `model`'s predictions, once its history is read. */
  async estimate(model: string): Promise<{ expectedMs: number | undefined; spreadMs: number }> {
    const estimate = this.latencyFor(model);
    await estimate.ready;
    return { expectedMs: estimate.expectedMs, spreadMs: estimate.spreadMs };
  }

  /** The estimate for `model`, made (and seeded from its recorded history) on first use. */
  private latencyFor(model: string): LatencyEstimate {
    let estimate = this.latency.get(model);
    if (!estimate) {
      estimate = new LatencyEstimate();
      const { history } = this.options;
      if (history) estimate.seed(history(model));
      this.latency.set(model, estimate);
    }
    return estimate;
  }

  /**
   * Counts a job that ran to its end, with the model it ran on as its start recorded it (known here: reading
   * the row again for it was one more query per slot).
   */
  private report<Request>(
    job: PredictionJob<Request>,
    status: string,
    began: number,
    model: string | null | undefined,
  ): void {
    this.options.metrics?.predictionEnded(
      job.key.kind,
      model ?? "none",
      status,
      (performance.now() - began) / 1000,
    );
  }
}
