// The fast-poll ticks one application context's waits share: every prediction in its fast phase wakes in the
// same timer callback, so their status checks leave in one turn of the event loop and go as one request.
import { FAST_POLL_MS } from "./latency.ts";

/**
 * From this many checks on one tick, ticks come every 2 × FAST_POLL_MS: a lone generation's slots are checked
 * every 25 ms, while a burst (one list request per tick, each answering dozens) is read at half that rate, so
 * the lists' parsing does not crowd out the work of storing and sending what they report.
 */
const BUSY_TICK_CHECKS = 5;

/**
 * Ticks on the wall clock (multiples of FAST_POLL_MS, or of twice it while busy). One per application context,
 * as the provider's request budget is: a table of timers (an entry lives until its tick, at most 2 × FAST_POLL_MS)
 * and the last tick's size, nothing a job depends on for correctness.
 */
export class PollTicks {
  /** Pending ticks by their time: every fast check due at one tick shares its timer. */
  private readonly pending = new Map<number, { promise: Promise<void>; checks: number }>();
  /** How many checks the last tick to fire carried. */
  private lastTickChecks = 0;

  /**
   * Waits until the next tick. Every wait due at it wakes in the same timer callback, so the provider can answer
   * their status checks with one request (see ReplicatePredictions.get). Rejects when `signal` aborts.
   */
  next(signal: AbortSignal): Promise<void> {
    const shared = this.tickAt(this.nextTime());
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

  private nextTime(): number {
    const period = this.lastTickChecks >= BUSY_TICK_CHECKS ? 2 * FAST_POLL_MS : FAST_POLL_MS;
    return (Math.floor(Date.now() / period) + 1) * period;
  }

  /** The tick at `at`, its timer started by the first check due at it; counts this check on it. */
  private tickAt(at: number): Promise<void> {
    let tick = this.pending.get(at);
    if (!tick) {
      const entry = { checks: 0, promise: Promise.resolve() };
      entry.promise = new Promise<void>((resolve) =>
        setTimeout(() => {
          this.pending.delete(at);
          this.lastTickChecks = entry.checks;
          resolve();
        }, at - Date.now()),
      );
      this.pending.set(at, entry);
      tick = entry;
    }
    tick.checks++;
    return tick.promise;
  }
}
