// How long predictions usually take, learnt as they finish, so polling can be quick exactly when a result
// is due and slow otherwise: fewer requests to Replicate, and results seen within a tenth of a poll interval.

export class LatencyEstimate {
  private estimateMs: number | undefined;

  constructor(private readonly weight = 0.2) {}

  /** A finished prediction's running time. */
  observe(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.estimateMs =
      this.estimateMs === undefined ? ms : this.estimateMs + this.weight * (ms - this.estimateMs);
  }

  get expectedMs(): number | undefined {
    return this.estimateMs;
  }
}

/**
 * The wait before the next status check: the normal interval while the result is not yet due, a tenth of it
 * (at least 50 ms) from 85 % of the usual time until two and a half times it, then the normal interval again.
 * Without an estimate yet, the normal interval.
 */
export function nextPollDelay(elapsedMs: number, expectedMs: number | undefined, pollMs: number): number {
  const fast = Math.min(pollMs, Math.max(50, Math.round(pollMs / 10)));
  if (expectedMs === undefined) return pollMs;
  const due = expectedMs * 0.85;
  if (elapsedMs < due) return Math.min(pollMs, Math.max(fast, due - elapsedMs));
  if (elapsedMs < expectedMs * 2.5) return fast;
  return pollMs;
}
