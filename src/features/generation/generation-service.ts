// /character's domain: a generation of 1–4 images run in parallel, stored, listed and picked from.

import type { DataStore } from "../../db/data-store.ts";
import type { Repos } from "../../db/repos.ts";
import type {
  GenerationRow,
  GenerationStatus,
  GenerationsRepo,
  InteractionRef,
  RecordedGeneration,
} from "../../db/repositories/generations-repo.ts";
import type { GuildSettingsRepo } from "../../db/repositories/guild-settings-repo.ts";
import type { ImageRow, ImagesRepo, StoredFileFacts } from "../../db/repositories/images-repo.ts";
import type { JobState } from "../../db/repositories/job-rows.ts";
import type { FileStore, Inspected } from "../../files/file-store.ts";
import type { LinkSigner } from "../../files/signed-links.ts";
import { sleep, within } from "../../kit/clock.ts";
import type { FailureCode } from "../../kit/failures.ts";
import { newId } from "../../kit/ids.ts";
import type { Logger } from "../../kit/logger.ts";
import { HISTORY_SIZE, type PredictionJob } from "../../predictions/job-runner.ts";
import { type PredictionJobDeps, RowJobs } from "../../predictions/row-jobs.ts";
import type {
  AspectRatio,
  ImageProvider,
  ImageRequest,
  ReferenceImage,
  SafetyFilterLevel,
} from "../../providers/types.ts";
import { type Admission, admissionLocks, type Refusal } from "../limits/admission.ts";
import { referenceImageInput } from "../references/reference-image.ts";

export const MAX_IMAGES = 4;
export const MAX_PROMPT_LENGTH = 1000;

export interface GenerationRequest {
  guildId: string | null;
  channelId: string | null;
  userId: string;
  prompt: string;
  count: number;
  aspectRatio: AspectRatio;
  interaction?: InteractionRef;
  /** The image to draw from (a Vary press, /character reference:): drawn by the reference model. */
  parentImageId?: string;
}

export interface GenerationView {
  generation: GenerationRow;
  images: ImageRow[];
  /**
   * Slots whose result could not be recorded because the database was away: still open, tried again until it
   * is back. Known only to the run that met the outage; a view read from the database has none.
   */
  waitingOnStorage?: number[];
}

/** How long a press on a grid waits for its last image to be recorded (see whenStored), and how often it looks. */
const STORED_WAIT_MS = 10_000;
const STORED_POLL_MS = 25;

/**
 * How long the last image's put waits for the grid that carries it (see LandedListener): a press on the grid
 * meanwhile waits for the row (whenStored), and a crash meanwhile leaves the slot to be stored again from its
 * recorded prediction at the next start.
 */
const GRID_HOLD_MS = 1_000;

/** Hears about every slot that settles, with the whole generation as it now stands. */
export type ProgressListener = (view: GenerationView, settled: ImageRow) => void;

/**
 * Hears, at most once per run, that every open slot has ended or has an image that passed its checks and is
 * being stored: the generation as it will stand once those stores are recorded (those slots shown succeeded;
 * the file store serves their bytes meanwhile), so the grid can go out while the last image is stored. What
 * `run` returns afterwards is what was recorded: a store that failed, or an image deleted meanwhile, shows there.
 * A promise it returns stands for that grid on its way: where a put is an upload (S3), the put of the image that
 * completed it waits for it (at most GRID_HOLD_MS), so the two uploads of the same bytes do not share the moment.
 */
export type LandedListener = (view: GenerationView) => undefined | Promise<unknown>;

export interface GenerationServiceDeps extends PredictionJobDeps {
  data: DataStore;
  generations: GenerationsRepo;
  images: ImagesRepo;
  files: FileStore;
  provider: ImageProvider;
  /** The safety filter level the request's server chose, if any, read through `settings` (a transaction's). */
  safetyLevel?: (
    guildId: string | null,
    settings: GuildSettingsRepo,
  ) => Promise<SafetyFilterLevel | undefined>;
  /** The model recorded on the generation row; each image row records the model that actually ran it. */
  model: () => string;
  /**
   * Generations drawn from an image: the provider and model that take a reference (IMAGE_REFERENCE_MODEL), and
   * the signed links the image reaches the model by when PUBLIC_URL is set.
   */
  reference?: { provider: ImageProvider; model: () => string; links: LinkSigner };
  logger: Logger;
  timeoutMs: number;
  /**
   * Called once when a generation settles with a slot that did not succeed, inside the transaction `tx` that
   * settles it (refunds its failed slots); it must touch nothing but `tx`. A generation whose every slot
   * succeeded has nothing to refund and settles in one statement, without it.
   */
  onFinished?: (generation: GenerationRow, images: ImageRow[], tx: Repos) => Promise<void>;
}

