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
import type { ImageRow, ImagesRepo } from "../../db/repositories/images-repo.ts";
import type { FileStore } from "../../files/file-store.ts";
import type { LinkSigner } from "../../files/signed-links.ts";
import { sleep } from "../../kit/clock.ts";
import type { FailureCode } from "../../kit/failures.ts";
import { newId } from "../../kit/ids.ts";
import type { Logger } from "../../kit/logger.ts";
import { HISTORY_SIZE } from "../../predictions/job-runner.ts";
import { type PredictionJobDeps, RowJobs } from "../../predictions/row-jobs.ts";
import type { AspectRatio, ImageProvider, SafetyFilterLevel } from "../../providers/types.ts";
import { type Admission, admissionLocks, type Refusal } from "../limits/admission.ts";
import { GenerationRun, type GenerationRunDeps } from "./generation-run.ts";
import {
  type GenerationView,
  isOpen,
  type LandedListener,
  type ProgressListener,
} from "./generation-view.ts";
import { type QueuedSlotRun, runQueuedSlot } from "./queued-slot.ts";
import { SettlingRuns, STORED_WAIT_MS } from "./settling-runs.ts";
import { SlotJobs } from "./slot-jobs.ts";
import { type StudioAction, studioParams } from "./studio.ts";

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
  /** The image to draw from (a Vary press): drawn by the reference model. */
  parentImageId?: string;
  /** What the image panel asked of `parentImageId` (an upscale, a subtle variation, a sheet); unset: a variation. */
  studio?: StudioAction;
  /**
   * The images to draw from, in the order the reference model receives them (/character's references, a
   * Remix); when given, `parentImageId` is ignored and the first of them is the generation's parent.
   */
  referenceImageIds?: readonly string[];
}

/** The images a request draws from, in order. */
export function requestedReferences(request: Pick<GenerationRequest, "parentImageId" | "referenceImageIds">) {
  return request.referenceImageIds ?? (request.parentImageId ? [request.parentImageId] : []);
}

