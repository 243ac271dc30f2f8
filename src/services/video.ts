// /video's domain: turn a reference image into a video, durably (the prediction id is stored before waiting).
import { setMaxListeners } from "node:events";
import type { Clock } from "../domain/clock.ts";
import { type FailureCode, PredictionFailure, recordableFailure } from "../domain/failures.ts";
import { newId } from "../domain/ids.ts";
import type { Logger } from "../domain/logger.ts";
import type { Db } from "../storage/database.ts";
import type { FileStore } from "../storage/file-store.ts";
import type { InteractionRef } from "../storage/generations-repo.ts";
import type { ImageWithOwner } from "../storage/images-repo.ts";
import type { VideoRow, VideosRepo } from "../storage/videos-repo.ts";
import type { Admission, Refusal } from "./admission.ts";
import { LatencyEstimate } from "./latency.ts";
import type { Limiter } from "./limiter.ts";
import { awaitOutput } from "./predictions.ts";
import type { VideoProvider } from "./providers/types.ts";
import type { ReferenceService, Viewer } from "./references.ts";

export interface VideoRequest {
  viewer: Viewer;
  channelId: string | null;
  prompt: string;
  image: ImageWithOwner;
  interaction?: InteractionRef;
}

export interface VideoServiceDeps {
  db: Db;
  videos: VideosRepo;
  references: ReferenceService;
  files: FileStore;
  provider: VideoProvider;
  model: string;
  limiter: Limiter;
  clock: Clock;
  logger: Logger;
  pollMs: number;
  timeoutMs: number;
  /** Called once when a video fails, inside the transaction that records the failure (refunds it). */
  onFailed?: (video: VideoRow) => void;
}

export class VideoService {
  private readonly stopping = new AbortController();
  /** How long this service's predictions usually take; paces polling. */
  private readonly latency = new LatencyEstimate();

  constructor(private readonly deps: VideoServiceDeps) {
    // Every prediction being waited on listens for the stop; hundreds at once are expected, not a leak.
    setMaxListeners(0, this.stopping.signal);
  }

  /**
   * Records the job, after `admit` (blocklist, running jobs, allowance) says yes inside the same transaction;
   * `run` then makes it.
   */
  create(
    request: VideoRequest,
    admit?: (jobId: string, model: string) => Admission,
  ): { ok: true; video: VideoRow } | ({ ok: false } & Refusal) {
    const id = newId();
    return this.deps.db.transaction(() => {
      const admission = admit?.(id, this.deps.model) ?? { ok: true as const };
      if (!admission.ok) return admission;
      this.insert(id, request);
      return { ok: true as const, video: this.deps.videos.get(id) as VideoRow };
    })();
  }

  private insert(id: string, request: VideoRequest): void {
    this.deps.videos.insert({
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
  async run(videoId: string, onPoll?: () => void, onQueue?: (ahead: number) => void): Promise<VideoRow> {
    const { videos, files, provider, clock, limiter, logger } = this.deps;
    const video = videos.get(videoId);
    if (!video) throw new Error(`no video ${videoId}`);
    if (video.status === "succeeded" || video.status === "failed") return video;
    const log = logger.child({ videoId, referenceImageId: video.referenceImageId });
    const signal = this.stopping.signal;
    try {
      await limiter.run(async () => {
        onQueue?.(0);
        let predictionId = video.predictionId;
        if (!predictionId) {
          const image = await this.referenceDataUri(video.referenceImageId);
          const started = await provider.start({ prompt: video.prompt, image }, signal);
          predictionId = started.predictionId;
          videos.markStarted(video.id, predictionId);
          log.info({ predictionId, model: started.model }, "video prediction started");
        }
        const output = await awaitOutput(provider, predictionId, {
          deadline: Math.max(video.createdAt + this.deps.timeoutMs, clock.now() + 3 * this.deps.pollMs),
          pollMs: this.deps.pollMs,
          clock,
          signal,
          latency: this.latency,
          ...(onPoll ? { onPoll } : {}),
        });
        const data = await provider.fetchOutput(output, signal);
        const stored = await files.writeVideo(video.id, data);
        videos.markSucceeded(video.id, stored, output.startsWith("https://") ? output : null, clock.now());
        log.info({ bytes: stored.bytes }, "video stored");
      }, onQueue);
    } catch (err) {
      if (!signal.aborted) {
        const failure = recordableFailure(err, log, "video");
        this.fail(video.id, failure.code, failure.message);
      }
    }
    return videos.get(video.id) as VideoRow;
  }

  stop(): void {
    this.stopping.abort(new Error("shutting down"));
  }

  /**
   * Gives up a video whose acknowledgement Discord refused: nothing has run, so it is marked failed and
   * delivered (nothing to resume) and refunded, in one transaction.
   */
  abandon(videoId: string, reason: string): void {
    this.deps.db.transaction(() => {
      this.fail(videoId, "abandoned", reason);
      this.deps.videos.markDelivered(videoId, this.deps.clock.now());
    })();
  }

  /** Records a failure and its refund together: a crash cannot keep one without the other. */
  private fail(videoId: string, code: FailureCode, message: string): void {
    const { db, videos, clock } = this.deps;
    db.transaction(() => {
      if (videos.markFailed(videoId, code, message, clock.now())) {
        this.deps.onFailed?.(videos.get(videoId) as VideoRow);
      }
    })();
  }

  forImage(imageId: string): VideoRow[] {
    return this.deps.videos.forImage(imageId);
  }

  undelivered(): VideoRow[] {
    return this.deps.videos.undelivered();
  }

  markDelivered(videoId: string): void {
    this.deps.videos.markDelivered(videoId, this.deps.clock.now());
  }

  setMessageId(videoId: string, messageId: string): void {
    this.deps.videos.setMessageId(videoId, messageId);
  }

  /** The row as it is now: a moderator may have deleted the video since the caller read it. */
  get(videoId: string): VideoRow | undefined {
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

  /** The stored reference, byte for byte, as a data: URI in the model's image field. */
  private async referenceDataUri(imageId: string): Promise<string> {
    const image = this.deps.references.imageRow(imageId);
    if (!image?.fileName || image.deletedAt !== null) {
      throw new PredictionFailure("provider_error", "the reference image is no longer stored");
    }
    const data = await this.deps.files.read(image.fileName);
    return `data:${image.mime ?? "image/png"};base64,${data.toString("base64")}`;
  }
}
