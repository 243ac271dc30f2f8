// At most one action per key in a window: a member paging a list faster than anyone reads it is asked to slow
// down. Entries expire with their window, so the map holds only the keys acted on within the last one.
import type { Clock } from "./clock.ts";

export class Cooldown {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    readonly windowMs: number,
  ) {}

  /** True (and the window starts) when `key` has not acted within the window; false inside it. */
  take(key: string): boolean {
    const now = this.clock.now();
    const until = this.until.get(key);
    if (until !== undefined && until > now) return false;
    // Entries are kept in the order they started; the expired ones are at the front.
    for (const [k, end] of this.until) {
      if (end > now) break;
      this.until.delete(k);
    }
    this.until.delete(key);
    this.until.set(key, now + this.windowMs);
    return true;
  }

  /** How many keys are inside their window (for tests and metrics). */
  get size(): number {
    return this.until.size;
  }
}
