// How long a model's predictions usually take, and when to ask whether one has finished: rarely while it
// cannot be done yet, every FAST_POLL_MS while it is due, then more and more rarely as it runs late. Fewer
// requests to Replicate (3,000 non-create requests a minute per account, shared by every process), and a
// result seen within tens of milliseconds of its end.
//
// What it learns from is the prediction's own running time as the provider reports it (`completed_at` −
// `created_at`, or `metrics.predict_time`), not the time the bot took to notice: learning the observed time
// would add each poll's lag to the estimate, and the next poll would come later still. Recorded running
// times are kept on the image rows, so a restarted bot starts from the last ones instead of from nothing
// (see PredictionJobRunner's `history`).

/** The check interval while a result is due, unless the configured interval is shorter still. */
export const FAST_POLL_MS = 25;

/** Without an estimate, the wait before a check is the time elapsed divided by this (see pollPlan). */
const NO_HISTORY_BACKOFF = 16;

export class LatencyEstimate {
  private meanMs: number | undefined;
  private deviationMs = 0;
  /** Resolves once the recorded history (if any) has been learnt; see `seed`. */
  ready: Promise<void> = Promise.resolve();

  constructor(private readonly weight = 0.2) {}

  /** A finished prediction's running time. */
  observe(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    if (this.meanMs === undefined) {
      this.meanMs = ms;
      this.deviationMs = ms * 0.05;
      return;
    }
    this.deviationMs += this.weight * (Math.abs(ms - this.meanMs) - this.deviationMs);
    this.meanMs += this.weight * (ms - this.meanMs);
  }

  /** Learns recorded running times (oldest first) once `history` answers; a failed read is learnt as none. */
  seed(history: Promise<readonly number[]>): void {
    this.ready = history.then(
      (times) => {
        for (const ms of times) this.observe(ms);
      },
      () => undefined,
    );
  }

  get expectedMs(): number | undefined {
    return this.meanMs;
  }

  /** How far running times usually stray from the expected one (a moving mean absolute deviation). */
  get spreadMs(): number {
    return this.deviationMs;
  }
}

/**
 * The wait before the next status check, `elapsedMs` after the prediction was created (`delayMs`). Without an
 * estimate, the normal interval. With one: until the result may be due (two spreads before the usual time,
 * never more than the normal interval at once), then every FAST_POLL_MS until four spreads after it, then a
 * quarter of how late it is (so a prediction queued on a cold model is not asked twenty times a second), at
 * most the normal interval. Also whether the check is one of the fast ones while a result is due (at the full
 * FAST_POLL_MS pace; those wait for a shared tick, so that checks due together leave together), and whether
 * the result cannot be due yet.
 */
export function pollPlan(
  elapsedMs: number,
  estimate: { expectedMs: number | undefined; spreadMs: number } | undefined,
  pollMs: number,
): { delayMs: number; onTick: boolean; notDue?: true } {
  const fast = Math.min(pollMs, FAST_POLL_MS);
  const expected = estimate?.expectedMs;
  if (expected === undefined) {
    // A model with no history (a fresh install's first requests): start fast and back off to a sixteenth of
    // the time elapsed, so a result is seen within about 6 % of its running time (a 1.2 s prediction: ≤ 75 ms
    // late) and a long one settles at the normal interval after 16 × pollMs. A prior from the model tables
    // would be wrong by several times for a warm or a cold model; the first result teaches the real time.
    const delayMs = Math.min(pollMs, Math.max(fast, Math.round(elapsedMs / NO_HISTORY_BACKOFF)));
    return { delayMs, onTick: delayMs === FAST_POLL_MS };
  }
  const spread = Math.max(estimate?.spreadMs ?? 0, fast);
  const due = expected - 2 * spread - fast;
  if (elapsedMs < due)
    return { delayMs: Math.min(pollMs, Math.max(fast, due - elapsedMs)), onTick: false, notDue: true };
  const late = elapsedMs - (expected + 4 * spread);
  if (late <= 0) return { delayMs: fast, onTick: fast === FAST_POLL_MS };
  return { delayMs: Math.min(pollMs, Math.max(fast, Math.round(late / 4))), onTick: false };
}
