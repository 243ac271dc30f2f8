// The rows are the truth, the queue a copy: a Redis that lost its data (a restart without persistence, a
// failover, FLUSHDB, an eviction) loses jobs that the rows still say are undelivered. Every worker ticks each
// QUEUE_RECONCILE_SECONDS; the one that gets the period's turn (an expiring Redis key) sets the fleet-wide
// limits again and puts back every undelivered row the queue holds no job for. A job put back for a row whose
// prediction was already created polls it (the create is claimed in the database), so nothing is created twice.
import { enqueueUndelivered } from "../discord/flows/resume.ts";
import type { AppContext } from "../features/context.ts";
import type { SharedJobQueue } from "../queue/job-queue.ts";

export interface QueueReconciler {
  /** No more rounds; waits for the one under way. */
  stop(): Promise<void>;
}

export function startQueueReconciler(
  ctx: AppContext,
  jobs: SharedJobQueue,
  periodMs: number,
): QueueReconciler {
  let round: Promise<void> | undefined;
  const timer = setInterval(() => {
    round ??= reconcileOnce(ctx, jobs, periodMs)
      .catch((err: unknown) => ctx.logger.warn({ err }, "could not compare the queue with the rows"))
      .finally(() => {
        round = undefined;
      });
  }, periodMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await round;
    },
  };
}

async function reconcileOnce(ctx: AppContext, jobs: SharedJobQueue, periodMs: number): Promise<void> {
  if (!(await jobs.reconcileTurn(periodMs))) return;
  await jobs.applyLimits();
  await enqueueUndelivered(ctx, jobs, { missingOnly: true });
}
