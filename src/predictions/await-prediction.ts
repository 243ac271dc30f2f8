// Waiting on one prediction: poll until it ends, give up (and cancel) at its deadline, ride out brief errors.
import { type Clock, sleep } from "../kit/clock.ts";
import { PredictionFailure } from "../kit/failures.ts";
import type { PredictionProvider, PredictionState } from "../providers/types.ts";
import type { PredictionEvents } from "./completions.ts";
import { FAST_POLL_MS, type LatencyEstimate, pollPlan } from "./latency.ts";

/** After this many failed status checks in a row a running prediction is given up as a provider error. */
const MAX_POLL_ERRORS = 5;

export interface WaitOptions {
  /** When the prediction's create was sent (epoch ms): its running time is counted from then. Default: now. */
  startedAt?: number;
  deadline: number;
  pollMs: number;
  clock: Clock;
  signal: AbortSignal;
  /** Learns from this prediction and paces the polling by what it has learnt. */
  latency?: LatencyEstimate;
  /** Told the prediction's own running time, when the provider reports it with the result. */
  onRunningTime?: (ms: number) => void;
  /** Called on each poll while it runs (e.g. to show elapsed time). */
  onPoll?: () => void;
  /**
   * With Replicate's webhooks on: the completions they announce, which end a sleep at once, and the slow
   * safety-net interval that replaces the paced polling (see safetyNetPollMs). The wake only triggers the
   * next status check; the result is always read from the provider.
   */
  webhooks?: { events: PredictionEvents; pollMs: number };
}

/** The output URL of a prediction that succeeded; a PredictionFailure for any other ending. */
export async function awaitOutput(
  provider: PredictionProvider<unknown>,
  predictionId: string,
  options: WaitOptions,
): Promise<string> {
  const { clock, pollMs, deadline, signal, latency } = options;
  const startedAt = options.startedAt ?? clock.now();
  const watch = options.webhooks?.events.watch(predictionId);
  try {
    return await poll();
  } finally {
    watch?.close();
  }

  async function poll(): Promise<string> {
    let errors = 0;
    if (latency && !options.webhooks) {
      // A prediction that cannot be done yet is not asked about (one resumed after a restart, long since
      // created, is asked at once): under load these first checks alone (one per
      // create) would spend a good part of the account's status-check budget, and the checks that matter, of
      // predictions about to finish, would wait behind them.
      await latency.ready;
      const plan = pollPlan(clock.now() - startedAt, latency, pollMs);
      if (plan.notDue) await sleep(plan.delayMs, signal);
    }
    for (;;) {
      let state: PredictionState = { status: "running" };
      // A completion announced from here on is read by this check or cuts the next sleep short.
      watch?.reset();
      try {
        state = await provider.get(predictionId, signal);
        errors = 0;
      } catch (err) {
        // A status check that fails (after the fetch's own retries) is not the prediction failing: it is
        // paid for and may still finish, so keep asking a few times before giving up on it, and cancel it
        // when giving up so it does not run on unwatched.
        if (signal.aborted) throw err;
        if (++errors >= MAX_POLL_ERRORS) {
          await provider.cancel(predictionId);
          const reason = err instanceof PredictionFailure ? err.message : String(err);
          throw new PredictionFailure(
            "provider_error",
            `gave up after ${MAX_POLL_ERRORS} failed status checks (${reason}); cancelled`,
          );
        }
      }
      if (state.status === "succeeded") {
        // The provider's own running time when it reports one: the observed time carries this poll's lag.
        latency?.observe(state.durationMs ?? clock.now() - startedAt);
        if (state.durationMs !== undefined) options.onRunningTime?.(state.durationMs);
        return state.output;
      }
      if (state.status === "failed") throw state.failure;
      if (clock.now() + pollMs > deadline) {
        await provider.cancel(predictionId);
        throw new PredictionFailure("timeout", "no result before the deadline; cancelled");
      }
      options.onPoll?.();
      if (watch && options.webhooks) {
        // The next check at the safety-net interval (never past the deadline, so the last check before giving
        // up is not pushed beyond it) or as soon as a completion arrives. onPoll keeps the normal pace in
        // between, so a video's elapsed time still moves while nothing is asked of the provider.
        const checkAt = Math.min(clock.now() + options.webhooks.pollMs, deadline);
        while (!watch.woken && clock.now() < checkAt) {
          await watch.sleep(Math.min(pollMs, checkAt - clock.now()), signal);
          if (!watch.woken && clock.now() < checkAt) options.onPoll?.();
        }
      } else {
        // The first wait needs what recorded history teaches (read once per model, while the create ran).
        if (latency) await latency.ready;
        const plan = pollPlan(clock.now() - startedAt, latency, pollMs);
        if (!plan.onTick) await sleep(plan.delayMs, signal);
        // A slower check joins the next tick too (at most 2 × FAST_POLL_MS later): while many predictions run,
        // the tick's one list request answers it with the others instead of a request of its own. Under load,
        // one GET per slow check took most of the account's status budget, and the checks of predictions
        // about to finish waited behind them (load poll lag p95 321 ms).
        await nextTick(signal);
      }
    }
  }
}

/** Pending ticks by their time: every fast check due at one tick shares its timer. */
const ticks = new Map<number, { promise: Promise<void>; checks: number }>();
/** How many checks the last tick to fire carried. */
let lastTickChecks = 0;
/**
 * From this many checks on one tick, ticks come every 2 × FAST_POLL_MS: a lone generation's slots are checked
 * every 25 ms, while a burst (one list request per tick, each answering dozens) is read at half that rate, so
 * the lists' parsing does not crowd out the work of storing and sending what they report.
 */
const BUSY_TICK_CHECKS = 5;

/**
 * Waits until the next tick on the wall clock (a multiple of FAST_POLL_MS, or of twice it while busy). Every
 * prediction in its fast phase wakes in the same timer callback, so their status checks leave in one turn of
 * the event loop and the provider can answer them with one request (see ReplicatePredictions.get). Process-wide
 * on purpose, as the provider's request budget is: a table of timers (an entry lives until its tick, at most
 * 2 × FAST_POLL_MS) and the last tick's size, nothing a job depends on for correctness.
 */
function nextTick(signal: AbortSignal): Promise<void> {
  const period = lastTickChecks >= BUSY_TICK_CHECKS ? 2 * FAST_POLL_MS : FAST_POLL_MS;
  const at = (Math.floor(Date.now() / period) + 1) * period;
  let tick = ticks.get(at);
  if (!tick) {
    const entry = { checks: 0, promise: Promise.resolve() };
    entry.promise = new Promise<void>((resolve) =>
      setTimeout(() => {
        ticks.delete(at);
        lastTickChecks = entry.checks;
        resolve();
      }, at - Date.now()),
    );
    ticks.set(at, entry);
    tick = entry;
  }
  tick.checks++;
  const shared = tick.promise;
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    void shared.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
