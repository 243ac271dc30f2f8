// The fleet's shared job queue: BullMQ on Redis. One job per image slot and per video in the `predictions`
// queue, whose global concurrency is MAX_CONCURRENT_PREDICTIONS and whose global rate limit is Replicate's
// create rate, so both hold across every worker; and one delivery job per generation in the `deliveries`
// queue, a BullMQ flow parent that runs once all of its slots have ended and posts the grid.
//
// Job ids are derived from the row they run (`image-<uuid>`, `video-<uuid>`, `generation-<uuid>`), so a job
// enqueued twice (a gateway's restart re-enqueues every undelivered job) is one job. The rows stay the truth:
// a job only ever runs what its row still lacks, so a job run twice (a worker that stalled but was not dead)
// costs a status check, never a second prediction (the create is claimed in the database first).
import { FlowProducer, type Job, Queue, WaitingError, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "../domain/logger.ts";
import type { JobKind } from "./prediction-job.ts";

const PREDICTIONS = "predictions";
const DELIVERIES = "deliveries";

/** Kept this long after they end, so enqueueing the same job again within it is a no-op. */
const KEEP_ENDED_S = 24 * 3600;
/** A job whose handler threw (a database or Redis outage) is tried again this often, with backoff. */
const ATTEMPTS = 8;
const BACKOFF_MS = 1000;
/** Deliveries are REST edits, not predictions: many at once per worker. */
const DELIVERY_CONCURRENCY = 16;

/** What a queued job carries: its row, and the upload limit of the interaction that asked for it. */
export interface QueuedWork {
  kind: JobKind | "generation";
  id: string;
  /** The interaction's `attachment_size_limit`, for the delivery; undefined after a restart re-enqueued it. */
  uploadLimit?: number | undefined;
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

/** A Redis that cannot be reached at start: one clear message naming REDIS_URL. */
export class QueueUnavailableError extends Error {
  readonly variable = "REDIS_URL";
  constructor(why: string) {
    super(`cannot be reached (${why})`);
    this.name = "QueueUnavailableError";
  }
}

export class SharedJobQueue {
  private readonly predictions: Queue;
  private readonly deliveries: Queue;
  private readonly flows: FlowProducer;
  private workers: Worker[] = [];
  private stopping = false;

  private constructor(
    private readonly settings: SharedQueueSettings,
    /** The producers' connection; workers open their own (BullMQ blocks on theirs). */
    readonly redis: Redis,
    private readonly logger: Logger,
  ) {
    const opts = { connection: redis, prefix: settings.prefix };
    this.predictions = new Queue(PREDICTIONS, opts);
    this.deliveries = new Queue(DELIVERIES, opts);
    this.flows = new FlowProducer(opts);
    const heard = (err: Error) => logger.warn({ err }, "job queue error");
    this.predictions.on("error", heard);
    this.deliveries.on("error", heard);
    this.flows.on("error", heard);
  }

  /** Connects, checks Redis answers, and sets the fleet-wide limits (every process sets the same ones). */
  static async open(settings: SharedQueueSettings, logger: Logger): Promise<SharedJobQueue> {
    const redis = new Redis(settings.redisUrl, {
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
    await queue.predictions.setGlobalConcurrency(settings.concurrency);
    await queue.predictions.setGlobalRateLimit(settings.createsPerMinute, 60_000);
    return queue;
  }

  get description(): string {
    const u = new URL(this.settings.redisUrl);
    return `redis://${u.host} (prefix ${this.settings.prefix})`;
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
    await this.flows.add({
      name: "generation",
      queueName: DELIVERIES,
      data: parent,
      opts: { jobId: jobIdOf(parent), ...this.jobOptions() },
      children: imageIds.map((id) => {
        const work: QueuedWork = { kind: "image", id };
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
    await this.predictions.add("video", work, { jobId: jobIdOf(work), ...this.jobOptions() });
  }

  /**
   * How many prediction jobs wait ahead of the first of `jobIds` that still waits, fleet-wide; undefined when
   * none of them waits (each is running or ended).
   */
  async waitingAhead(jobIds: string[]): Promise<number | undefined> {
    const waiting = await this.predictions.getRanges(["wait", "prioritized"], 0, -1, true);
    const wanted = new Set(jobIds);
    const first = waiting.findIndex((id) => wanted.has(id));
    return first === -1 ? undefined : first;
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
    const connection = () => this.redis.duplicate();
    this.workers = [
      new Worker(PREDICTIONS, (job, token) => this.process(job, token, handlers), {
        ...common,
        connection: connection(),
        concurrency: this.settings.concurrency,
      }),
      new Worker(DELIVERIES, (job, token) => this.process(job, token, handlers), {
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
    await Promise.all(this.workers.map((w) => w.close()));
  }

  async close(): Promise<void> {
    await this.drain();
    await Promise.all([this.predictions.close(), this.deliveries.close(), this.flows.close()]);
    this.redis.disconnect();
  }

  private async process(job: Job<QueuedWork>, token: string | undefined, handlers: JobHandlers) {
    const work = job.data;
    const log = this.logger.child({ jobId: job.id, attempt: job.attemptsMade + 1 });
    if (this.stopping) return this.handBack(job, token);
    const outcome = await handlers[work.kind](work, log);
    if (outcome === "stopped") return this.handBack(job, token);
  }

  private async handBack(job: Job<QueuedWork>, token: string | undefined): Promise<never> {
    await job.moveToWait(token);
    this.logger.info({ jobId: job.id }, "job handed back: this process is stopping");
    throw new WaitingError();
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
