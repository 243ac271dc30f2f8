// An image slot as a prediction job: what it sends (its generation's prompt and parameters, and the image it is
// drawn from), how its image is stored, and how its start, success and failure are recorded.
import type { GenerationRow, GenerationsRepo } from "../../db/repositories/generations-repo.ts";
import type { ImageRow, ImagesRepo } from "../../db/repositories/images-repo.ts";
import type { FileStore, Inspected } from "../../files/file-store.ts";
import type { LinkSigner } from "../../files/signed-links.ts";
import type { Clock } from "../../kit/clock.ts";
import type { Logger } from "../../kit/logger.ts";
import type { PredictionJob } from "../../predictions/job-runner.ts";
import type { RowJobs } from "../../predictions/row-jobs.ts";
import type {
  AspectRatio,
  ImageProvider,
  ImageRequest,
  ReferenceImage,
  SafetyFilterLevel,
} from "../../providers/types.ts";
import { referenceImageInput } from "../references/reference-image.ts";
import { referencesOf } from "./generation-view.ts";
import { studioOf, studioPrompt } from "./studio.ts";

/** An upscale's factor and face retouching as its generation recorded them. */
function upscaleOf(params: GenerationRow["params"]): Pick<ImageRequest, "upscale"> {
  if (studioOf(params) !== "upscale") return {};
  return { upscale: { scale: params.scale ?? 2, faceEnhance: params.faceEnhance ?? false } };
}

/** The image models a slot may run on: its generation's, or the one that takes a reference. */
export interface SlotModels {
  provider: ImageProvider;
  /**
   * Generations drawn from an image: the provider that takes a reference (IMAGE_REFERENCE_MODEL), and the
   * signed links the image reaches the model by when PUBLIC_URL is set.
   */
  reference?: { provider: ImageProvider; links: LinkSigner } | undefined;
  /** The image panel's upscales: UPSCALE_MODEL's provider (the image reaches it as it reaches the reference model). */
  upscale?: { provider: ImageProvider } | undefined;
}

export interface SlotJobsDeps extends SlotModels {
  generations: GenerationsRepo;
  images: ImagesRepo;
  files: FileStore;
  clock: Clock;
  logger: Logger;
  timeoutMs: number;
}

/** The rows a caller has just read (two round trips fewer before the create on PostgreSQL), and its store's ear. */
export interface KnownSlot {
  image: ImageRow;
  generation: GenerationRow;
  /** Hears of the output once it passed its checks, while it is stored. */
  inspected?: Inspected;
}

type DrawnFrom = NonNullable<SlotModels["reference"]>;

export class SlotJobs {
  /**
   * The images a generation is drawn from being prepared for the model, by generation: its slots start together
   * and share one upload of each.
   */
  private readonly parentInputs = new Map<string, Promise<ReferenceImage[]>>();

  constructor(
    private readonly deps: SlotJobsDeps,
    private readonly jobs: RowJobs<GenerationRow>,
  ) {}

  /** One image slot as a prediction job, keyed by its row's id; undefined when there is no such slot. */
  async slotJob(
    imageId: string,
    logger: Logger = this.deps.logger,
    known?: KnownSlot,
  ): Promise<PredictionJob<ImageRequest> | undefined> {
    const { images, clock } = this.deps;
    const image = known?.image ?? (await images.get(imageId));
    const generation = known?.generation ?? (image && (await this.deps.generations.get(image.generationId)));
    if (!image || !generation) return undefined;
    const { slot } = image;
    const log = logger.child({ generationId: generation.id, imageId, slot });
    const drawnFrom = this.drawnFrom(generation);
    return this.jobs.job(imageId, {
      provider: drawnFrom?.provider ?? this.deps.provider,
      log,
      request: async () => ({
        prompt: studioPrompt(generation.prompt, generation.params, slot),
        aspectRatio: generation.params.aspectRatio as AspectRatio,
        slot,
        ...upscaleOf(generation.params),
        ...(generation.params.safetyFilterLevel
          ? { safetyFilterLevel: generation.params.safetyFilterLevel as SafetyFilterLevel }
          : {}),
        ...(drawnFrom ? { references: await this.sharedParentImages(generation, drawnFrom) } : {}),
      }),
      markStarted: (started) => images.markStarted(imageId, started.predictionId, started.model),
      deadline: (now) => now + this.deps.timeoutMs,
      store: (_output, data, predictMs) => this.store(imageId, data, predictMs, log, known?.inspected),
      fail: async (failure) => {
        await images.markFailed(imageId, failure.code, failure.message, clock.now());
      },
    });
  }

  /** Where a generation drawn from an image goes: the upscaler for an upscale, else the reference model. */
  private drawnFrom(generation: GenerationRow): DrawnFrom | undefined {
    const { reference, upscale } = this.deps;
    if (referencesOf(generation).length === 0 || !reference) return undefined;
    if (studioOf(generation.params) !== "upscale") return reference;
    if (!upscale) throw new Error("an upscale was recorded but no upscale model is configured");
    return { provider: upscale.provider, links: reference.links };
  }

  private async store(
    imageId: string,
    data: Uint8Array,
    predictMs: number | undefined,
    log: Logger,
    inspected: Inspected | undefined,
  ): Promise<void> {
    const { images, files, clock } = this.deps;
    const facts = await files.writeImage(imageId, data, inspected);
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
  }

  private sharedParentImages(generation: GenerationRow, drawnFrom: DrawnFrom): Promise<ReferenceImage[]> {
    const pending = this.parentInputs.get(generation.id);
    if (pending) return pending;
    const made = this.parentImages(generation, drawnFrom).finally(() =>
      this.parentInputs.delete(generation.id),
    );
    this.parentInputs.set(generation.id, made);
    return made;
  }

  /**
   * The images a generation is drawn from, in order, as its model receives them (each the same way /video sends
   * its input), each with the upload URL recorded on its own generation_references row.
   */
  private async parentImages(generation: GenerationRow, drawnFrom: DrawnFrom): Promise<ReferenceImage[]> {
    const { generations, images, files } = this.deps;
    const rows = await generations.references(generation.id);
    return Promise.all(
      rows.map(async (row) =>
        referenceImageInput(
          { links: drawnFrom.links, files, host: drawnFrom.provider },
          await images.get(row.imageId),
          { createdAt: generation.createdAt, runsForMs: this.deps.timeoutMs },
          {
            recorded: async () =>
              (await generations.references(generation.id)).find((r) => r.position === row.position)
                ?.referenceUrl ?? undefined,
            remember: (url) => generations.rememberReferenceUrl(generation.id, row.position, url),
          },
        ),
      ),
    );
  }
}
