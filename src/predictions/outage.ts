// How work that met the database (or object store) away is tried again: one schedule for every place that rides
// an outage out, a generation's slots in one process as well as the shared queue's jobs.
import { type Clock, sleep } from "../kit/clock.ts";
import { StorageUnavailableError } from "../kit/errors.ts";

/**
 * The pauses before each try again (the last one repeats), and how long an outage is ridden out in all:
 * Replicate keeps an output for an hour, and work tried again only polls the recorded prediction and stores
 * its output.
 */
const OUTAGE_RETRY_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];
const OUTAGE_GIVE_UP_MS = 50 * 60 * 1000;

/** The pause before trying again after `times` tries have met the outage already. */
export function outagePauseMs(times: number): number {
  return OUTAGE_RETRY_MS[Math.min(times, OUTAGE_RETRY_MS.length - 1)] as number;
}

/** Whether an outage first met at `since` has lasted longer than it is waited out. */
export function outageOutlasted(since: number, now: number): boolean {
  return now - since > OUTAGE_GIVE_UP_MS;
}

/** The database away past the data layer's own retries: nothing can be recorded until it is back. */
export function isDatabaseAway(err: unknown): err is StorageUnavailableError {
  return err instanceof StorageUnavailableError && err.variable === "DATABASE_URL";
}

/**
 * Runs `attempt` until it ends without the database away; meanwhile says so (`onRetry`, before each pause) and
 * tries again with growing pauses, until the outage outlasts OUTAGE_GIVE_UP_MS (its error is thrown) or `signal`
 * aborts (returns: what the attempt left open stays so for the next start).
 */
export async function retryThroughDatabaseOutage(
  attempt: (tries: number) => Promise<void>,
  options: {
    clock: Clock;
    signal: AbortSignal;
    onRetry: (err: StorageUnavailableError, pauseMs: number) => void;
  },
): Promise<void> {
  const { clock, signal } = options;
  const since = clock.now();
  for (let tries = 0; ; tries++) {
    try {
      return await attempt(tries);
    } catch (err) {
      if (!isDatabaseAway(err) || signal.aborted || outageOutlasted(since, clock.now())) throw err;
      const pause = outagePauseMs(tries);
      options.onRetry(err, pause);
      try {
        await sleep(pause, signal);
      } catch {
        return;
      }
    }
  }
}
