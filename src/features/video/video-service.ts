// /video's domain: turn a reference image into a video, durably (the prediction id is stored before waiting).

import type { DataStore } from "../../db/data-store.ts";
import type { Repos } from "../../db/repos.ts";
import type { InteractionRef } from "../../db/repositories/generations-repo.ts";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import {
  uploadedUrlOf,
  type VideoParams,
  type VideoRow,
  type VideosRepo,
  videoParamsOf,
} from "../../db/repositories/videos-repo.ts";
import type { FileStore } from "../../files/file-store.ts";
import type { LinkSigner } from "../../files/signed-links.ts";
import type { FailureCode } from "../../kit/failures.ts";
import { t } from "../../kit/i18n.ts";
import { newId } from "../../kit/ids.ts";
import type { Logger } from "../../kit/logger.ts";
import type { PredictionJob } from "../../predictions/job-runner.ts";
import { type PredictionJobDeps, RowJobs } from "../../predictions/row-jobs.ts";
import type {
  ReferenceImage,
  VideoRequest as VideoModelRequest,
  VideoProvider,
} from "../../providers/types.ts";
import {
  defaultVideoSeconds,
  isVideoModelId,
  type ResolvedVideoOptions,
  resolveVideoOptions,
  type VideoModelId,
  type VideoOptions,
  videoModel,
} from "../../providers/video-models.ts";
import { type Admission, admissionLocks, type Refusal } from "../limits/admission.ts";
import { referenceImageInput } from "../references/reference-image.ts";
import type { ReferenceService, Viewer } from "../references/reference-service.ts";

export interface VideoRequest {
  viewer: Viewer;
  channelId: string | null;
  prompt: string;
  /** The start frame (for a model without frames: the character reference). */
  image: ImageWithOwner;
  /** What else was asked (see `plan`); absent: the default model with its defaults. */
  video?: VideoChoice;
  interaction?: InteractionRef;
}

/** A model's plan (see `plan`) with the images it names. */
export interface VideoChoice {
  plan: VideoPlan;
  endImage?: ImageWithOwner | undefined;
  referenceImages?: readonly ImageWithOwner[] | undefined;
}

/** A model the table says can make what was asked, with its defaults filled in. */
export interface VideoPlan {
  model: VideoModelId;
  options: ResolvedVideoOptions;
}

export interface VideoServiceDeps extends PredictionJobDeps {
  data: DataStore;
  videos: VideosRepo;
  references: ReferenceService;
  files: FileStore;
  /** Signed links: the reference goes to the model as one when PUBLIC_URL is set. */
  links: LinkSigner;
  provider: VideoProvider;
  /** The model of a request that names none (VIDEO_MODEL). */
  defaultModel: VideoModelId;
  /** The model every video is recorded and run as whatever was chosen (the mock's, in mock mode). */
  runsAs?: string | undefined;
  logger: Logger;
  timeoutMs: number;
  /**
   * Called once when a video fails, inside the transaction `tx` that records the failure (refunds it); it must
   * touch nothing but `tx`.
   */
  onFailed?: (video: VideoRow, tx: Repos) => Promise<void>;
}

export class VideoService {
  /** Runs each video as one prediction job; stopping them leaves running videos resumable. */
  private readonly jobs: RowJobs<VideoRow>;

  constructor(private readonly deps: VideoServiceDeps) {
    this.jobs = new RowJobs({ kind: "video", rows: deps.videos.jobs, deliveries: deps.videos }, deps);
  }

  /**
   * Records the job, after `admit` (blocklist, running jobs, allowance) says yes inside the same transaction,
   * which holds the member's and the guild's locks; `run` then makes it.
   */
  async create(
    request: VideoRequest,
    admit?: (jobId: string, model: string, tx: Repos) => Promise<Admission>,
  ): Promise<{ ok: true; video: VideoRow } | ({ ok: false } & Refusal)> {
    const id = newId();
    const choice = request.video ?? { plan: this.defaultPlan() };
    const imageIds = [
      request.image.id,
      ...(choice.endImage ? [choice.endImage.id] : []),
      ...(choice.referenceImages ?? []).map((i) => i.id),
    ];
    const model = this.deps.runsAs ?? choice.plan.model;
    return this.deps.data.transaction(
      async (tx) => {
        // Checked again in the transaction that records the video: a deletion since the command looked them up
        // would otherwise leave a video recorded (and charged) against a frame that is gone.
        for (const imageId of imageIds) {
          if ((await tx.images.get(imageId))?.deletedAt !== null) {
            return { ok: false as const, reason: "gone" as const };
          }
        }
        const admission = (await admit?.(id, model, tx)) ?? { ok: true as const };
        if (!admission.ok) return admission;
        await this.insert(id, { ...request, video: choice }, model, tx);
        return { ok: true as const, video: (await tx.videos.get(id)) as VideoRow };
      },
      {
        locks: [
          ...admissionLocks(request.viewer.userId, request.viewer.guildId),
          ...[...new Set(imageIds)].map((imageId) => `image:${imageId}`),
        ],
      },
    );
  }

