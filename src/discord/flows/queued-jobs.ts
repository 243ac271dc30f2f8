// What a worker runs for each job of the shared queue (REDIS_URL), delivering over REST with the interaction's
// token while it lives and the bot's token after. A worker holds nothing in memory that a job needs: every job reads
// its rows, so any worker can run it, and a killed worker's jobs are finished by another.
import type { REST } from "discord.js";
import type { GenerationRow } from "../../db/repositories/generations-repo.ts";
import type { AppContext } from "../../features/context.ts";
import { isOpen, type LandedListener } from "../../features/generation/generation-view.ts";
import { inLocales, rowLocales } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import type { EarlyGrids } from "../../queue/early-grids.ts";
import type { HandlerOutcome, JobHandlers, QueuedWork } from "../../queue/job-queue.ts";
import { MissingRowError } from "../../queue/queue-errors.ts";
import { perImageBudget } from "../replies/attachments.ts";
import { GenerationReply } from "../replies/generation-reply.ts";
import { DurableReply, INTERACTION_TOKEN_TTL_MS, type JobOrigin } from "../replies/reply-target.ts";
import { VideoReply } from "../replies/video-reply.ts";
import { renderProgress } from "../views/grid.ts";

/** A row's reply target: the gateway acknowledged the interaction before it enqueued the job. */
function targetFor(ctx: AppContext, rest: REST, row: JobOrigin, log: Logger): DurableReply {
  return new DurableReply(rest, { ...row, acknowledged: true }, ctx.clock, log);
}

/** Whether the interaction's token still edits its reply (after that, only the final result is posted). */
function tokenLive(ctx: AppContext, row: GenerationRow): boolean {
  return !!row.interactionToken && ctx.clock.now() - row.createdAt < INTERACTION_TOKEN_TTL_MS - 60_000;
}

/**
 * The grid sent by the worker whose slot ends the generation, while its image is stored or once its slot is
 * recorded (see queued-slot.ts): the delivery job that runs once every slot's job has ended finds it standing
 * (EarlyGrids) and only records it, unless it may have been replaced since. Only through the interaction's
 * reply: once the token is near its end the result becomes a channel message, which only the delivery job posts.
 */
class EarlyGrid {
  /** The generation whose grid went out from here. */
  sent: string | undefined;

  constructor(
    private readonly ctx: AppContext,
    private readonly rest: REST,
    private readonly grids: EarlyGrids,
    private readonly work: QueuedWork,
    private readonly log: Logger,
  ) {}

  /** The grid's send; runQueuedSlot ends the slot's job after it, so the delivery job never overtakes it. */
  readonly onLanded: LandedListener = (view) => {
    const { ctx, grids } = this;
    const g = view.generation;
    if (!tokenLive(ctx, g)) return undefined;
    const gLog = this.log.child({ generationId: g.id });
    const budget = perImageBudget(this.work.uploadLimit, g.requested);
    const reply = new GenerationReply(g.id, targetFor(ctx, this.rest, g, gLog), ctx, budget, gLog);
    return inLocales(rowLocales(g), async () => {
      if (!(await grids.sending(g.id))) return;
      const shown = await reply.onLanded(view);
      if (shown === undefined) return;
      this.sent = g.id;
      await grids.shown(g.id, shown);
      gLog.debug("grid sent by the slot that ended the generation");
    }).catch((err: unknown) => gLog.warn({ err }, "the early grid was not recorded; the delivery sends it"));
  };
}

/**
 * One slot's job: the grid when its image is the generation's last, otherwise a progress edit saying how far the
 * generation got.
 */
async function runSlot(
  ctx: AppContext,
  rest: REST,
  grids: EarlyGrids | undefined,
  work: QueuedWork,
  log: Logger,
): Promise<HandlerOutcome> {
  const early = grids && new EarlyGrid(ctx, rest, grids, work, log);
  const ran = await ctx.generation.runQueuedSlot(work.id, log, early?.onLanded);
  if (ran === "missing") throw new MissingRowError(`image ${work.id}`);
  if (ctx.generation.stopped) return "stopped";
  if (early?.sent) {
    // The slot is recorded: the generation no longer counts as running, for a press on the grid (Regenerate
    // under the running cap) that comes before the delivery job.
    await ctx.generation.settle(early.sent);
    return "done";
  }
  const image = await ctx.references.imageRow(work.id);
  const view = image && (await ctx.generation.view(image.generationId));
  if (!view) return "done";
  const gId = view.generation.id;
  // A job run again (its worker died, or the mark below failed) may have edited the progress before.
  if (ran === "ended") await grids?.progressEdited(gId);
  // The last slot's news is the grid; the others say how far it got, unless a grid already set out.
  // Only through the interaction's reply: a channel message per slot would be noise.
  if (view.images.some(isOpen) && tokenLive(ctx, view.generation) && !(await grids?.setOut(gId))) {
    const slotLog = log.child({ generationId: gId, imageId: work.id });
    const progress = inLocales(rowLocales(view.generation), () => renderProgress(view));
    await targetFor(ctx, rest, view.generation, slotLog)
      .edit({ ...progress, files: [] })
      .catch((err: unknown) => slotLog.warn({ err }, "progress edit failed"));
    // Answered (or lost on the way): a grid sent early before it may no longer show. A mark that fails
    // fails the job, and its next attempt marks again (above).
    await grids?.progressEdited(gId);
  }
  return "done";
}

/** What a worker runs: a slot, a generation's delivery once its slots have ended, a video. */
export function queuedJobHandlers(ctx: AppContext, rest: REST): JobHandlers {
  const grids = ctx.jobs?.earlyGrids;
  return {
    image: (work, log) => runSlot(ctx, rest, grids, work, log),

    async generation(work, log) {
      await ctx.generation.settle(work.id);
      const view = await ctx.generation.view(work.id);
      if (!view) throw new MissingRowError(`generation ${work.id}`);
      if (view.generation.deliveredAt !== null) return "done";
      const g = view.generation;
      const gLog = log.child({ generationId: g.id });
      const budget = perImageBudget(work.uploadLimit, g.requested);
      const reply = new GenerationReply(g.id, targetFor(ctx, rest, g, gLog), ctx, budget, gLog);
      // A grid a slot's worker sent stands only for a generation whose slots have all ended (one left open
      // makes the reply say the rest comes later).
      const standing = view.images.some(isOpen) ? undefined : await grids?.standing(g.id);
      if (standing) reply.assumeShown(standing);
      // A slot whose job failed for good (its store was down through every attempt) is still open: the
      // reply says the rest comes later, and the next start enqueues it again.
      await inLocales(rowLocales(g), () => reply.finish(view));
      await grids?.forget(g.id);
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
