// What a worker runs for each job of the shared queue (REDIS_URL), delivering over REST with the interaction's
// token while it lives and the bot's token after. A worker holds nothing in memory that a job needs: every job reads
// its rows, so any worker can run it, and a killed worker's jobs are finished by another.
import type { REST } from "discord.js";
import type { GenerationRow } from "../../db/repositories/generations-repo.ts";
import type { AppContext } from "../../features/context.ts";
import { inLocales, rowLocales } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import type { JobHandlers } from "../../queue/job-queue.ts";
import { MissingRowError } from "../../queue/queue-errors.ts";
import { perImageBudget } from "../replies/attachments.ts";
import { GenerationReply } from "../replies/generation-reply.ts";
import { DurableReply, INTERACTION_TOKEN_TTL_MS, type JobOrigin } from "../replies/reply-target.ts";
import { VideoReply } from "../replies/video-reply.ts";
import { renderProgress } from "../views/grid.ts";

const isOpen = (i: { status: string }) => i.status === "pending" || i.status === "running";

/** A row's reply target: the gateway acknowledged the interaction before it enqueued the job. */
function targetFor(ctx: AppContext, rest: REST, row: JobOrigin, log: Logger): DurableReply {
  return new DurableReply(rest, { ...row, acknowledged: true }, ctx.clock, log);
}

/** Whether the interaction's token still edits its reply (after that, only the final result is posted). */
function tokenLive(ctx: AppContext, row: GenerationRow): boolean {
  return !!row.interactionToken && ctx.clock.now() - row.createdAt < INTERACTION_TOKEN_TTL_MS - 60_000;
}

/** What a worker runs: a slot, a generation's delivery once its slots have ended, a video. */
export function queuedJobHandlers(ctx: AppContext, rest: REST): JobHandlers {
  return {
    async image(work, log) {
      if (!(await ctx.generation.runQueuedSlot(work.id, log))) throw new MissingRowError(`image ${work.id}`);
      if (ctx.generation.stopped) return "stopped";
      const image = await ctx.references.imageRow(work.id);
      const view = image && (await ctx.generation.view(image.generationId));
      // The last slot's news is the grid, which the delivery job posts; the others say how far it got. Only
      // through the interaction's reply: a channel message per slot would be noise.
      if (view?.images.some(isOpen) && tokenLive(ctx, view.generation)) {
        const slotLog = log.child({ generationId: view.generation.id, imageId: work.id });
        const progress = inLocales(rowLocales(view.generation), () => renderProgress(view));
        await targetFor(ctx, rest, view.generation, slotLog)
          .edit({ ...progress, files: [] })
          .catch((err: unknown) => slotLog.warn({ err }, "progress edit failed"));
      }
      return "done";
    },

    async generation(work, log) {
      await ctx.generation.settle(work.id);
      const view = await ctx.generation.view(work.id);
      if (!view) throw new MissingRowError(`generation ${work.id}`);
      if (view.generation.deliveredAt !== null) return "done";
      const g = view.generation;
      const gLog = log.child({ generationId: g.id });
      const budget = perImageBudget(work.uploadLimit, g.requested);
      const reply = new GenerationReply(g.id, targetFor(ctx, rest, g, gLog), ctx, budget, gLog);
      // A slot whose job failed for good (its store was down through every attempt) is still open: the
      // reply says the rest comes later, and the next start enqueues it again.
      await inLocales(rowLocales(g), () => reply.finish(view));
      return "done";
    },

    async video(work, log) {
      const video = await ctx.video.get(work.id);
      if (!video) throw new MissingRowError(`video ${work.id}`);
      if (video.deliveredAt !== null) return "done";
      const vLog = log.child({ videoId: video.id });
      const reply = new VideoReply(targetFor(ctx, rest, video, vLog), ctx, work.uploadLimit, vLog);
      // Its progress and result in the languages it was asked in, whichever worker runs it.
      return inLocales(rowLocales(video), async () => {
        const settled = await ctx.video.run(video.id, reply.start(video), undefined, log);
        if (ctx.video.stopped) return "stopped";
        await reply.finish(settled);
        return "done";
      });
    },
  };
}