  /**
   * Whether `model` (default: VIDEO_MODEL) can make what was asked, from the table alone: a refusal says what
   * the model can do, and nothing is recorded or charged for it.
   */
  plan(
    model: string | undefined,
    asked: VideoOptions,
  ): { ok: true; plan: VideoPlan } | { ok: false; message: string } {
    const id = model ?? this.deps.defaultModel;
    if (!isVideoModelId(id)) return { ok: false, message: t("models:video.unknown", { model: id }) };
    const resolved = resolveVideoOptions(videoModel(id), asked);
    return resolved.ok ? { ok: true, plan: { model: id, options: resolved.options } } : resolved;
  }

  private defaultPlan(): VideoPlan {
    const planned = this.plan(undefined, { endFrame: false, extraReferences: 0 });
    if (!planned.ok) throw new Error(planned.message);
    return planned.plan;
  }

  private async insert(
    id: string,
    request: VideoRequest & { video: VideoChoice },
    model: string,
    tx: Repos,
  ): Promise<void> {
    const { plan, endImage, referenceImages } = request.video;
    const params: VideoParams = {
      spec: plan.model,
      durationSeconds: plan.options.durationSeconds,
      ...(plan.options.aspectRatio ? { aspectRatio: plan.options.aspectRatio } : {}),
      ...(endImage ? { endImageId: endImage.id } : {}),
      ...(referenceImages?.length ? { referenceImageIds: referenceImages.map((i) => i.id) } : {}),
    };
    await tx.videos.insert({
      id,
      referenceImageId: request.image.id,
      generationId: request.image.generationId,
      guildId: request.viewer.guildId,
      channelId: request.channelId,
      userId: request.viewer.userId,
      prompt: request.prompt,
      model,
      params: JSON.stringify(params),
      interactionId: request.interaction?.interactionId ?? null,
      interactionToken: request.interaction?.interactionToken ?? null,
      applicationId: request.interaction?.applicationId ?? null,
      locale: request.interaction?.locale ?? null,
      publicLocale: request.interaction?.publicLocale ?? null,
      delivery: request.interaction?.delivery ?? "channel",
      createdAt: this.deps.clock.now(),
    });
  }

  /**
   * Makes (or, after a restart, keeps waiting on) a video: a stored prediction id is polled, never created
   * again. Resolves with the row as it ends; still `running` when a shutdown cut the wait short.
   */
  async run(
    videoId: string,
    onPoll?: () => void,
    onQueue?: (ahead: number) => void,
    log?: Logger,
  ): Promise<VideoRow> {
    const job = await this.job(videoId, log);
    if (!job) throw new Error(`no video ${videoId}`);
    await this.jobs.run(job, {
      ...(onQueue ? { queued: onQueue, started: () => onQueue(0) } : {}),
      ...(onPoll ? { polled: onPoll } : {}),
    });
    return (await this.deps.videos.get(videoId)) as VideoRow;
  }

  /**
   * A video as a prediction job, keyed by its row's id: what it sends (the prompt and the stored reference),
   * how the video is stored and how its start, success and failure (with its refund) are recorded.
   */
  async job(
    videoId: string,
    logger: Logger = this.deps.logger,
  ): Promise<PredictionJob<VideoModelRequest> | undefined> {
    const { videos, files, provider, clock } = this.deps;
    const video = await videos.get(videoId);
    if (!video) return undefined;
    const log = logger.child({ videoId, referenceImageId: video.referenceImageId });
    return this.jobs.job(videoId, {
      provider,
      log,
      request: () => this.modelRequest(video),
      markStarted: (started) => videos.markStarted(videoId, started.predictionId),
      deadline: (now) => Math.max(video.createdAt + this.deps.timeoutMs, now + 3 * this.deps.pollMs),
      store: async (output, data) => {
        const stored = await files.writeVideo(videoId, data);
        await videos.markSucceeded(
          videoId,
          stored,
          output.startsWith("https://") ? output : null,
          clock.now(),
        );
        log.info({ bytes: stored.bytes }, "video stored");
      },
      fail: (failure) => this.fail(videoId, failure.code, failure.message),
    });
  }

