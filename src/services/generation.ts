// /character's domain: a generation of 1–4 images run in parallel, stored, listed and picked from.
import { setMaxListeners } from "node:events";
import type { Clock } from "../domain/clock.ts";
import { recordableFailure } from "../domain/failures.ts";
import { newId } from "../domain/ids.ts";
import type { Logger } from "../domain/logger.ts";
import type { Db } from "../storage/database.ts";
import type { FileStore } from "../storage/file-store.ts";
import type {
  GenerationRow,
  GenerationStatus,
  GenerationsRepo,
  InteractionRef,
} from "../storage/generations-repo.ts";
import type { ImageRow, ImagesRepo } from "../storage/images-repo.ts";
import type { Admission, Refusal } from "./admission.ts";
import { LatencyEstimate } from "./latency.ts";
import type { Limiter } from "./limiter.ts";
import { awaitOutput } from "./predictions.ts";
import type { AspectRatio, SafetyFilterLevel } from "./providers/image-models.ts";
import type { ImageProvider } from "./providers/types.ts";

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

export interface GenerationServiceDeps {
  db: Db;
  generations: GenerationsRepo;
  images: ImagesRepo;
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
  /** Aborted on shutdown: running slots stop waiting and stay resumable, nothing is marked failed. */
  private readonly stopping = new AbortController();
  /** How long this service's predictions usually take; paces polling. */
  private readonly latency = new LatencyEstimate();

  constructor(private readonly deps: GenerationServiceDeps) {
    // Every prediction being waited on listens for the stop; hundreds at once are expected, not a leak.
    setMaxListeners(0, this.stopping.signal);
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
        await this.runSlot(generation, image, {
          queued: (ahead) => {
            waiting.set(image.slot, ahead);
            report();
          },
          started: () => {
            if (waiting.delete(image.slot)) report();
          },
        });
        if (this.stopping.signal.aborted) return;
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
    if (!this.stopping.signal.aborted) this.finish(generationId);
    return this.view(generationId) as GenerationView;
  }

  /** Stops waiting on predictions so the process can exit; their rows stay resumable. */
  stop(): void {
    this.stopping.abort(new Error("shutting down"));
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

  private async runSlot(
    generation: GenerationRow,
    image: ImageRow,
    queue: { queued: (ahead: number) => void; started: () => void },
  ): Promise<void> {
    const { provider, images, files, clock, logger, limiter } = this.deps;
    const log = logger.child({ generationId: generation.id, imageId: image.id, slot: image.slot });
    try {
      await limiter.run(async () => {
        queue.started();
        const signal = this.stopping.signal;
        let predictionId = image.predictionId;
        if (!predictionId) {
          const started = await provider.start(
            {
              prompt: generation.prompt,
              aspectRatio: generation.params.aspectRatio as AspectRatio,
              slot: image.slot,
              ...(generation.params.safetyFilterLevel
                ? { safetyFilterLevel: generation.params.safetyFilterLevel as SafetyFilterLevel }
                : {}),
            },
            signal,
          );
          predictionId = started.predictionId;
          images.markStarted(image.id, predictionId, started.model);
          log.debug({ predictionId, model: started.model }, "prediction started");
        }
        const output = await awaitOutput(provider, predictionId, {
          deadline: clock.now() + this.deps.timeoutMs,
          pollMs: this.deps.pollMs,
          clock,
          signal,
          latency: this.latency,
        });
        const data = await provider.fetchOutput(output, signal);
        const facts = await files.writeImage(image.id, data);
        images.markSucceeded(image.id, facts, clock.now());
        log.info({ predictionId, bytes: facts.bytes }, "image stored");
      }, queue.queued);
    } catch (err) {
      if (this.stopping.signal.aborted) return;
      const failure = recordableFailure(err, log, "image");
      images.markFailed(image.id, failure.code, failure.message, clock.now());
    }
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
