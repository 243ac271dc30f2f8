// ROLE=worker: no gateway connection. Takes jobs from the shared queue (prediction slots, videos, deliveries),
// runs them and delivers over REST with the interaction's token or the bot's.
import { queuedJobHandlers } from "../discord/flows/queued-jobs.ts";
import { enqueueUndelivered } from "../discord/flows/resume.ts";
import { botRest, restOptionsFor } from "../discord/kit/rest.ts";
import type { AppContext } from "../features/context.ts";
import { recoverBeforeWork, StopSequence, startRetention, watchRest } from "./lifecycle.ts";
import { startQueueReconciler } from "./queue-reconciler.ts";

export interface RunningWorker {
  /** Graceful stop: no new jobs, the ones held handed back to the queue, `beforeClose`, database closed. */
  stop(beforeClose?: () => Promise<void>): Promise<void>;
}

export async function startWorker(ctx: AppContext): Promise<RunningWorker> {
  const { config, logger, jobs } = ctx;
  if (!jobs) throw new Error("ROLE=worker needs the shared job queue (REDIS_URL)");
  if (!config.discord.token) throw new Error("DISCORD_TOKEN is required to deliver results");
  await recoverBeforeWork(ctx);
  const rest = botRest(config.discord.token, restOptionsFor(ctx));
  watchRest(ctx, rest);
  // A queue that lost its jobs (a Redis restarted without persistence) gets them back from the rows.
  await enqueueUndelivered(ctx, jobs);
  jobs.startWorkers(queuedJobHandlers(ctx, rest));
  const reconciler = startQueueReconciler(ctx, jobs, config.queue?.reconcileMs ?? 30_000);
  startRetention(ctx, rest);
  logger.info({ queue: jobs.description }, "worker taking jobs");

  const stopping = new StopSequence(ctx, {
    announce: () => logger.info("stopping: handing back held jobs"),
    drain: () => reconciler.stop(),
  });
  return { stop: (beforeClose) => stopping.stop(beforeClose) };
}