  stop(): void {
    this.jobs.stop();
  }

  /** Whether `stop` was called: a run that returns now has left its row open. */
  get stopped(): boolean {
    return this.jobs.stopped;
  }

  /** Ends a video that will never run (its job could not be queued) as `code`, with its refund. */
  giveUp(videoId: string, code: FailureCode, message: string): Promise<void> {
    return this.fail(videoId, code, message);
  }

  /** Records a failure and its refund together: a crash cannot keep one without the other. */
  private async fail(videoId: string, code: FailureCode, message: string): Promise<void> {
    await this.deps.data.transaction((tx) => this.failIn(videoId, code, message, tx));
  }

  /** `fail` in the caller's transaction. */
  private async failIn(videoId: string, code: FailureCode, message: string, tx: Repos): Promise<void> {
    if (await tx.videos.markFailed(videoId, code, message, this.deps.clock.now())) {
      await this.deps.onFailed?.((await tx.videos.get(videoId)) as VideoRow, tx);
    }
  }

  forImage(imageId: string): Promise<VideoRow[]> {
    return this.deps.videos.forImage(imageId);
  }

  undelivered(): Promise<VideoRow[]> {
    return this.jobs.undelivered();
  }

  markDelivered(videoId: string): Promise<void> {
    return this.jobs.markDelivered(videoId);
  }

  setMessageId(videoId: string, messageId: string): Promise<void> {
    return this.jobs.setMessageId(videoId, messageId);
  }

  /** The row as it is now: a moderator may have deleted the video since the caller read it. */
  get(videoId: string): Promise<VideoRow | undefined> {
    return this.deps.videos.get(videoId);
  }

  /**
   * Removes what a video deleted while it was being made may have written after its deletion: its row no
   * longer stands for the file, so nothing else would.
   */
  async discardDeletedOutput(video: Pick<VideoRow, "id" | "deletedAt">): Promise<void> {
    if (video.deletedAt !== null) await this.deps.files.remove(`${video.id}.mp4`);
  }

  readVideoFile(video: Pick<VideoRow, "fileName">): Promise<Buffer> {
    if (!video.fileName) throw new Error("video has no file");
    return this.deps.files.read(video.fileName);
  }

  /**
   * What the model is sent for a video: its prompt, model and length, and each stored image as the model
   * receives it. A row made before lengths and frames could be chosen has only its model's defaults.
   */
  private async modelRequest(video: VideoRow): Promise<VideoModelRequest> {
    const params = videoParamsOf(video);
    const model = params.spec ?? video.model;
    const durationSeconds = params.durationSeconds ?? defaultVideoSeconds(model) ?? 0;
    const refs = params.referenceImageIds ?? [];
    return {
      prompt: video.prompt,
      model,
      image: await this.referenceImage(video, video.referenceImageId, "start"),
      endImage: params.endImageId
        ? await this.referenceImage(video, params.endImageId, params.endImageId)
        : undefined,
      referenceImages:
        refs.length > 0
          ? await Promise.all(refs.map((imageId) => this.referenceImage(video, imageId, imageId)))
          : undefined,
      durationSeconds,
      aspectRatio: params.aspectRatio,
    };
  }

  /** One stored image as the model receives it (see referenceImageInput); `key` names its recorded upload. */
  private async referenceImage(
    video: Pick<VideoRow, "id" | "createdAt">,
    imageId: string,
    key: string,
  ): Promise<ReferenceImage> {
    const { links, files, provider, videos } = this.deps;
    return referenceImageInput(
      { links, files, host: provider },
      await this.deps.references.imageRow(imageId),
      { createdAt: video.createdAt, runsForMs: this.deps.timeoutMs },
      {
        recorded: async () => uploadedUrlOf(await videos.get(video.id), key),
        remember: (url) => videos.rememberUploadedUrl(video.id, key, url),
      },
    );
  }
}
