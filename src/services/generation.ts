// /character's domain: a generation of 1–4 images run in parallel, stored, listed and picked from.
import type { Logger } from "../logger.ts";
import type { Db } from "../storage/database.ts";
import type { FileStore } from "../storage/file-store.ts";
import type {
  GenerationRow,
  GenerationStatus,
  GenerationsRepo,
  InteractionRef,
} from "../storage/generations-repo.ts";
import type { ImageRow, ImagesRepo, ImageWithOwner } from "../storage/images-repo.ts";
import type { SelectionRow, SelectionsRepo } from "../storage/selections-repo.ts";
import { isUuid, newId } from "../storage/uuid.ts";
import type { Admission, Refusal } from "./admission.ts";
import type { Clock } from "./clock.ts";
import type { Limiter } from "./limiter.ts";
import { type PredictionJob, PredictionJobRunner } from "./prediction-job.ts";
import type { AspectRatio, SafetyFilterLevel } from "./providers/image-models.ts";
import type { ImageProvider, ImageRequest } from "./providers/types.ts";

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
}

export interface GenerationView {
  generation: GenerationRow;
  images: ImageRow[];
}

/** Hears about every slot that settles, with the whole generation as it now stands. */
export type ProgressListener = (view: GenerationView, settled: ImageRow) => void;

/** Who is asking: the owner check for pictures and picks lives here, not in Discord code. */
export interface Viewer {
  userId: string;
  guildId: string | null;
  /** Holds Manage Messages in `guildId`. */
  canModerate: boolean;
}

export type ImageLookup =
  | { ok: true; image: ImageWithOwner; isCurrentPick: boolean }
  | { ok: false; reason: "invalid_id" | "not_found" | "forbidden" };

export type SelectResult =
  | { ok: true; selection: SelectionRow; image: ImageRow; generation: GenerationRow }
  | { ok: false; reason: "not_found" | "not_owner" | "not_available" };

export interface ImagePage {
  items: ImageWithOwner[];
  page: number;
  pages: number;
  total: number;
}

export interface GenerationServiceDeps {
  db: Db;
  generations: GenerationsRepo;
  images: ImagesRepo;
  selections: SelectionsRepo;
  files: FileStore;
  provider: ImageProvider;
  /** The safety filter level the request's server chose, if any. */
  safetyLevel?: (guildId: string | null) => SafetyFilterLevel | undefined;
  /** The model recorded on the generation row; each image row records the model that actually ran it. */
  model: () => string;
  limiter: Limiter;
  clock: Clock;
  logger: Logger;
  pollMs: number;
  timeoutMs: number;
  /** Called once when a generation settles, inside the transaction that settles it (refunds its failed slots). */
  onFinished?: (generation: GenerationRow, images: ImageRow[]) => void;
}

export class GenerationService {
  /** Runs each slot as one prediction job; stopping it leaves running slots resumable, none marked failed. */
  private readonly jobs: PredictionJobRunner;

  constructor(private readonly deps: GenerationServiceDeps) {
    this.jobs = new PredictionJobRunner({ limiter: deps.limiter, clock: deps.clock, pollMs: deps.pollMs });
  }

  /** Records the generation and runs its slots in parallel (no admission checks: see `create`). */
  async start(request: GenerationRequest, onProgress?: ProgressListener): Promise<GenerationView> {
    const created = this.create(request);
    if (!created.ok) throw new Error(`refused: ${created.reason}`);
    return this.run(created.generationId, onProgress);
  }

