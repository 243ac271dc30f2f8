// After references are deleted: every message of the bot's that showed them, or a video made from them, is
// edited so the removed image or video is no longer there. Each grid is edited once, however many of its
// images went. The edits were scheduled in the deletion's transaction; one a crash cut short is made at start.
import type { REST } from "discord.js";
import type { PendingMessageEdit } from "../../db/repositories/pending-message-edits-repo.ts";
import type { VideoRow } from "../../db/repositories/videos-repo.ts";
import type { AppContext } from "../../features/context.ts";
import type { Removal } from "../../features/references/reference-service.ts";
import { inLocales, rowLocales } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { perImageBudget } from "../replies/attachments.ts";
import { GenerationReply } from "../replies/generation-reply.ts";
import { PastMessage } from "../replies/past-message.ts";
import { renderVideoRemoved } from "../views/video.ts";

export async function showRemovals(
  ctx: AppContext,
  rest: REST,
  removals: readonly Removal[],
  log: Logger,
): Promise<void> {
  const generations = new Set(removals.map((r) => r.image.generationId));
  await applyEdits(
    ctx,
    rest,
    [
      ...[...generations].map((jobId) => ({ kind: "grid" as const, jobId })),
      ...removals.flatMap((r) => r.videos.map((v) => ({ kind: "video" as const, jobId: v.id }))),
    ],
    log,
  );
}

/** At start: the message edits of deletions that committed before the last run stopped. */
export async function finishPendingRemovals(ctx: AppContext, rest: REST): Promise<void> {
  try {
    const edits = await ctx.references.pendingEdits();
    if (edits.length === 0) return;
    const log = ctx.logger.child({ pendingMessageEdits: edits.length });
    log.info("editing the messages of deletions the last run did not finish");
    await applyEdits(ctx, rest, edits, log);
  } catch (err) {
    // A stop during start closes the database; what is left is tried again at the next start.
    ctx.logger.warn({ err }, "could not finish the pending message edits");
  }
}

/** Each edit is tried once and then cleared: a message that cannot be edited is logged, not retried forever. */
export async function applyEdits(
  ctx: AppContext,
  rest: REST,
  edits: readonly PendingMessageEdit[],
  log: Logger,
): Promise<void> {
  for (const edit of edits) {
    try {
      if (edit.kind === "grid") {
        await refreshGrid(ctx, rest, edit.jobId, log);
      } else {
        const video = await ctx.video.get(edit.jobId);
        if (video) await showVideoRemoved(ctx, rest, video, log);
      }
    } catch (err) {
      log.warn({ err, ...edit }, "could not edit a message after a deletion");
    }
    await ctx.references.editDone(edit);
  }
}

/**
 * Re-renders a generation's grid after an image was deleted: the image leaves the message and a line says it
 * was removed. Through the interaction's webhook while its token lives, after that over the bot token with the
 * stored message id, so a grid of any age loses the image. A generation still running shows it when it ends.
 */
async function refreshGrid(ctx: AppContext, rest: REST, generationId: string, log: Logger): Promise<void> {
  const view = await ctx.generation.view(generationId);
  const g = view?.generation;
  if (!view || !g || g.status === "running" || (!g.messageId && !g.interactionToken)) return;
  const reply = new GenerationReply(
    g.id,
    new PastMessage(rest, g, ctx.clock),
    ctx,
    perImageBudget(undefined, g.requested),
    log,
  );
  try {
    const picked = await ctx.references.pickedSlot(g.id);
    // The grid is re-rendered in the language it was posted in, whoever deleted the image and whenever.
    await inLocales(rowLocales(g), () => reply.showGrid(view, picked));
  } catch (err) {
    log.warn({ err, generationId }, "could not update the grid after a deletion");
  }
}

/**
 * Replaces a delivered (or still running) video's message with a note that it was removed: through the
 * interaction's webhook while its token lives, else over the bot token with the stored message id.
 */
async function showVideoRemoved(ctx: AppContext, rest: REST, video: VideoRow, log: Logger): Promise<void> {
  if (!video.messageId && !video.interactionToken) return;
  const removed = (await ctx.video.get(video.id)) ?? video;
  try {
    // In the language the video was posted in, whoever deleted the reference and whenever.
    const content = inLocales(rowLocales(removed), () => renderVideoRemoved(removed));
    await new PastMessage(rest, video, ctx.clock).edit({ content, files: [] });
  } catch (err) {
    log.warn({ err, videoId: video.id }, "could not replace a removed video's message");
  }
}
