// Which Replicate predictions this process already owns, and which creates are still in flight, so that a lost
// create's lookup never adopts a prediction another create or job of this process made.

/** Prediction ids remembered as taken, for this long (Replicate forgets API predictions' data after an hour). */
const CLAIM_TTL_MS = 2 * 60 * 60 * 1000;

/** A model and the match key of the input it was sent. */
export type Candidate = { model: string; key: string };

export class PredictionClaims {
  /** Ids this process created, adopted or polled: never adopted for another create. */
  private readonly claimed = new Map<string, number>();
  /** Creates in flight, by model and input: a lookup waits for them so it cannot take a sibling's prediction. */
  private readonly inFlight = new Map<string, Set<Promise<unknown>>>();

  claim(predictionId: string): void {
    const now = Date.now();
    this.claimed.set(predictionId, now);
    if (this.claimed.size > 1000) {
      for (const [id, at] of this.claimed) if (now - at > CLAIM_TTL_MS) this.claimed.delete(id);
    }
  }

  isClaimed(predictionId: string): boolean {
    return this.claimed.has(predictionId);
  }

  /** Counts `request`, a create of the input `key` names, as in flight until `createAnswered`. */
  createStarted(key: string, request: Promise<unknown>): void {
    const siblings = this.inFlight.get(key) ?? new Set<Promise<unknown>>();
    siblings.add(request);
    this.inFlight.set(key, siblings);
  }

  /**
   * The create is no longer in flight. Called again once done, as a no-op: a create that lost its answer says so
   * before looking for its prediction, so that the lookup does not wait on the create itself.
   */
  createAnswered(key: string, request: Promise<unknown>): void {
    const siblings = this.inFlight.get(key);
    if (!siblings) return;
    siblings.delete(request);
    if (siblings.size === 0) this.inFlight.delete(key);
  }

  /** Settles once every create of these candidates that is in flight now has been answered (or not). */
  async createsInFlight(candidates: readonly Candidate[]): Promise<void> {
    await Promise.allSettled(candidates.flatMap((c) => [...(this.inFlight.get(c.key) ?? [])]));
  }
}

/** Model and input as one comparable string; object keys sorted, so field order does not matter. */
export function matchKey(model: string, input: Record<string, unknown>): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, canonical(v)]),
      );
    }
    return value;
  };
  return `${model}\n${JSON.stringify(canonical(input ?? {}))}`;
}
