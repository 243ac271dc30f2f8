// /video's domain: turn a reference image into a video, durably (the prediction id is stored before waiting).

import type { DataStore } from "../../db/data-store.ts";
import type { Repos } from "../../db/repos.ts";
import type { InteractionRef } from "../../db/repositories/generations-repo.ts";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import { referenceUrlOf, type VideoRow, type VideosRepo } from "../../db/repositories/videos-repo.ts";
import type { FileStore } from "../../files/file-store.ts";
import type { LinkSigner } from "../../files/signed-links.ts";
import type { FailureCode } from "../../kit/failures.ts";
import { newId } from "../../kit/ids.ts";
import type { Logger } from "../../kit/logger.ts";
import type { PredictionJob } from "../../predictions/job-runner.ts";
import { type PredictionJobDeps, RowJobs } from "../../predictions/row-jobs.ts";
import type {
  ReferenceImage,
  VideoRequest as VideoModelRequest,
  VideoProvider,
} from "../../providers/types.ts";
import { type Admission, admissionLocks, type Refusal } from "../limits/admission.ts";
import { referenceImageInput } from "../references/reference-image.ts";
import type { ReferenceService, Viewer } from "../references/reference-service.ts";

export interface VideoRequest {
  viewer: Viewer;
  channelId: string | null;
  prompt: string;
  image: ImageWithOwner;
  interaction?: InteractionRef;
}

export interface VideoServiceDeps extends PredictionJobDeps {
  data: DataStore;
  videos: VideosRepo;
  references: ReferenceService;
  files: FileStore;
  /** Signed links: the reference goes to the model as one when PUBLIC_URL is set. */
  links: LinkSigner;
  provider: VideoProvider;
  model: string;
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
    return this.deps.data.transaction(
      async (tx) => {
        // Checked again in the transaction that records the video: a deletion since the command looked it up
        // would otherwise leave a video recorded (and charged) against a reference that is gone.
        const reference = await tx.images.get(request.image.id);
        if (reference?.deletedAt !== null) return { ok: false as const, reason: "gone" as const };
        const admission = (await admit?.(id, this.deps.model, tx)) ?? { ok: true as const };
        if (!admission.ok) return admission;
        await this.insert(id, request, tx);
        return { ok: true as const, video: (await tx.videos.get(id)) as VideoRow };
      },
      {
        locks: [
          ...admissionLocks(request.viewer.userId, request.viewer.guildId),
          `image:${request.image.id}`,
        ],
      },
    );
  }

  private async insert(id: string, request: VideoRequest, tx: Repos): Promise<void> {
    await tx.videos.insert({
      id,
      referenceImageId: request.image.id,
      generationId: request.image.generationId,
      guildId: request.viewer.guildId,
      channelId: request.channelId,
      userId: request.viewer.userId,
      prompt: request.prompt,
      model: this.deps.model,
      params: "{}",
      interactionId: request.interaction?.interactionId ?? null,
      interactionToken: request.interaction?.interactionToken ?? null,
      applicationId: request.interaction?.applicationId ?? null,
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
      request: async () => ({
        prompt: video.prompt,
        image: await this.referenceImage(video),
      }),
      markStarted: async (started) => {
        await videos.markStarted(videoId, started.predictionId);
      },
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

  /** The stored reference as the model receives it (see referenceImageInput). */
  private async referenceImage(
    video: Pick<VideoRow, "id" | "referenceImageId" | "createdAt">,
  ): Promise<ReferenceImage> {
    const { links, files, provider, videos } = this.deps;
    return referenceImageInput(
      { links, files, host: provider },
      await this.deps.references.imageRow(video.referenceImageId),
      { createdAt: video.createdAt, runsForMs: this.deps.timeoutMs },
      {
        recorded: async () => referenceUrlOf(await videos.get(video.id)),
        remember: (url) => videos.rememberReferenceUrl(video.id, url),
      },
    );
  }
}
