// Replicate's account limits, for the fake Replicate server when asked to enforce them: creates and every other
// request each counted over the last rolling minute; one past its limit is answered 429 with Retry-After (the
// seconds until the oldest counted request leaves the minute) and is not counted.

export interface AccountLimits {
  /** Prediction creates a minute (Replicate: 600). */
  createsPerMinute: number;
  /** Every other authenticated request a minute (Replicate: 3,000): status checks, lists, cancels, files. */
  otherPerMinute: number;
}

export const REPLICATE_ACCOUNT_LIMITS: AccountLimits = { createsPerMinute: 600, otherPerMinute: 3000 };

const MINUTE_MS = 60_000;

/** One rolling minute's count of accepted requests. */
class RollingMinute {
  private readonly times: number[] = [];
  private head = 0;

  constructor(private readonly limit: number) {}

  /** Counts a request at `now` and returns undefined, or, past the limit, the ms until one more fits. */
  take(now: number): number | undefined {
    while (this.head < this.times.length && (this.times[this.head] as number) <= now - MINUTE_MS) this.head++;
    if (this.head > 4096) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
    if (this.times.length - this.head < this.limit) {
      this.times.push(now);
      return undefined;
    }
    return (this.times[this.head] as number) + MINUTE_MS - now;
  }
}

/** What the limits refused, for a benchmark's report. */
export interface RefusedCounts {
  creates: number;
  other: number;
}

export class AccountLimiter {
  private readonly creates: RollingMinute;
  private readonly other: RollingMinute;
  readonly refused: RefusedCounts = { creates: 0, other: 0 };

  constructor(readonly limits: AccountLimits) {
    this.creates = new RollingMinute(limits.createsPerMinute);
    this.other = new RollingMinute(limits.otherPerMinute);
  }

  /** The Retry-After (whole seconds) for a request refused now, or undefined when it may go through. */
  refuse(isCreate: boolean, now = Date.now()): string | undefined {
    const waitMs = (isCreate ? this.creates : this.other).take(now);
    if (waitMs === undefined) return undefined;
    if (isCreate) this.refused.creates++;
    else this.refused.other++;
    return String(Math.max(1, Math.ceil(waitMs / 1000)));
  }
}

/** Whether a request to the fake's API creates a prediction (by model, or by version). */
export function isCreate(method: string, path: string): boolean {
  return (
    method === "POST" &&
    (path === "/v1/predictions" || /^\/v1\/models\/[\w.-]+\/[\w.-]+\/predictions$/.test(path))
  );
}
