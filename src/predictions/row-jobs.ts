// The prediction jobs of one kind of row, image slots or videos, as their services share them: the runner, the
// job columns every job reads and writes the same way, a run carried through a database outage, and the marks
// of the rows whose results go to Discord.
import type { JobRows } from "../db/repositories/job-rows.ts";
import type { Clock } from "../kit/clock.ts";
import type { StorageUnavailableError } from "../kit/errors.ts";
import type { Limiter } from "../kit/limiter.ts";
import type { WaitOptions } from "./await-prediction.ts";
import {
  type JobEvents,
  type JobKind,
  type JobState,
  type PredictionJob,
  PredictionJobRunner,
  type PredictionJobRunnerOptions,
} from "./job-runner.ts";
import { retryThroughDatabaseOutage } from "./outage.ts";
import type { PollTicks } from "./poll-ticks.ts";

/** What a row's job does its own way: what it sends, to which provider, how long it waits, how it records its end. */
export type JobParts<Request> = Omit<
  PredictionJob<Request>,
  "key" | "state" | "markCreateSent" | "heldElsewhere"
>;

/** How the rows a member is shown (a generation, a video) record that their result reached Discord. */
export interface DeliveryRows<Row> {
  undelivered(): Promise<Row[]>;
  markDelivered(id: string, at: number): Promise<void>;
  setMessageId(id: string, messageId: string): Promise<void>;
}

export interface RowJobsOptions<Row> {
  kind: JobKind;
  /** The job columns of the rows' table. */
  rows: JobRows;
  /** The rows whose results are delivered: a generation for its slots, a video for itself. */
  deliveries: DeliveryRows<Row>;
  /** Recorded running times of a model's latest predictions, when the rows keep them (see the runner's). */
  history?: PredictionJobRunnerOptions["history"];
}

/** What a service whose rows run as prediction jobs is given for them, beside its own deps. */
export interface PredictionJobDeps {
  limiter: Limiter;
  clock: Clock;
  pollMs: number;
  /** With Replicate's webhooks on: completions wake the waits, and polling slows to a safety net. */
  webhooks?: WaitOptions["webhooks"];
  /** Counts how each prediction ended, and the storage errors the jobs met. */
  metrics?: PredictionJobRunnerOptions["metrics"];
  /** The fast-poll ticks the application context's waits share. */
  ticks?: PollTicks;
}

export class RowJobs<Row> {
  /** Runs each row as one prediction job; stopping it leaves running rows resumable, none marked failed. */
  private readonly runner: PredictionJobRunner;

  private readonly clock: Clock;

  constructor(
    private readonly options: RowJobsOptions<Row>,
    deps: PredictionJobDeps,
  ) {
    this.clock = deps.clock;
    this.runner = new PredictionJobRunner({
      limiter: deps.limiter,
      clock: deps.clock,
      pollMs: deps.pollMs,
      ...(deps.webhooks ? { webhooks: deps.webhooks } : {}),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.ticks ? { ticks: deps.ticks } : {}),
      ...(options.history ? { history: options.history } : {}),
    });
  }

  /** Row `id` as a prediction job: `parts` with the job columns its run reads and writes. */
  job<Request>(id: string, parts: JobParts<Request>): PredictionJob<Request> {
    const { kind, rows } = this.options;
    return {
      ...parts,
      key: { kind, id },
      state: () => rows.state(id),
      markCreateSent: (at, previous) => rows.markCreateSent(id, at, previous),
      heldElsewhere: (since) => rows.predictionIdsHeldElsewhere(id, since),
    };
  }

  /** Runs a job to its end (see PredictionJobRunner.run). */
  run<Request>(job: PredictionJob<Request>, events?: JobEvents, known?: JobState): Promise<void> {
    return this.runner.run(job, events, known);
  }

  /**
   * Runs `attempt` again, with growing pauses, while the database is away (see retryThroughDatabaseOutage), until
   * the runner stops; `onRetry` hears of each outage met. An attempt again polls the recorded prediction, or
   * adopts the one this runner created and could not record: a job is not created twice.
   */
  runThroughOutage(
    attempt: (tries: number) => Promise<void>,
    onRetry: (err: StorageUnavailableError, pauseMs: number) => void,
  ): Promise<void> {
    return retryThroughDatabaseOutage(attempt, {
      clock: this.clock,
      signal: this.runner.signal,
      onRetry,
    });
  }

  /** Reads `model`'s recorded running times now, so the first job after a start finds its estimate ready. */
  warm(model: string): void {
    this.runner.warm(model);
  }

  /** Stops waiting on predictions so the process can exit; their rows stay resumable. */
  stop(): void {
    this.runner.stop();
  }

  /** Whether `stop` was called: a run that returns now has left its rows open. */
  get stopped(): boolean {
    return this.runner.stopped;
  }

  /** Aborted when the jobs stop: for waits of the services' own that must end with them. */
  get signal(): AbortSignal {
    return this.runner.signal;
  }

  /** Whether downloaded outputs wait for a storing place now: a store should then not wait on anything else. */
  get storingContended(): boolean {
    return this.runner.storingContended;
  }

  /** Rows whose result has not reached Discord: to resume and deliver after a restart. */
  undelivered(): Promise<Row[]> {
    return this.options.deliveries.undelivered();
  }

  async markDelivered(id: string): Promise<void> {
    await this.options.deliveries.markDelivered(id, this.clock.now());
  }

  async setMessageId(id: string, messageId: string): Promise<void> {
    await this.options.deliveries.setMessageId(id, messageId);
  }
}
