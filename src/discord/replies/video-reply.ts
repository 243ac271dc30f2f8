// Keeps a /video message up to date: elapsed time while the prediction runs, then the video or why not.
import type { VideoRow } from "../../db/repositories/videos-repo.ts";
import type { AppContext } from "../../features/context.ts";
import { tPublic } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { linkButtonRow } from "../views/message.ts";
import { renderVideoDone, renderVideoProgress, renderVideoRemoved } from "../views/video.ts";
import { altText, DEFAULT_ATTACHMENT_LIMIT } from "./attachments.ts";
import { QueueUpdates, ThrottledEdits } from "./pacing.ts";
import { LateDeliveryError, type ReplyTarget, UndeliverableError } from "./reply-target.ts";

const OVERHEAD = 64 * 1024;

export class VideoReply {
  private readonly progressEdits: ThrottledEdits<VideoRow>;

  constructor(
    private readonly target: ReplyTarget,
    private readonly ctx: AppContext,
    private readonly uploadLimit: number | undefined,
    private readonly log: Logger,
  ) {
    this.progressEdits = new ThrottledEdits(
      (video) => this.show(video),
      ctx.config.replies.videoProgressIntervalMs,
      ctx.clock,
      (err) => log.warn({ err }, "video progress edit failed"),
    );
  }

  /** Shows the elapsed time now, and again at most every few seconds while `run` polls. */
  start(video: VideoRow): () => void {
    this.progressEdits.schedule(video);
    return () => this.progressEdits.schedule(video);
  }

  private queuedAhead = 0;
  /** The expected wait shown with the fleet queue's place, when known. */
  private queuedWaitMs: number | undefined;
  private queueUpdates: QueueUpdates | undefined;

  /** Shows the place in the queue while the video waits for room under the global limit. */
  queue(video: VideoRow): (ahead: number) => void {
    const updates = new QueueUpdates(
      () => this.progressEdits.schedule(video),
      this.ctx.config.replies.queueIntervalMs,
      this.ctx.clock,
    );
    this.queueUpdates = updates;
    return (ahead) => {
      if (ahead === this.queuedAhead) return;
      this.queuedAhead = ahead;
      updates.changed(ahead);
    };
  }

  /** Shows the video's place in the fleet's queue (shared queue: it waits for any worker). */
  async showQueued(video: VideoRow, ahead: number, waitMs?: number): Promise<void> {
    this.queuedAhead = ahead;
    this.queuedWaitMs = waitMs;
    await this.show(video);
  }

  async finish(video: VideoRow): Promise<void> {
    this.queueUpdates?.stop();
    await this.progressEdits.settle();
    if (video.status === "pending" || video.status === "running") {
      try {
        await this.target.edit({
          content: `${renderVideoProgress(video, this.ctx.clock.now())}\n${tPublic("video:restarting")}`,
        });
      } catch (err) {
        // The note is a courtesy: the video is resumed and delivered after the restart either way.
        if (!(err instanceof UndeliverableError)) throw err;
        this.log.warn({ err, videoId: video.id }, "could not say the video waits for the restart");
      }
      return;
    }
    // Read again: its reference may have been deleted since `run` returned the row.
    const current = (await this.ctx.video.get(video.id)) ?? video;
    if (current.deletedAt !== null) {
      // Deleted while it was being made: nothing of it is shown or kept.
      await this.ctx.video.discardDeletedOutput(current);
      try {
        await this.target.edit({ content: renderVideoRemoved(current), files: [] });
      } catch (err) {
        if (!(err instanceof UndeliverableError)) throw err;
      }
      await this.ctx.video.markDelivered(video.id);
      return;
    }
    const limit = this.uploadLimit ?? DEFAULT_ATTACHMENT_LIMIT;
    const attach =
      video.status === "succeeded" && (video.bytes ?? Number.POSITIVE_INFINITY) <= limit - OVERHEAD;
    // Too large to attach: a signed link to the stored copy, when PUBLIC_URL lets the bot serve one.
    const link =
      video.status === "succeeded" && !attach
        ? await this.ctx.links.sign(video.id, this.ctx.clock.now()).catch((err: unknown) => {
            this.log.warn({ err, videoId: video.id }, "could not sign a link to the video");
            return undefined;
          })
        : undefined;
    try {
      const { messageId } = await this.target.edit({
        content: renderVideoDone(video, attach, limit, link),
        ...(link ? { components: [linkButtonRow(tPublic("video:downloadLabel"), link.url)] } : {}),
        files: attach
          ? [
              {
                name: `video-${video.id}.mp4`,
                description: altText(tPublic("video:altLabel"), video.prompt),
                read: () => this.ctx.video.readVideoFile(video),
              },
            ]
          : [],
      });
      await this.ctx.video.setMessageId(video.id, messageId);
    } catch (err) {
      await this.undeliverable(err, video);
    }
    await this.ctx.video.markDelivered(video.id);
  }

  /** A finished video that cannot be shown stays listed; one finished too late is marked delivered later. */
  private async undeliverable(err: unknown, video: VideoRow): Promise<void> {
    if (!(err instanceof UndeliverableError)) throw err;
    this.log.warn({ err, videoId: video.id }, "video cannot be delivered; /reference info lists it");
    // Only a made video is a result kept for later; a failed one is just over.
    if (err instanceof LateDeliveryError && video.status === "succeeded" && video.deletedAt === null) {
      await this.ctx.lateResults.mark("video", video.id);
    }
  }

  private async show(video: VideoRow): Promise<void> {
    // A moderator's removal note must not be overwritten by the next progress edit.
    const current = (await this.ctx.video.get(video.id)) ?? video;
    const { messageId } = await this.target.edit({
      content:
        current.deletedAt !== null
          ? renderVideoRemoved(current)
          : renderVideoProgress(video, this.ctx.clock.now(), this.queuedAhead, this.queuedWaitMs),
    });
    await this.ctx.video.setMessageId(video.id, messageId);
  }
}
