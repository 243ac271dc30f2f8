// On start: finish and deliver every job the last run left behind. Stored prediction ids are polled, never
// created again; results go to the original reply while its token lives, else to a channel message.
import type { REST } from "discord.js";
import type { GenerationRow } from "../../db/repositories/generations-repo.ts";
import type { VideoRow } from "../../db/repositories/videos-repo.ts";
import type { AppContext } from "../../features/context.ts";
import { inLocales, rowLocales } from "../../kit/i18n.ts";
import { RECONCILE_WINDOW_MS, type SharedJobQueue } from "../../queue/job-queue.ts";
import { perImageBudget } from "../replies/attachments.ts";
import { GenerationReply } from "../replies/generation-reply.ts";
import { DurableReply } from "../replies/reply-target.ts";
import { VideoReply } from "../replies/video-reply.ts";

export async function resumeUnfinishedJobs(ctx: AppContext, rest: REST): Promise<Promise<void>[]> {
  // Both lists are read before any job starts, so a failed read leaves no job running untracked.
  if (ctx.jobs) {
    await enqueueUndelivered(ctx, ctx.jobs);
    return [];
  }
  const undeliveredGenerations = await ctx.generation.undelivered();
  const undeliveredVideos = await ctx.video.undelivered();
  const generations = undeliveredGenerations.map((generation) =>
    inLocales(rowLocales(generation), () => resumeGeneration(ctx, rest, generation)),
  );
  const videos = undeliveredVideos.map((video) =>
    inLocales(rowLocales(video), () => resumeVideo(ctx, rest, video)),
  );
  if (generations.length + videos.length > 0) {
    ctx.logger.info({ generations: generations.length, videos: videos.length }, "resuming unfinished jobs");
  }
  return [...generations, ...videos];
}

/** Delivers a generation the last run left, in the languages it was asked in. */
async function resumeGeneration(ctx: AppContext, rest: REST, generation: GenerationRow): Promise<void> {
  const log = ctx.logger.child({ generationId: generation.id, resumed: true });
  try {
    const target = new DurableReply(rest, generation, ctx.clock, log);
    const budget = perImageBudget(undefined, generation.requested);
    const reply = new GenerationReply(generation.id, target, ctx, budget, log);
    await reply.finish(
      await ctx.generation.run(generation.id, reply.onProgress, reply.onQueue, reply.onLanded),
    );
    log.info("resumed generation delivered");
  } catch (err) {
    log.error({ err }, "could not resume generation; it will be tried again at the next start");
  }
}

/** Delivers a video the last run left, in the languages it was asked in. */
async function resumeVideo(ctx: AppContext, rest: REST, video: VideoRow): Promise<void> {
  const log = ctx.logger.child({ videoId: video.id, resumed: true });
  try {
    const reply = new VideoReply(new DurableReply(rest, video, ctx.clock, log), ctx, undefined, log);
    await reply.finish(await ctx.video.run(video.id, reply.start(video), reply.queue(video)));
    log.info("resumed video delivered");
  } catch (err) {
    log.error({ err }, "could not resume video; it will be tried again at the next start");
  }
}

/**
 * With the shared queue, resuming is enqueueing: every undelivered job goes (back) to the queue under its own
 * id, so one still queued, running or recently ended is not added twice, and any worker finishes it. With
 * `missingOnly` (the reconciler), only rows the queue holds no job for at all, in any state: a job that ended
 * with its row still open (failed for good) waits for a restart rather than coming back every period.
 * Returns how many jobs were put on the queue.
 */
export async function enqueueUndelivered(
  ctx: AppContext,
  jobs: SharedJobQueue,
  { missingOnly = false } = {},
): Promise<number> {
  // The reconciler looks only as far back as ended jobs are kept: an older row whose job failed for good
  // would otherwise come back once a day for ever (a restart retries it, as before).
  const since = missingOnly ? ctx.clock.now() - RECONCILE_WINDOW_MS : Number.NEGATIVE_INFINITY;
  const generations = (await ctx.generation.undelivered()).filter((g) => g.createdAt >= since);
  const videos = (await ctx.video.undelivered()).filter((v) => v.createdAt >= since);
  let enqueued = 0;
  for (const generation of generations) {
    if (missingOnly && (await jobs.holds({ kind: "generation", id: generation.id }))) continue;
    const images = await ctx.references.imagesOfGeneration(generation.id);
    const open = images.filter((i) => i.status === "pending" || i.status === "running");
    await jobs.enqueueGeneration(
      generation.id,
      open.map((i) => i.id),
    );
    enqueued++;
  }
  for (const video of videos) {
    if (missingOnly && (await jobs.holds({ kind: "video", id: video.id }))) continue;
    await jobs.enqueueVideo(video.id);
    enqueued++;
  }
  if (enqueued > 0) {
    ctx.logger[missingOnly ? "warn" : "info"](
      { generations: generations.length, videos: videos.length, enqueued },
      missingOnly
        ? "undelivered jobs missing from the queue were put back from the rows (did Redis lose its data?)"
        : "unfinished jobs enqueued for the workers",
    );
  }
  return enqueued;
}