export class GenerationService {
  /** Runs each slot as one prediction job; stopping them leaves running slots resumable, none marked failed. */
  private readonly jobs: RowJobs<GenerationRow>;
  /**
   * Runs whose grid went out while their last images are being stored, by member, until they settle: a new
   * request of that member waits for them (see settling), so the grid on screen is never "still running".
   */
  private readonly storingFor = new Map<string, Set<Promise<void>>>();
  /** A parent image being prepared for the model, by generation: its slots start together and share one upload. */
  private readonly parentInputs = new Map<string, Promise<ReferenceImage>>();

  constructor(private readonly deps: GenerationServiceDeps) {
    this.jobs = new RowJobs(
      {
        kind: "image",
        rows: deps.images.jobs,
        deliveries: deps.generations,
        history: (model) => deps.images.recentPredictionTimes(model, HISTORY_SIZE),
      },
      deps,
    );
    this.jobs.warm(deps.model());
  }
  /**
   * Records the generation and its pending slots in one transaction, after `admit` (blocklist, running jobs,
   * allowance) says yes inside the same transaction, which holds the member's and the guild's locks. Nothing
   * runs yet: `run` does that.
   */
  async create(
    request: GenerationRequest,
    admit?: (jobId: string, model: string, tx: Repos) => Promise<Admission>,
  ): Promise<{ ok: true; generationId: string; recorded: RecordedGeneration } | ({ ok: false } & Refusal)> {
    const { data, clock } = this.deps;
    if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_IMAGES) {
      throw new RangeError(`count must be 1–${MAX_IMAGES}`);
    }
    const id = newId();
    const parentId = request.parentImageId;
    if (parentId && !this.deps.reference) throw new Error("no reference model configured");
    const model = parentId && this.deps.reference ? this.deps.reference.model() : this.deps.model();
    const recorded = await data.transaction(
      async (tx) => {
        if (parentId) {
          // Checked again where it is recorded: an image deleted since the command looked it up is not drawn
          // from (nor charged for).
          const parent = await tx.images.get(parentId);
          if (parent?.deletedAt !== null) return { ok: false as const, reason: "gone" as const };
        }
        const admission = (await admit?.(id, model, tx)) ?? { ok: true as const };
        if (!admission.ok) return admission;
        // Only a level the server chose is recorded and sent; a model that cannot apply it is named on the grid.
        // Read in the transaction, which has the server's settings from the admission already.
        const safety = await this.deps.safetyLevel?.(request.guildId, tx.guildSettings);
        const now = clock.now();
        const recorded = await tx.generations.insertWithSlots(
          {
            id,
            guildId: request.guildId,
            channelId: request.channelId,
            userId: request.userId,
            interactionId: request.interaction?.interactionId ?? null,
            interactionToken: request.interaction?.interactionToken ?? null,
            applicationId: request.interaction?.applicationId ?? null,
            prompt: request.prompt,
            params: {
              aspectRatio: request.aspectRatio,
              ...(safety ? { safetyFilterLevel: safety } : {}),
            },
            model,
            requested: request.count,
            createdAt: now,
            parentImageId: parentId ?? null,
          },
          Array.from({ length: request.count }, () => newId()),
        );
        return { ok: true as const, generationId: id, recorded };
      },
      {
        locks: [
          ...admissionLocks(request.userId, request.guildId),
          // The lock a deletion takes: drawn from an image before it is deleted, or not at all.
          ...(parentId ? [`image:${parentId}`] : []),
        ],
      },
    );
    return recorded;
  }

  /**
   * Runs every unfinished slot of a generation and settles its status. A slot with a prediction id is
   * polled, never started again, so this also resumes a generation after a restart.
   */
  async run(
    generationId: string,
    onProgress?: ProgressListener,
    onQueue?: (ahead: number) => void,
    onLanded?: LandedListener,
    /**
     * The rows as `create` returned them a moment ago: not read again (three queries fewer before the creates).
     * A resumed generation has none: its rows are read.
     */
    recorded?: RecordedGeneration,
  ): Promise<GenerationView> {
    // The slots' job states are read beside the generation, at once: each slot's first attempt starts from its
    // state instead of reading its row again before the create (its create mark still decides, in one statement).
    const [found, states] = recorded
      ? [recorded, recorded.states]
      : await Promise.all([this.view(generationId), this.deps.images.jobStates(generationId)]);
    if (!found) throw new Error(`no generation ${generationId}`);
    const { generation } = found;
    const open = found.images.filter((i) => i.status === "pending" || i.status === "running");
    // How many predictions wait ahead of this generation's first waiting slot; 0 once none of its slots wait.
    const waiting = new Map<number, number>();
    let shown: number | undefined;
    const report = () => {
      const ahead = waiting.size === 0 ? 0 : Math.min(...waiting.values());
      if (ahead !== shown) {
        shown = ahead;
        onQueue?.(ahead);
      }
    };
    // The generation as this run last read it, and the slots an outage keeps from being recorded: what the
    // member is shown while the database is away.
    let latest: GenerationView = { generation, images: open };
    const outage = new Set<number>();
    const tell = (view: GenerationView, settled: ImageRow) => {
      try {
        onProgress?.({ ...view, waitingOnStorage: [...outage].sort() }, settled);
      } catch (err) {
        this.deps.logger.error({ err, generationId }, "progress listener failed");
      }
    };
    // Slots whose run ended, and slots whose image is being stored: once none is open otherwise, the generation
    // as it will stand is read and told (once), while those images are stored.
    const ended = new Set<string>();
    const storing = new Map<string, StoredFileFacts>();
    let landedTold = !onLanded;
    /** The grid went out (onLanded was told): progress reports after it would only be read and dropped. */
    let gridOut = false;
    let settledNow: (() => void) | undefined;
    /** The newest progress report's slots, and how many slots had ended when it was read. */
    let reported: { images: ImageRow[]; ended: number } | undefined;
    /** The read for the grid, when one was needed: the run ends after it, so the grid is never overtaken. */
    let landedRead: Promise<void> | undefined;
    /** Tells the grid once every open slot has ended or is being stored; what the listener returned for it. */
    const landed = (): Promise<unknown> | undefined => {
      if (landedTold || storing.size === 0 || this.jobs.stopped) return;
      if (open.some((i) => !ended.has(i.id) && !storing.has(i.id))) return;
      landedTold = true;
      settledNow = this.holdStoring(generation.userId);
      const stored = new Map(storing);
      const at = this.deps.clock.now();
      const tellLanded = (rows: ImageRow[]): Promise<unknown> | undefined => {
        if (this.jobs.stopped) return;
        const images = rows.map((i): ImageRow => {
          const facts = stored.get(i.id);
          return facts && i.status !== "failed" ? { ...i, ...facts, status: "succeeded", finishedAt: at } : i;
        });
        if (images.some((i) => i.status === "pending" || i.status === "running")) return;
        gridOut = true;
        return onLanded?.({ generation, images });
      };
      // A progress report read after every slot that has ended had ended has their final rows (deletions up
      // to a moment ago included, as any grid has): no read again. Otherwise only the slots are read; what the
      // grid shows of the generation itself never changes while it runs.
      if (reported && reported.ended >= ended.size) return tellLanded(reported.images);
      let sending: Promise<unknown> | undefined;
      landedRead = this.deps.images.forGeneration(generationId).then(
        (rows) => {
          sending = tellLanded(rows);
        },
        (err: unknown) =>
          this.deps.logger.warn({ err, generationId }, "could not read the generation for its grid"),
      );
      return landedRead.then(() => sending);
    };
    // Each slot's progress report reads the generation after the slot settles; the last one's read runs beside
    // the settling transaction instead of before it (the grid that follows supersedes that report anyway), and
    // a slot recorded after the grid went out has none (two reads per /character, in the moments that grid
    // and the next member's request share).
    const reports: Array<Promise<void>> = [];
    try {
      await Promise.all(
        open.map(async (image) => {
          const queue = {
            queued: (ahead: number) => {
              waiting.set(image.slot, ahead);
              report();
            },
            started: () => {
              if (waiting.delete(image.slot)) report();
            },
          };
          const inspected: Inspected = (facts) => {
            storing.set(image.id, facts);
            const grid = landed();
            // Held only where a put is an upload, and never while other outputs wait for a storing place (the
            // hold keeps this one's).
            if (!grid || !this.deps.files.objects.putUploads || this.jobs.storingContended) {
              grid?.catch(() => {});
              return undefined;
            }
            return within(grid, GRID_HOLD_MS, this.jobs.signal);
          };
          try {
            await this.runThroughOutage(image, generation, states.get(image.id), queue, inspected, () => {
              outage.add(image.slot);
              tell(latest, image);
            });
          } finally {
            ended.add(image.id);
            storing.delete(image.id);
          }
          // A slot that ended may complete the grid too; only a put waits on the grid's send, none here.
          landed()?.catch(() => {});
          outage.delete(image.slot);
          if (this.jobs.stopped || !onProgress || gridOut) return;
          const endedThen = ended.size;
          reports.push(
            this.reportProgress(generation, image.id, (view, settled) => {
              latest = view;
              if (!reported || endedThen >= reported.ended)
                reported = { images: view.images, ended: endedThen };
              tell(view, settled);
            }),
          );
        }),
      );
      // The settling transaction's own reading when it settled the generation (no read again on the grid's path).
      const settled = this.jobs.stopped ? undefined : await this.finish(generationId);
      await Promise.all([...reports, landedRead]);
      return settled ?? ((await this.view(generationId)) as GenerationView);
    } finally {
      settledNow?.();
    }
  }

  /** Registers a run of `userId` whose grid is out while its last images are stored; returns its release. */
  private holdStoring(userId: string): () => void {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs = this.storingFor.get(userId) ?? new Set();
    runs.add(held);
    this.storingFor.set(userId, runs);
    return () => {
      release();
      runs.delete(held);
      if (runs.size === 0 && this.storingFor.get(userId) === runs) this.storingFor.delete(userId);
    };
  }

  /**
   * Resolves once this member's runs in this process whose grid is already out have recorded their last images
   * and settled (a moment, the time of a put), or after STORED_WAIT_MS (storage in trouble: the admission then
   * sees them running); undefined when there are none. A new request of theirs waits for it before its
   * admission counts their running requests: the grid on screen must not count as running.
   */
  settling(userId: string): Promise<void> | undefined {
    const runs = this.storingFor.get(userId);
    return runs && within(Promise.all(runs), STORED_WAIT_MS);
  }

  /**
   * Runs a slot; when its result cannot be recorded because the database is away, says so (`onOutage`) and
   * tries again, with growing pauses, until it is recorded, the process stops, or Replicate would have let the
   * output go. A slot tried again polls its recorded prediction: it is never created twice.
   */
  private async runThroughOutage(
    image: ImageRow,
    generation: GenerationRow,
    /** The slot's job state as the run read it; only the first attempt starts from it. */
    state: JobState | undefined,
    queue: { queued: (ahead: number) => void; started: () => void },
    inspected: Inspected,
    onOutage: () => void,
  ): Promise<void> {
    await this.jobs.runThroughOutage(
      (tries) => this.runSlot(image, generation, queue, tries === 0 ? state : undefined, inspected),
      (err, pause) => {
        this.deps.logger.warn(
          { err, imageId: image.id, slot: image.slot, retryInMs: pause },
          "could not record the slot's result: the database is away; trying again",
        );
        onOutage();
      },
    );
  }

  /** Stops waiting on predictions so the process can exit; their rows stay resumable. */
  stop(): void {
    this.jobs.stop();
  }

  /** Whether `stop` was called: a run that returns now has left its rows open. */
  get stopped(): boolean {
    return this.jobs.stopped;
  }

  /**
   * Runs one slot's prediction job to its end, as a queue's worker does (the queue, not this process, decides
   * how many run at once). A slot that already ended is left as it is; false when there is no such slot.
   */
  async runQueuedSlot(imageId: string, log?: Logger): Promise<boolean> {
    const job = await this.slotJob(imageId, log);
    if (!job) return false;
    await this.jobs.run(job);
    return true;
  }

  /**
   * Ends every open slot of a generation that will never run (its jobs could not be queued) as `code`, and
   * settles it with its refund, in one transaction: the member is charged nothing and holds no running slot.
   */
  async giveUp(generationId: string, code: FailureCode, message: string): Promise<void> {
    await this.deps.data.transaction(async (tx) => {
      const now = this.deps.clock.now();
      for (const image of await tx.images.forGeneration(generationId)) {
        if (image.status === "pending" || image.status === "running") {
          await tx.images.markFailed(image.id, code, message, now);
        }
      }
      await this.finishIn(generationId, tx);
    });
  }

  /** Settles a generation whose slots have all ended (its refund in the same transaction); idempotent. */
  async settle(generationId: string): Promise<void> {
    await this.finish(generationId);
  }

  /** Only the slots are read: what a progress view shows of the generation itself never changes while it runs. */
  private async reportProgress(generation: GenerationRow, imageId: string, onProgress: ProgressListener) {
    try {
      const view = await this.withCurrentImages(generation);
      const settled = view.images.find((i) => i.id === imageId);
      if (settled) onProgress(view, settled);
    } catch (err) {
      this.deps.logger.error({ err, generationId: generation.id }, "progress listener failed");
    }
  }

  /**
   * The generation as the caller holds it, with its slots read now: for a view that a deletion or a purge since
   * may have changed (those change only slots), one round trip instead of two.
   */
  async withCurrentImages(generation: GenerationRow): Promise<GenerationView> {
    return { generation, images: await this.deps.images.forGeneration(generation.id) };
  }

  async view(generationId: string): Promise<GenerationView | undefined> {
    // Both at once: on PostgreSQL each is a round trip, and a grid waits on this after its last image.
    const [generation, images] = await Promise.all([
      this.deps.generations.get(generationId),
      this.deps.images.forGeneration(generationId),
    ]);
    return generation && { generation, images };
  }

  /**
   * The generation once no slot of it is open, or as it stands after `timeoutMs`: a grid goes out while its last
   * image is stored, and a press on it in that moment (a pick, Vary, Regenerate) waits for the row instead of
   * finding the slot still open. Read from the database, so it holds whichever process stores the image.
   */
  whenStored(generationId: string, timeoutMs = STORED_WAIT_MS): Promise<GenerationView | undefined> {
    return this.viewOnce(
      generationId,
      (view) => !view.images.some((i) => i.status === "pending" || i.status === "running"),
      timeoutMs,
    );
  }

  /**
   * The generation once `ready` holds for it (or it is gone), or as it stands after `timeoutMs`, read again
   * every STORED_POLL_MS: for a press on a grid that reached Discord a moment before its rows say so.
   */
  async viewOnce(
    generationId: string,
    ready: (view: GenerationView) => boolean,
    timeoutMs: number,
  ): Promise<GenerationView | undefined> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const view = await this.view(generationId);
      if (!view || ready(view) || performance.now() >= until) return view;
      await sleep(STORED_POLL_MS);
    }
  }

  /** Generations whose result has not reached Discord: to resume and deliver after a restart. */
  undelivered(): Promise<GenerationRow[]> {
    return this.jobs.undelivered();
  }

  markDelivered(generationId: string): Promise<void> {
    return this.jobs.markDelivered(generationId);
  }

  setMessageId(generationId: string, messageId: string): Promise<void> {
    return this.jobs.setMessageId(generationId, messageId);
  }

  /** `image` and `generation` as this run read them: a slot's job needs only what never changes on them. */
  private async runSlot(
    image: ImageRow,
    generation: GenerationRow,
    queue: { queued: (ahead: number) => void; started: () => void },
    state: JobState | undefined,
    inspected: Inspected,
  ): Promise<void> {
    const job = await this.slotJob(image.id, this.deps.logger, { image, generation, inspected });
    if (job) await this.jobs.run(job, queue, state);
  }

  /**
   * One image slot as a prediction job, keyed by its row's id: what it sends (the generation's prompt and
   * parameters), how its image is stored and how its start, success and failure are recorded.
   */
  async slotJob(
    imageId: string,
    logger: Logger = this.deps.logger,
    /**
     * The rows, when the caller has just read them (two round trips fewer before the create on PostgreSQL), and
     * who hears of the output once it passed its checks, while it is stored.
     */
    known?: {
      image: ImageRow;
      generation: GenerationRow;
      inspected?: Inspected;
    },
  ): Promise<PredictionJob<ImageRequest> | undefined> {
    const { provider, images, files, clock } = this.deps;
    const image = known?.image ?? (await images.get(imageId));
    const generation = known?.generation ?? (image && (await this.deps.generations.get(image.generationId)));
    if (!image || !generation) return undefined;
    const { slot } = image;
    const log = logger.child({ generationId: generation.id, imageId, slot });
    const drawnFrom = generation.parentImageId ? this.deps.reference : undefined;
    return this.jobs.job(imageId, {
      provider: drawnFrom?.provider ?? provider,
      log,
      request: async () => ({
        prompt: generation.prompt,
        aspectRatio: generation.params.aspectRatio as AspectRatio,
        slot,
        ...(generation.params.safetyFilterLevel
          ? { safetyFilterLevel: generation.params.safetyFilterLevel as SafetyFilterLevel }
          : {}),
        ...(drawnFrom ? { reference: await this.sharedParentImage(generation, drawnFrom) } : {}),
      }),
      markStarted: async (started) => {
        await images.markStarted(imageId, started.predictionId, started.model);
      },
      deadline: (now) => now + this.deps.timeoutMs,
      store: async (_output, data, predictMs) => {
        const facts = await files.writeImage(imageId, data, known?.inspected);
        const marked = await images.markSucceeded(imageId, facts, clock.now(), predictMs);
        // The common case answers in that one statement; only a row that had already ended is read again.
        const current = marked ? undefined : await images.get(imageId);
        const standsFor = marked
          ? !marked.deleted
          : current?.deletedAt === null && current.fileName === facts.fileName;
        if (!standsFor) {
          // Purged while it was being made (or its row is gone): no row stands for the file, so nothing else
          // would remove it.
          await files.remove(facts.fileName);
          log.info("image discarded: its slot was deleted while it was being made");
          return;
        }
        log.info({ bytes: facts.bytes }, "image stored");
      },
      fail: async (failure) => {
        await images.markFailed(imageId, failure.code, failure.message, clock.now());
      },
    });
  }

  private sharedParentImage(
    generation: GenerationRow,
    drawnFrom: NonNullable<GenerationServiceDeps["reference"]>,
  ): Promise<ReferenceImage> {
    const pending = this.parentInputs.get(generation.id);
    if (pending) return pending;
    const made = this.parentImage(generation, drawnFrom).finally(() =>
      this.parentInputs.delete(generation.id),
    );
    this.parentInputs.set(generation.id, made);
    return made;
  }

  /** The image a generation is drawn from, as its model receives it (the same way /video sends its input). */
  private async parentImage(
    generation: GenerationRow,
    drawnFrom: NonNullable<GenerationServiceDeps["reference"]>,
  ): Promise<ReferenceImage> {
    const { generations, images, files } = this.deps;
    const parent = generation.parentImageId ? await images.get(generation.parentImageId) : undefined;
    return referenceImageInput(
      { links: drawnFrom.links, files, host: drawnFrom.provider },
      parent,
      { createdAt: generation.createdAt, runsForMs: this.deps.timeoutMs },
      {
        recorded: async () => (await generations.get(generation.id))?.referenceUrl ?? undefined,
        remember: (url) => generations.rememberReferenceUrl(generation.id, url),
      },
    );
  }

  /**
   * Settles the generation once no slot is open; its refund is written in the same transaction. The common
   * case, every slot succeeded, is one conditional statement (one round trip instead of four on PostgreSQL),
   * which returns the settled row: only the slots are read after it.
   */
  private async finish(generationId: string): Promise<GenerationView | undefined> {
    const { generations, data, clock } = this.deps;
    const succeeded = await generations.finishIfAllSucceeded(generationId, clock.now());
    if (succeeded) return this.withCurrentImages(succeeded);
    return data.transaction((tx) => this.finishIn(generationId, tx));
  }

  /** `finish` in the caller's transaction: the generation as it settled it, or undefined if it did not. */
  private async finishIn(generationId: string, tx: Repos): Promise<GenerationView | undefined> {
    const rows = await tx.images.forGeneration(generationId);
    if (rows.some((i) => i.status === "pending" || i.status === "running")) return undefined;
    const succeeded = rows.filter((i) => i.status === "succeeded").length;
    const status: GenerationStatus =
      succeeded === rows.length ? "succeeded" : succeeded === 0 ? "failed" : "partial";
    const generation = await tx.generations.finish(generationId, status, this.deps.clock.now());
    if (!generation) return undefined;
    if (status !== "succeeded") await this.deps.onFinished?.(generation, rows, tx);
    return { generation, images: rows };
  }
}
