// Waiting on one prediction: poll until it ends, give up (and cancel) at its deadline, ride out brief errors.
import { type Clock, sleep } from "../kit/clock.ts";
import { PredictionFailure } from "../kit/failures.ts";
import type { PredictionProvider, PredictionState } from "../providers/types.ts";
import type { PredictionEvents, PredictionWatch } from "./completions.ts";
import { type LatencyEstimate, pollPlan } from "./latency.ts";
import { PollTicks } from "./poll-ticks.ts";

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
  /** The fast-poll ticks the application context's waits share; a wait without them ticks on its own. */
  ticks?: PollTicks;
}

/** The output URL of a prediction that succeeded; a PredictionFailure for any other ending. */
export async function awaitOutput(
  provider: PredictionProvider<unknown>,
  predictionId: string,
  options: WaitOptions,
): Promise<string> {
  const wait = new PredictionWait(provider, predictionId, options);
  try {
    return await wait.poll();
  } finally {
    wait.close();
  }
}

/** One wait on one prediction: what it has seen so far, between its status checks. */
class PredictionWait {
  private readonly startedAt: number;
  /** Open for the whole wait when webhooks are on, so a completion that lands mid-check still cuts a sleep. */
  private readonly watch: PredictionWatch | undefined;
  private readonly ticks: PollTicks;
  /** Status checks that failed in a row. */
  private errors = 0;

  constructor(
    private readonly provider: PredictionProvider<unknown>,
    private readonly predictionId: string,
    private readonly options: WaitOptions,
  ) {
    this.startedAt = options.startedAt ?? options.clock.now();
    this.watch = options.webhooks?.events.watch(predictionId);
    this.ticks = options.ticks ?? new PollTicks();
  }

  close(): void {
    this.watch?.close();
  }

  async poll(): Promise<string> {
    await this.untilDue();
    for (;;) {
      const output = await this.outcome(await this.check());
      if (output !== undefined) return output;
      this.options.onPoll?.();
      const { webhooks } = this.options;
      if (this.watch && webhooks) await this.untilWoken(this.watch, webhooks.pollMs);
      else await this.paced();
    }
  }

  /**
   * A prediction that cannot be done yet is not asked about (one resumed after a restart, long since created, is
   * asked at once): under load these first checks alone (one per create) would spend a good part of the
   * account's status-check budget, and the checks that matter, of predictions about to finish, would wait
   * behind them.
   */
  private async untilDue(): Promise<void> {
    const { latency, clock, pollMs, signal } = this.options;
    if (!latency || this.options.webhooks) return;
    await latency.ready;
    const plan = pollPlan(clock.now() - this.startedAt, latency, pollMs);
    if (plan.notDue) await sleep(plan.delayMs, signal);
  }

  /**
   * One status check. One that fails (after the fetch's own retries) is not the prediction failing: it is paid
   * for and may still finish, so it counts as still running a few times before the prediction is given up, and
   * cancelled then so it does not run on unwatched.
   */
  private async check(): Promise<PredictionState> {
    const { signal } = this.options;
    // A completion announced from here on is read by this check or cuts the next sleep short.
    this.watch?.reset();
    try {
      const state = await this.provider.get(this.predictionId, signal);
      this.errors = 0;
      return state;
    } catch (err) {
      if (signal.aborted) throw err;
      if (++this.errors >= MAX_POLL_ERRORS) {
        await this.provider.cancel(this.predictionId);
        const reason = err instanceof PredictionFailure ? err.message : String(err);
        throw new PredictionFailure(
          "provider_error",
          `gave up after ${MAX_POLL_ERRORS} failed status checks (${reason}); cancelled`,
        );
      }
      return { status: "running" };
    }
  }

  /** The output of a prediction that succeeded, undefined while it runs; throws for any other ending. */
  private async outcome(state: PredictionState): Promise<string | undefined> {
    const { clock, pollMs, deadline, latency } = this.options;
    if (state.status === "succeeded") {
      // The provider's own running time when it reports one: the observed time carries this poll's lag.
      latency?.observe(state.durationMs ?? clock.now() - this.startedAt);
      if (state.durationMs !== undefined) this.options.onRunningTime?.(state.durationMs);
      return state.output;
    }
    if (state.status === "failed") throw state.failure;
    if (clock.now() + pollMs > deadline) {
      await this.provider.cancel(this.predictionId);
      throw new PredictionFailure("timeout", "no result before the deadline; cancelled");
    }
    return undefined;
  }

  /**
   * With webhooks on: the next check at the safety-net interval (never past the deadline, so the last check before
   * giving up is not pushed beyond it) or as soon as a completion arrives. onPoll keeps the normal pace in
   * between, so a video's elapsed time still moves while nothing is asked of the provider.
   */
  private async untilWoken(watch: PredictionWatch, safetyNetMs: number): Promise<void> {
    const { clock, pollMs, deadline, signal } = this.options;
    const checkAt = Math.min(clock.now() + safetyNetMs, deadline);
    while (!watch.woken && clock.now() < checkAt) {
      await watch.sleep(Math.min(pollMs, checkAt - clock.now()), signal);
      if (!watch.woken && clock.now() < checkAt) this.options.onPoll?.();
    }
  }

  private async paced(): Promise<void> {
    const { latency, clock, pollMs, signal } = this.options;
    // The first wait needs what recorded history teaches (read once per model, while the create ran).
    if (latency) await latency.ready;
    const plan = pollPlan(clock.now() - this.startedAt, latency, pollMs);
    if (!plan.onTick) await sleep(plan.delayMs, signal);
    // A slower check joins the next tick too (at most 2 × FAST_POLL_MS later): while many predictions run,
    // the tick's one list request answers it with the others instead of a request of its own. Under load,
    // one GET per slow check took most of the account's status budget, and the checks of predictions
    // about to finish waited behind them (load poll lag p95 321 ms).
    await this.ticks.next(signal);
  }
}
