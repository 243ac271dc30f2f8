// A /video message: elapsed time while the video is made, then the video, why not, or that it was removed.
import { ERASED } from "../../db/repositories/erasure-scrub.ts";
import { type VideoRow, videoParamsOf } from "../../db/repositories/videos-repo.ts";
import { RETENTION_ACTOR } from "../../features/retention/retention-service.ts";
import { failureReason } from "../../kit/failures.ts";
import { formatBytes, queuedLine, quotePrompt, timestamp } from "./message.ts";

const elapsed = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

/** An erased member's video message: nothing of theirs, not even their name. */
const ERASED_VIDEO = "🗑️ This video was removed at the member's request.";

/** " to reference `<id>`" for a video that ends on another reference, or nothing. */
function endOf(video: VideoRow): string {
  const end = videoParamsOf(video).endImageId;
  return end ? ` to reference \`${end}\`` : "";
}

export function renderVideoProgress(video: VideoRow, now: number, queuedAhead = 0, waitMs?: number): string {
  if (video.userId === ERASED) return ERASED_VIDEO;
  return [
    `🎬 Making a video of reference \`${video.referenceImageId}\`${endOf(video)} for <@${video.userId}>: ${quotePrompt(video.prompt)}`,
    queuedAhead > 0
      ? `${queuedLine(queuedAhead, waitMs)} ${elapsed(now - video.createdAt)} elapsed.`
      : `${elapsed(now - video.createdAt)} elapsed · ${video.model} · videos usually take one to six minutes.`,
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
  if (video.userId === ERASED) return ERASED_VIDEO;
  const head = `🎬 ${quotePrompt(video.prompt)} for <@${video.userId}> · from reference \`${video.referenceImageId}\`${endOf(video)} · ${video.model}`;
  if (video.status === "failed") {
    return `❌ The video could not be made for <@${video.userId}>: ${video.errorCode ? failureReason(video.errorCode, "video") : "failed"}.\nReference \`${video.referenceImageId}\` · ${quotePrompt(video.prompt)}`;
  }
  if (attached) return `${head}\nVideo \`${video.id}\``;
  const size = formatBytes(video.bytes);
  const limit = formatBytes(uploadLimit);
  return [
    head,
    `The video is ${size}, over this server's ${limit} upload limit, so it is not attached.`,
    link
      ? `Download it with the button below until ${timestamp(link.expiresAt)} · it is stored by the bot as video \`${video.id}\`.`
      : video.outputUrl
        ? `Download it within an hour of ${timestamp(video.finishedAt)} from ${video.outputUrl} · it is also stored by the bot as video \`${video.id}\`.`
        : `It is stored by the bot as video \`${video.id}\`; the bot's operator can send it to you.`,
  ].join("\n");
}

/** What a video's message says once the video was deleted with its reference. */
export function renderVideoRemoved(video: VideoRow): string {
  if (video.userId === ERASED) return ERASED_VIDEO;
  if (video.deletedBy === ERASED) {
    return `🗑️ Video \`${video.id}\` for <@${video.userId}> was removed: the reference it was made from was removed at its owner's request.`;
  }
  const how =
    video.deletedBy === RETENTION_ACTOR
      ? "removed with its reference after the bot's image retention period"
      : video.deletedBy === video.userId
        ? "deleted with its reference"
        : "removed by a moderator";
  return `🗑️ Video \`${video.id}\` for <@${video.userId}> was ${how}.`;
}
