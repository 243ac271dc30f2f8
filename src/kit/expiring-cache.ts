// Values kept for a short while, keyed by a string: facts read over a network that may be a little stale.
import type { Clock } from "./clock.ts";

/** Each value is kept `ttlMs` from when it was loaded; loads of one key at the same time share one request. */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expiresAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /** The value kept for `key`, or what `load` gives (kept only when it succeeds). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.clock.now();
    const kept = this.entries.get(key);
    if (kept && kept.expiresAt > now) return kept.value;
    for (const [k, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(k);
    const value = load();
    const entry = { value, expiresAt: now + this.ttlMs };
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }
}
