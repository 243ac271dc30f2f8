// A /video message: elapsed time while the video is made, then the video, why not, or that it was removed. The
// message is the channel's, so its words are in the server's language (tPublic).
import { ERASED } from "../../db/repositories/erasure-scrub.ts";
import { type VideoRow, videoParamsOf } from "../../db/repositories/videos-repo.ts";
import { RETENTION_ACTOR } from "../../features/retention/retention-service.ts";
import { failureReason } from "../../kit/failures.ts";
import { tPublic } from "../../kit/i18n.ts";
import { formatBytes, queuedLine, quotePrompt, timestamp } from "./message.ts";

const elapsed = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

/** An erased member's video message: nothing of theirs, not even their name. */
const erasedVideo = () => tPublic("video:erased");

/** The start reference and, for a video that ends on another reference, that one: the messages' `hasEnd`/`endId`. */
function framesOf(video: VideoRow): { referenceId: string; hasEnd: "yes" | "no"; endId: string } {
  const end = videoParamsOf(video).endImageId;
  return { referenceId: video.referenceImageId, hasEnd: end ? "yes" : "no", endId: end ?? "" };
}

export function renderVideoProgress(video: VideoRow, now: number, queuedAhead = 0, waitMs?: number): string {
  if (video.userId === ERASED) return erasedVideo();
  const took = elapsed(now - video.createdAt);
  return [
    tPublic("video:progress.making", {
      ...framesOf(video),
      userId: video.userId,
      prompt: quotePrompt(video.prompt),
    }),
    queuedAhead > 0
      ? `${queuedLine(queuedAhead, waitMs)} ${tPublic("video:progress.elapsed", { elapsed: took })}`
      : tPublic("video:progress.running", { elapsed: took, model: video.model }),
  ].join("\n");
}

/**
 * The final text of a /video message. `link`: a signed link to the stored video, shown as a "Download video"
 * button (linkButtonRow) when the video is over the upload limit.
 */
export function renderVideoDone(
  video: VideoRow,
  attached: boolean,
  uploadLimit: number,
  link?: { expiresAt: number },
): string {
  if (video.userId === ERASED) return erasedVideo();
  const prompt = quotePrompt(video.prompt);
  if (video.status === "failed") {
    return tPublic("video:done.failed", {
      userId: video.userId,
      reason: video.errorCode ? failureReason(video.errorCode, "video") : tPublic("errors:failure.failed"),
      referenceId: video.referenceImageId,
      prompt,
    });
  }
  const head = tPublic("video:done.head", {
    ...framesOf(video),
    prompt,
    userId: video.userId,
    model: video.model,
  });
  if (attached) return `${head}\n${tPublic("video:done.attached", { videoId: video.id })}`;
  return [
    head,
    tPublic("video:done.tooLarge", { size: formatBytes(video.bytes), limit: formatBytes(uploadLimit) }),
    link
      ? tPublic("video:done.downloadButton", { until: timestamp(link.expiresAt), videoId: video.id })
      : video.outputUrl
        ? tPublic("video:done.downloadUrl", {
            finishedAt: timestamp(video.finishedAt),
            url: video.outputUrl,
            videoId: video.id,
          })
        : tPublic("video:done.storedOnly", { videoId: video.id }),
  ].join("\n");
}

/** What a video's message says once the video was deleted with its reference. */
export function renderVideoRemoved(video: VideoRow): string {
  if (video.userId === ERASED) return erasedVideo();
  if (video.deletedBy === ERASED) {
    return tPublic("video:removed.ownerErased", { videoId: video.id, userId: video.userId });
  }
  const how =
    video.deletedBy === RETENTION_ACTOR
      ? "retention"
      : video.deletedBy === video.userId
        ? "owner"
        : "moderator";
  return tPublic("video:removed.by", { videoId: video.id, userId: video.userId, how });
}
