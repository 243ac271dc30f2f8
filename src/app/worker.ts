// ROLE=worker: no gateway connection. Takes jobs from the shared queue (prediction slots, videos, deliveries),
// runs them and delivers over REST with the interaction's token or the bot's.
import { queuedJobHandlers } from "../discord/flows/queued-jobs.ts";
import { enqueueUndelivered } from "../discord/flows/resume.ts";
import { botRest, restOptionsFor } from "../discord/kit/rest.ts";
import { instrumentRest } from "../discord/kit/rest-metrics.ts";
import type { AppContext } from "../features/context.ts";
import { recoverFileStore } from "../files/recovery.ts";

export interface RunningWorker {
  /** Graceful stop: no new jobs, the ones held handed back to the queue, database closed. */
  stop(): Promise<void>;
}

export async function startWorker(ctx: AppContext): Promise<RunningWorker> {
  const { config, logger, jobs } = ctx;
  if (!jobs) throw new Error("ROLE=worker needs the shared job queue (REDIS_URL)");
  if (!config.discord.token) throw new Error("DISCORD_TOKEN is required to deliver results");
  // Before any job can write: finish deletions a crash interrupted, remove orphan and temp files.
  await recoverFileStore({ repos: ctx.repos, files: ctx.files, clock: ctx.clock, logger });
  const rest = botRest(config.discord.token, restOptionsFor(ctx));
  instrumentRest(rest, ctx.metrics);
  rest.on("rateLimited", (info) =>
    logger.warn(
      { route: info.route, retryAfter: info.retryAfter, global: info.global },
      "rate limited by Discord",
    ),
  );
  // A queue that lost its jobs (a Redis restarted without persistence) gets them back from the rows.
  await enqueueUndelivered(ctx, jobs);
  jobs.startWorkers(queuedJobHandlers(ctx, rest));
  logger.info({ queue: jobs.description }, "worker taking jobs");

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        logger.info("stopping: handing back held jobs");
        const handedBack = jobs.drain();
        ctx.generation.stop();
        ctx.video.stop();
        await handedBack;
        await ctx.close();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
}