  /**
   * Records the generation and its pending slots in one transaction, after `admit` (blocklist, running jobs,
   * allowance) says yes inside the same transaction. Nothing runs yet: `run` does that.
   */
  create(
    request: GenerationRequest,
    admit?: (jobId: string, model: string) => Admission,
  ): { ok: true; generationId: string } | ({ ok: false } & Refusal) {
    const { generations, images, db, clock } = this.deps;
    if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_IMAGES) {
      throw new RangeError(`count must be 1–${MAX_IMAGES}`);
    }
    const id = newId();
    const model = this.deps.model();
    // Only a level the server chose is recorded and sent; a model that cannot apply it is named on the grid.
    const safety = this.deps.safetyLevel?.(request.guildId);
    return db.transaction(() => {
      const admission = admit?.(id, model) ?? { ok: true as const };
      if (!admission.ok) return admission;
      const now = clock.now();
      generations.insert({
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
      });
      for (let slot = 1; slot <= request.count; slot++) images.insertPending(newId(), id, slot, now);
      return { ok: true as const, generationId: id };
    })();
  }

  /**
   * Runs every unfinished slot of a generation and settles its status. A slot with a prediction id is
   * polled, never started again, so this also resumes a generation after a restart.
   */
  async run(
    generationId: string,
    onProgress?: ProgressListener,
    onQueue?: (ahead: number) => void,
  ): Promise<GenerationView> {
    const generation = this.deps.generations.get(generationId);
    if (!generation) throw new Error(`no generation ${generationId}`);
    const open = this.deps.images
      .forGeneration(generationId)
      .filter((i) => i.status === "pending" || i.status === "running");
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
    await Promise.all(
      open.map(async (image) => {
        await this.runSlot(image, {
          queued: (ahead) => {
            waiting.set(image.slot, ahead);
            report();
          },
          started: () => {
            if (waiting.delete(image.slot)) report();
          },
        });
        if (this.jobs.stopped) return;
        const view = this.view(generationId);
        const settled = view?.images.find((i) => i.id === image.id);
        if (view && settled && onProgress) {
          try {
            onProgress(view, settled);
          } catch (err) {
            this.deps.logger.error({ err, generationId }, "progress listener failed");
          }
        }
      }),
    );
    if (!this.jobs.stopped) this.finish(generationId);
    return this.view(generationId) as GenerationView;
  }

  /** Stops waiting on predictions so the process can exit; their rows stay resumable. */
  stop(): void {
    this.jobs.stop();
  }

  view(generationId: string): GenerationView | undefined {
    const generation = this.deps.generations.get(generationId);
    return generation && { generation, images: this.deps.images.forGeneration(generationId) };
  }

  /** Generations whose result has not reached Discord: to resume and deliver after a restart. */
  undelivered(): GenerationRow[] {
    return this.deps.generations.undelivered();
  }

  /**
   * Gives up a generation whose acknowledgement Discord refused (late, or a server error): nothing has run,
   * so its slots are marked failed, it counts as delivered (nothing to resume after a restart) and its whole
   * reservation is refunded, in one transaction. The member is not left "with a request running".
   */
  abandon(generationId: string, reason: string): void {
    const { db, images, generations, clock } = this.deps;
    db.transaction(() => {
      const now = clock.now();
      for (const image of images.forGeneration(generationId)) {
        if (image.status === "pending") images.markFailed(image.id, "abandoned", reason, now);
      }
      this.finish(generationId);
      generations.markDelivered(generationId, now);
    })();
  }

  markDelivered(generationId: string): void {
    this.deps.generations.markDelivered(generationId, this.deps.clock.now());
  }

  setMessageId(generationId: string, messageId: string): void {
    this.deps.generations.setMessageId(generationId, messageId);
  }

  /** An image the viewer may see: their own, or any in their guild when they moderate it. */
  getImage(imageId: string, viewer: Viewer): ImageLookup {
    if (!isUuid(imageId)) return { ok: false, reason: "invalid_id" };
    const image = this.deps.images.get(imageId);
    if (!image || image.deletedAt !== null || image.status !== "succeeded")
      return { ok: false, reason: "not_found" };
    const mayModerate = viewer.canModerate && viewer.guildId !== null && viewer.guildId === image.guildId;
    if (image.userId !== viewer.userId && !mayModerate) return { ok: false, reason: "forbidden" };
    const pick = this.deps.selections.current(image.userId, image.guildId);
    return { ok: true, image, isCurrentPick: pick?.imageId === image.id };
  }

  /** An image row by id with no access check: for jobs that already passed one. */
  imageRow(imageId: string): ImageWithOwner | undefined {
    return isUuid(imageId) ? this.deps.images.get(imageId) : undefined;
  }

  /** The bytes of a stored image; the name is checked to be `<uuid>.<ext>` before the disk is touched. */
  readImageFile(image: Pick<ImageRow, "fileName">): Promise<Buffer> {
    if (!image.fileName) throw new Error("image has no file");
    return this.deps.files.read(image.fileName);
  }

  /** A user's stored images in one guild, newest first; `page` counts from 1. */
  listImages(userId: string, guildId: string | null, page: number, pageSize: number): ImagePage {
    const total = this.deps.images.countByUser(userId, guildId);
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const current = Math.min(Math.max(1, Math.floor(page)), pages);
    const items = this.deps.images.listByUser(userId, guildId, pageSize, (current - 1) * pageSize);
    return { items, page: current, pages, total };
  }

  /**
   * Deletes a stored image: its file goes, its row stays marked deleted (for the audit trail and so buttons
   * on old grids answer that it is gone). The caller has checked the viewer may.
   */
  async deleteImage(image: ImageWithOwner): Promise<boolean> {
    if (!this.deps.images.markDeleted(image.id, this.deps.clock.now())) return false;
    if (image.fileName) await this.deps.files.remove(image.fileName);
    return true;
  }

  /** Records a pick; only the member who asked for the generation may pick from it. */
  select(generationId: string, slot: number, userId: string): SelectResult {
    if (!isUuid(generationId)) return { ok: false, reason: "not_found" };
    const generation = this.deps.generations.get(generationId);
    if (!generation) return { ok: false, reason: "not_found" };
    if (generation.userId !== userId) return { ok: false, reason: "not_owner" };
    const image = this.deps.images.forGeneration(generationId).find((i) => i.slot === slot);
    if (image?.status !== "succeeded" || image.deletedAt !== null)
      return { ok: false, reason: "not_available" };
    const selection = this.deps.selections.insert({
      guildId: generation.guildId,
      userId,
      imageId: image.id,
      generationId,
      selectedAt: this.deps.clock.now(),
    });
    return { ok: true, selection, image, generation };
  }

  /** The slot currently picked from a generation, if any. */
  pickedSlot(generationId: string): number | undefined {
    const selection = this.deps.selections.latestForGeneration(generationId);
    if (!selection) return undefined;
    return this.deps.images.forGeneration(generationId).find((i) => i.id === selection.imageId)?.slot;
  }

  /** The user's current pick in a guild (null guild: direct messages), unless that image is gone. */
  currentSelection(
    userId: string,
    guildId: string | null,
  ): { selection: SelectionRow; image: ImageWithOwner } | undefined {
    const selection = this.deps.selections.current(userId, guildId);
    const image = selection && this.deps.images.get(selection.imageId);
    if (!selection || !image || image.deletedAt !== null) return undefined;
    return { selection, image };
  }

  private async runSlot(
    image: ImageRow,
    queue: { queued: (ahead: number) => void; started: () => void },
  ): Promise<void> {
    const job = this.slotJob(image.id);
    if (job) await this.jobs.run(job, queue);
  }

  /**
   * One image slot as a prediction job, keyed by its row's id: what it sends (the generation's prompt and
   * parameters), how its image is stored and how its start, success and failure are recorded.
   */
  slotJob(imageId: string): PredictionJob<ImageRequest> | undefined {
    const { provider, images, files, clock, logger } = this.deps;
    const image = images.get(imageId);
    const generation = image && this.deps.generations.get(image.generationId);
    if (!image || !generation) return undefined;
    const { slot } = image;
    const log = logger.child({ generationId: generation.id, imageId, slot });
    return {
      key: { kind: "image", id: imageId },
      provider,
      log,
      state: () => images.jobState(imageId),
      request: async () => ({
        prompt: generation.prompt,
        aspectRatio: generation.params.aspectRatio as AspectRatio,
        slot,
        ...(generation.params.safetyFilterLevel
          ? { safetyFilterLevel: generation.params.safetyFilterLevel as SafetyFilterLevel }
          : {}),
      }),
      markCreateSent: (at) => images.markCreateSent(imageId, at),
      markStarted: (started) => images.markStarted(imageId, started.predictionId, started.model),
      heldElsewhere: (since) => images.predictionIdsHeldElsewhere(imageId, since),
      deadline: (now) => now + this.deps.timeoutMs,
      store: async (_output, data) => {
        const facts = await files.writeImage(imageId, data);
        images.markSucceeded(imageId, facts, clock.now());
        log.info({ bytes: facts.bytes }, "image stored");
      },
      fail: (failure) => images.markFailed(imageId, failure.code, failure.message, clock.now()),
    };
  }

  /** Settles the generation once no slot is open; its refund is written in the same transaction. */
  private finish(generationId: string): void {
    const { db, images, generations, clock } = this.deps;
    db.transaction(() => {
      const rows = images.forGeneration(generationId);
      if (rows.some((i) => i.status === "pending" || i.status === "running")) return;
      const succeeded = rows.filter((i) => i.status === "succeeded").length;
      const status: GenerationStatus =
        succeeded === rows.length ? "succeeded" : succeeded === 0 ? "failed" : "partial";
      if (generations.finish(generationId, status, clock.now())) {
        const generation = generations.get(generationId);
        if (generation) this.deps.onFinished?.(generation, rows);
      }
    })();
  }
}