/** How often a press on a grid looks again for its last image to be recorded (see whenStored). */
const STORED_POLL_MS = 25;

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
  reference?: {
    provider: ImageProvider;
    model: () => string;
    /** How many images the reference model takes as its inputs. */
    maxInputs: () => number;
    links: LinkSigner;
  };
  /** The image panel's Upscale: UPSCALE_MODEL's provider, its model, and the factor and face retouching sent. */
  upscale?: { provider: ImageProvider; model: () => string; scale: number; faceEnhance: boolean };
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
  /** Each slot as a prediction job. */
  private readonly slots: SlotJobs;
  /**
   * Runs whose grid went out while their last images are being stored, by member, until they settle: a new
   * request of that member waits for them (see settling), so the grid on screen is never "still running".
   */
  private readonly settlingRuns = new SettlingRuns();
  /** What each run works with. */
  private readonly runDeps: GenerationRunDeps;

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
    this.slots = new SlotJobs(deps, this.jobs);
    this.runDeps = {
      ...deps,
      jobs: this.jobs,
      slots: this.slots,
      settling: this.settlingRuns,
      finish: (generationId) => this.finish(generationId),
      view: (generationId) => this.view(generationId),
    };
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
    if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_IMAGES) {
      throw new RangeError(`count must be 1–${MAX_IMAGES}`);
    }
    const id = newId();
    const references = [...new Set(requestedReferences(request))];
    const model = this.modelFor(request, references);
    const recorded = await this.deps.data.transaction(
      async (tx) => {
        for (const parentId of references) {
          // Checked again where it is recorded: an image deleted since the command looked it up is not drawn
          // from (nor charged for).
          const parent = await tx.images.get(parentId);
          if (parent?.deletedAt !== null) return { ok: false as const, reason: "gone" as const };
        }
        const admission = (await admit?.(id, model, tx)) ?? { ok: true as const };
        if (!admission.ok) return admission;
        const recorded = await this.insert(id, model, { ...request, referenceImageIds: references }, tx);
        return { ok: true as const, generationId: id, recorded };
      },
      {
        locks: [
          ...admissionLocks(request.userId, request.guildId),
          // The lock a deletion takes: drawn from an image before it is deleted, or not at all.
          ...references.map((parentId) => `image:${parentId}`),
        ],
      },
    );
    return recorded;
  }

  /**
   * The model a request is recorded (and charged) with: the upscaler for an upscale, the reference model for
   * images drawn from references (at most as many as it takes), else IMAGE_MODEL.
   */
  private modelFor(request: GenerationRequest, references: readonly string[]): string {
    if (request.studio && references.length !== 1) throw new Error(`${request.studio} needs one image`);
    if (request.studio === "upscale") {
      if (!this.deps.upscale) throw new Error("no upscale model configured");
      return this.deps.upscale.model();
    }
    if (references.length === 0) return this.deps.model();
    const limit = this.referenceLimit();
    if (!limit) throw new Error("no reference model configured");
    if (references.length > limit.maxInputs)
      throw new RangeError(`${limit.model} takes at most ${limit.maxInputs} reference images`);
    return limit.model;
  }

  /**
   * The model images drawn from references go to (IMAGE_REFERENCE_MODEL) and how many it takes; undefined
   * when none is configured.
   */
  referenceLimit(): { model: string; maxInputs: number } | undefined {
    const reference = this.deps.reference;
    return reference && { model: reference.model(), maxInputs: reference.maxInputs() };
  }

  /** The generation's row and its pending slots, in the transaction that admitted it. */
  private async insert(
    id: string,
    model: string,
    request: GenerationRequest,
    tx: Repos,
  ): Promise<RecordedGeneration> {
    // Only a level the server chose is recorded and sent; a model that cannot apply it is named on the grid.
    // Read in the transaction, which has the server's settings from the admission already.
    const references = [...requestedReferences(request)];
    const safety = await this.deps.safetyLevel?.(request.guildId, tx.guildSettings);
    return tx.generations.insertWithSlots(
      {
        id,
        guildId: request.guildId,
        channelId: request.channelId,
        userId: request.userId,
        interactionId: request.interaction?.interactionId ?? null,
        interactionToken: request.interaction?.interactionToken ?? null,
        applicationId: request.interaction?.applicationId ?? null,
        locale: request.interaction?.locale ?? null,
        publicLocale: request.interaction?.publicLocale ?? null,
        delivery: request.interaction?.delivery ?? "channel",
        prompt: request.prompt,
        params: {
          aspectRatio: request.aspectRatio,
          ...(safety ? { safetyFilterLevel: safety } : {}),
          ...studioParams(request.studio, this.deps.upscale),
          ...(references.length > 0 ? { referenceImageIds: references } : {}),
        },
        model,
        requested: request.count,
        createdAt: this.deps.clock.now(),
        referenceImageIds: references,
      },
      Array.from({ length: request.count }, () => newId()),
    );
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
    return new GenerationRun(this.runDeps, found, states, { onProgress, onQueue, onLanded }).run();
  }

  /**
   * Resolves once this member's runs in this process whose grid is already out have recorded their last images
   * and settled (a moment, the time of a put), or after STORED_WAIT_MS (storage in trouble: the admission then
   * sees them running); undefined when there are none. A new request of theirs waits for it before its
   * admission counts their running requests: the grid on screen must not count as running.
   */
  settling(userId: string): Promise<void> | undefined {
    return this.settlingRuns.settling(userId);
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
   * how many run at once). A slot that already ended is left as it is. With `onLanded`, the grid is told from
   * here when this slot's image is the last one (see queued-slot.ts).
   */
  runQueuedSlot(imageId: string, log?: Logger, onLanded?: LandedListener): Promise<QueuedSlotRun> {
    const { images, generations } = this.deps;
    return runQueuedSlot({ ...this.runDeps, images, generations }, imageId, log, onLanded);
  }

  /**
   * Ends every open slot of a generation that will never run (its jobs could not be queued) as `code`, and
   * settles it with its refund, in one transaction: the member is charged nothing and holds no running slot.
   */
  async giveUp(generationId: string, code: FailureCode, message: string): Promise<void> {
    await this.deps.data.transaction(async (tx) => {
      const now = this.deps.clock.now();
      for (const image of await tx.images.forGeneration(generationId)) {
        if (isOpen(image)) {
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
    return this.viewOnce(generationId, (view) => !view.images.some(isOpen), timeoutMs);
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
    if (rows.some(isOpen)) return undefined;
    const succeeded = rows.filter((i) => i.status === "succeeded").length;
    const status: GenerationStatus =
      succeeded === rows.length ? "succeeded" : succeeded === 0 ? "failed" : "partial";
    const generation = await tx.generations.finish(generationId, status, this.deps.clock.now());
    if (!generation) return undefined;
    if (status !== "succeeded") await this.deps.onFinished?.(generation, rows, tx);
    return { generation, images: rows };
  }
}
