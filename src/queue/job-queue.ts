// The fleet's shared job queue: BullMQ on Redis. One job per image slot and per video in the `predictions`
// queue, whose global concurrency is MAX_CONCURRENT_PREDICTIONS and whose global rate limit is Replicate's
// create rate, so both hold across every worker; and one delivery job per generation in the `deliveries`
// queue, a BullMQ flow parent that runs once all of its slots have ended and posts the grid. Job ids are derived from the row they run (`image-<uuid>`, `video-<uuid>`, `generation-<uuid>`), so a job
// enqueued twice (a gateway's restart re-enqueues every undelivered job) is one job. The rows stay the truth:
// a job only ever runs what its row still lacks, so a job run twice (a worker that stalled but was not dead)
// costs a status check, never a second prediction (the create is claimed in the database first).
import { createRequire } from "node:module";
import type { FlowProducer, Job, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { StorageUnavailableError } from "../kit/errors.ts";
import type { Logger } from "../kit/logger.ts";
import type { PredictionEvents } from "../predictions/completions.ts";
import type { JobKind } from "../predictions/job-runner.ts";
import { outageOutlasted, outagePauseMs } from "../predictions/outage.ts";
import { createRateWindows } from "./create-rate.ts";
import { EarlyGrids } from "./early-grids.ts";
import { MissingRowError, QueueUnavailableError } from "./queue-errors.ts";
import { QueuePlaces } from "./queue-places.ts";

const require = createRequire(import.meta.url);
/**
 * BullMQ and ioredis, loaded with the first shared queue: a bot without REDIS_URL never needs them, and their
 * 7 MB of heap would only lengthen each of its garbage collections.
 */
const bullmq = () => require("bullmq") as typeof import("bullmq");

const PREDICTIONS = "predictions";
const DELIVERIES = "deliveries";

/** Ended jobs are kept a day (enqueueing one again is a no-op), and the reconciler looks as far back. */
const KEEP_ENDED_S = 24 * 3600;
export const RECONCILE_WINDOW_MS = KEEP_ENDED_S * 1000;
/** A job whose handler threw (a database or Redis outage) is tried again this often, with backoff. */
const ATTEMPTS = 8;
const BACKOFF_MS = 1000;
const DELIVERY_CONCURRENCY = 8; // deliveries are REST edits, not predictions: several at once per worker
/** How long a stop waits for held jobs to be handed back before it lets their locks lapse instead. */
const DRAIN_TIMEOUT_MS = 10_000;

/** What a queued job carries: its row, and the upload limit of the interaction that asked for it. */
export interface QueuedWork {
  kind: JobKind | "generation";
  id: string;
  /** The interaction's `attachment_size_limit`, for the grid; undefined after a restart re-enqueued it. */
  uploadLimit?: number | undefined;
  /** Set while the job is put off by a storage outage: when the outage was first met, and how often since. */
  outage?: { since: number; times: number };
}

/** How a handler's run ended: `done`, or `stopped` when this process began to stop (the row is still open). */
export type HandlerOutcome = "done" | "stopped";

/** What a worker runs for each kind of job; the discord layer supplies them (they deliver over REST). */
export interface JobHandlers {
  image(work: QueuedWork, log: Logger): Promise<HandlerOutcome>;
  video(work: QueuedWork, log: Logger): Promise<HandlerOutcome>;
  generation(work: QueuedWork, log: Logger): Promise<HandlerOutcome>;
}

export interface SharedQueueSettings {
  redisUrl: string;
  /** Key prefix of every queue key: bots (or tests) sharing one Redis keep apart by it. */
  prefix: string;
  /** How long a worker's lock on a job lasts without being renewed; a killed worker's jobs return after it. */
  lockMs: number;
  /** MAX_CONCURRENT_PREDICTIONS: prediction jobs running at once across every worker. */
  concurrency: number;
  /** Replicate's create rate: prediction jobs started per minute across every worker. */
  createsPerMinute: number;
}

export function jobIdOf(work: Pick<QueuedWork, "kind" | "id">): string {
  return `${work.kind}-${work.id}`;
}

export class SharedJobQueue {
  private readonly predictions: Queue;
  private readonly deliveries: Queue;
  private readonly flows: FlowProducer;
  private workers: Worker[] = [];
  private readonly connections: Redis[] = [];
  private stopping = false;
  /** Each waiting request's place, and the wait it can expect. */
  readonly places: QueuePlaces;
  /** What the fleet knows of each grid a slot's worker sent (see early-grids.ts). */
  readonly earlyGrids: EarlyGrids;

  private constructor(
    private readonly settings: SharedQueueSettings,
    /** The producers' connection; workers open their own (BullMQ blocks on theirs). */
    readonly redis: Redis,
    private readonly logger: Logger,
  ) {
    const opts = { connection: redis, prefix: settings.prefix };
    this.earlyGrids = new EarlyGrids(redis, settings.prefix);
    this.predictions = new (bullmq().Queue)(PREDICTIONS, opts);
    this.deliveries = new (bullmq().Queue)(DELIVERIES, opts);
    this.flows = new (bullmq().FlowProducer)(opts);
    this.places = new QueuePlaces(this.predictions, settings.createsPerMinute, logger);
    const heard = (err: Error) => logger.warn({ err }, "job queue error");
    this.predictions.on("error", heard);
    this.deliveries.on("error", heard);
    this.flows.on("error", heard);
  }

  /** Connects, checks Redis answers, and sets the fleet-wide limits (every process sets the same ones). */
  static async open(settings: SharedQueueSettings, logger: Logger): Promise<SharedJobQueue> {
    const redis = new (require("ioredis") as typeof import("ioredis")).Redis(settings.redisUrl, {
      // BullMQ needs blocking commands to wait as long as they must, and retries them itself.
      maxRetriesPerRequest: null,
      connectTimeout: 5000,
      lazyConnect: true,
    });
    redis.on("error", (err) => logger.debug({ err }, "redis connection error"));
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new QueueUnavailableError((err as Error).message);
    }
    const queue = new SharedJobQueue(settings, redis, logger);
    await queue.applyLimits();
    return queue;
  }

  /** Sets the fleet-wide limits: at start, and again by the reconciler (a Redis that lost its data lost them). */
  async applyLimits(): Promise<void> {
    await this.predictions.setGlobalConcurrency(this.settings.concurrency);
    const { max, duration } = createRateWindows(this.settings.createsPerMinute);
    await this.predictions.setGlobalRateLimit(max, duration);
  }

  /** Whether this process has the reconciler's turn for `periodMs` (`SET NX PX`): one per period. */
  async reconcileTurn(periodMs: number): Promise<boolean> {
    const key = `${this.settings.prefix}:reconcile-turn`;
    const ttl = Math.max(1000, periodMs - 1000);
    return (await this.redis.set(key, String(process.pid), "PX", ttl, "NX")) === "OK";
  }

  /** Whether the queue holds a job for this row, in any state (waiting, running, delayed or ended). */
  async holds(work: Pick<QueuedWork, "kind" | "id">): Promise<boolean> {
    const queue = work.kind === "generation" ? this.deliveries : this.predictions;
    return (await queue.getJob(jobIdOf(work))) !== undefined;
  }

  /** Redis's `maxmemory-policy` (only `noeviction` never drops jobs); undefined where CONFIG is refused. */
  async evictionPolicy(): Promise<string | undefined> {
    try {
      const answer = (await this.redis.config("GET", "maxmemory-policy")) as unknown;
      return Array.isArray(answer) && typeof answer[1] === "string" ? answer[1] : undefined;
    } catch {
      return undefined;
    }
  }

  get description(): string {
    const u = new URL(this.settings.redisUrl);
    return `redis://${u.host} (prefix ${this.settings.prefix})`;
  }

  /**
   * Relays prediction completions between the fleet's processes over Redis pub/sub: a webhook delivery heard by
   * any process wakes the job waiting on it in whichever worker runs it.
   */
  async relayCompletions(events: PredictionEvents): Promise<void> {
    const channel = `${this.settings.prefix}:prediction-completed`;
    const subscriber = this.redis.duplicate();
    this.connections.push(subscriber);
    subscriber.on("error", (err) => this.logger.debug({ err }, "redis subscriber error"));
    subscriber.on("message", (from, predictionId) => {
      if (from === channel) events.completed(predictionId, true);
    });
    await subscriber.subscribe(channel);
    events.relayTo((predictionId) => {
      this.redis.publish(channel, predictionId).catch((err: unknown) => {
        this.logger.warn({ err }, "could not relay a prediction's completion; its job polls instead");
      });
    });
  }

  /**
   * Records a Replicate webhook delivery id fleet-wide (`SET key 1 NX EX`): true the first time any process of
   * the fleet sees it within `memoryMs`, false for a repeat. The key expires on its own.
   */
  async firstDelivery(webhookId: string, memoryMs: number): Promise<boolean> {
    const key = `${this.settings.prefix}:webhook-delivery:${webhookId}`;
    return (await this.redis.set(key, "1", "EX", Math.ceil(memoryMs / 1000), "NX")) === "OK";
  }

  /** Whether Redis answers, for /readyz. */
  async check(): Promise<void> {
    await this.redis.ping();
  }

  /**
   * One job per open slot and the generation's delivery after them, as one flow: the delivery runs once every
   * slot job has ended (or failed for good, in which case the delivery finds the slot still open and leaves
   * the generation for the next restart).
   */
  async enqueueGeneration(generationId: string, imageIds: string[], uploadLimit?: number): Promise<void> {
    const parent: QueuedWork = { kind: "generation", id: generationId, uploadLimit };
    // Jobs of these rows that ended (kept a day so that a repeat is one job) are removed first: the rows say
    // there is work left, so those jobs' ends were not the rows' ends (a job failed for good, say).
    await this.removeEnded(this.deliveries, jobIdOf(parent));
    for (const id of imageIds) await this.removeEnded(this.predictions, jobIdOf({ kind: "image", id }));
    await this.flows.add({
      name: "generation",
      queueName: DELIVERIES,
      data: parent,
      opts: { jobId: jobIdOf(parent), ...this.jobOptions() },
      children: imageIds.map((id) => {
        const work: QueuedWork = { kind: "image", id, uploadLimit };
        return {
          name: "image",
          queueName: PREDICTIONS,
          data: work,
          opts: { jobId: jobIdOf(work), ignoreDependencyOnFailure: true, ...this.jobOptions() },
        };
      }),
    });
  }

  async enqueueVideo(videoId: string, uploadLimit?: number): Promise<void> {
    const work: QueuedWork = { kind: "video", id: videoId, uploadLimit };
    await this.removeEnded(this.predictions, jobIdOf(work));
    await this.predictions.add("video", work, { jobId: jobIdOf(work), ...this.jobOptions() });
  }

  /** Starts taking jobs in this process: prediction jobs up to the global cap, deliveries beside them. */
  startWorkers(handlers: JobHandlers): void {
    const common = {
      prefix: this.settings.prefix,
      lockDuration: this.settings.lockMs,
      stalledInterval: Math.max(1000, Math.floor(this.settings.lockMs / 2)),
      // A job seen stalled this many times fails for good; its rows stay open for the next restart.
      maxStalledCount: 5,
    };
    const connection = () => {
      const duplicate = this.redis.duplicate();
      this.connections.push(duplicate);
      return duplicate;
    };
    this.workers = [
      new (bullmq().Worker)(PREDICTIONS, (job, token) => this.process(job, token, handlers), {
        ...common,
        connection: connection(),
        concurrency: this.settings.concurrency,
      }),
      new (bullmq().Worker)(DELIVERIES, (job, token) => this.process(job, token, handlers), {
        ...common,
        connection: connection(),
        concurrency: DELIVERY_CONCURRENCY,
      }),
    ];
    for (const worker of this.workers) {
      worker.on("error", (err) => this.logger.warn({ err }, "job worker error"));
      worker.on("failed", (job, err) =>
        this.logger.warn({ err, jobId: job?.id, attempts: job?.attemptsMade }, "job attempt failed"),
      );
      // Redis away longer than a lock: another worker may take the job while this one still runs it. Its
      // create stays single (claimed in the database); the slower of the two finds the row ended.
      worker.on("lockRenewalFailed", (jobIds) =>
        this.logger.warn({ jobIds }, "could not renew the locks of held jobs; another worker may take them"),
      );
      worker.on("stalled", (jobId) =>
        this.logger.warn({ jobId }, "a job's worker stopped renewing it; it runs again"),
      );
    }
  }

  /**
   * Stops taking jobs and hands back the ones this process holds: their handlers return "stopped" once the
   * services stop waiting (the caller stops those), and each such job goes back to the queue at once for
   * another worker, instead of waiting out its lock.
   */
  async drain(): Promise<void> {
    this.stopping = true;
    const closed = Promise.all(this.workers.map((w) => w.close()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), DRAIN_TIMEOUT_MS);
    });
    if ((await Promise.race([closed, late])) === "late") {
      // Redis away, or a hand-back stuck: the jobs' locks lapse and another worker takes them.
      this.logger.warn("held jobs were not handed back in time; their locks will lapse");
      await Promise.all(this.workers.map((w) => w.close(true)));
    }
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.drain();
    await Promise.all([this.predictions.close(), this.deliveries.close(), this.flows.close()]);
    for (const connection of this.connections) connection.disconnect();
    this.redis.disconnect();
  }

  private async process(job: Job<QueuedWork>, token: string | undefined, handlers: JobHandlers) {
    const work = job.data;
    const log = this.logger.child({ jobId: job.id, attempt: job.attemptsMade + 1 });
    if (this.stopping) return this.handBack(job, token);
    let outcome: HandlerOutcome;
    try {
      outcome = await handlers[work.kind](work, log);
    } catch (err) {
      if (err instanceof StorageUnavailableError) return this.putOff(job, token, err, log);
      if (err instanceof MissingRowError) {
        log.error({ err }, "a job for a row this database does not have");
        throw new (bullmq().UnrecoverableError)(err.message);
      }
      throw err;
    }
    if (outcome === "stopped") return this.handBack(job, token);
    if (work.outage) await job.updateData({ ...work, outage: undefined });
  }

  /**
   * The database (or object store) is away: the job is put off rather than failed. It waits, with growing pauses,
   * without spending an attempt, for as long as in one process (see outage.ts: Replicate keeps an output an hour).
   */
  private async putOff(
    job: Job<QueuedWork>,
    token: string | undefined,
    err: StorageUnavailableError,
    log: Logger,
  ): Promise<never> {
    const now = Date.now();
    const outage = job.data.outage ?? { since: now, times: 0 };
    if (outageOutlasted(outage.since, now)) {
      throw new (bullmq().UnrecoverableError)(`the storage stayed away: ${err.message}`);
    }
    const pause = outagePauseMs(outage.times);
    log.warn({ err, variable: err.variable, retryInMs: pause }, "storage away: the job waits and runs again");
    await job.updateData({ ...job.data, outage: { since: outage.since, times: outage.times + 1 } });
    await job.moveToDelayed(now + pause, token);
    throw new (bullmq().DelayedError)();
  }

  /** Removes job `id` when it has ended (completed or failed), so that it can be enqueued again. */
  private async removeEnded(queue: Queue, id: string): Promise<void> {
    const job = await queue.getJob(id);
    if (!job) return;
    const state = await job.getState();
    if (state === "completed" || state === "failed") await job.remove({ removeChildren: false });
  }

  private async handBack(job: Job<QueuedWork>, token: string | undefined): Promise<never> {
    await job.moveToWait(token);
    this.logger.info({ jobId: job.id }, "job handed back: this process is stopping");
    throw new (bullmq().WaitingError)();
  }

  private jobOptions() {
    return {
      attempts: ATTEMPTS,
      backoff: { type: "exponential", delay: BACKOFF_MS },
      removeOnComplete: { age: KEEP_ENDED_S },
      removeOnFail: { age: KEEP_ENDED_S },
    };
  }
}
