// Completions announced by Replicate's webhooks, handed to the jobs waiting on those predictions in this process,
// so a wait ends the moment Replicate says so instead of at the next poll. A wake carries no result: the woken job
// reads the prediction's final state through the provider as a poll would (a webhook body is never trusted for
// outputs). One instance per process, in the AppContext.

/** Completed prediction ids remembered, so a repeated delivery for one is recognised as already settled. */
const SETTLED_MEMORY = 10_000;

/**
 * With webhooks on, the poll is only the safety net for a delivery that never comes: ten times the normal
 * interval, at most 30 s. Ten times cuts the status requests by an order of magnitude while a lost webhook still
 * finishes within half a minute (Replicate retries a delivery for minutes, but a process that was down, or a
 * proxy that dropped it, must not leave a member waiting longer than that). Never below the normal interval.
 */
export function safetyNetPollMs(pollMs: number): number {
  return Math.max(pollMs, Math.min(10 * pollMs, 30_000));
}

/** One job's interest in one prediction, open while it waits; see `PredictionEvents.watch`. */
export interface PredictionWatch {
  /** Whether a completion arrived since the last `reset`. */
  readonly woken: boolean;
  /** Forgets an earlier wake: called just before each status check, which reads whatever it announced. */
  reset(): void;
  /** Waits `ms`, or less when a completion arrives (or has arrived since the last reset). Rejects on abort. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  close(): void;
}

export class PredictionEvents {
  private readonly watchers = new Map<string, Set<() => void>>();
  /** Ids whose completion was announced, oldest first (a Map keeps insertion order). */
  private readonly settled = new Map<string, true>();

  /**
   * Starts listening for `predictionId`'s completion. Opened before the first status check and kept until the
   * wait ends, so a delivery that lands while a check is in flight still cuts the following sleep short.
   */
  watch(predictionId: string): PredictionWatch {
    let woken = false;
    let wake: (() => void) | undefined;
    const listener = () => {
      woken = true;
      wake?.();
    };
    const set = this.watchers.get(predictionId) ?? new Set();
    set.add(listener);
    this.watchers.set(predictionId, set);
    return {
      get woken() {
        return woken;
      },
      reset() {
        woken = false;
      },
      sleep(ms, signal) {
        return new Promise<void>((resolve, reject) => {
          if (signal.aborted) return reject(signal.reason);
          if (woken) return resolve();
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener("abort", onAbort);
            wake = undefined;
          };
          const timer = setTimeout(() => {
            done();
            resolve();
          }, ms);
          const onAbort = () => {
            done();
            reject(signal.reason);
          };
          wake = () => {
            done();
            resolve();
          };
          signal.addEventListener("abort", onAbort, { once: true });
        });
      },
      close: () => {
        wake = undefined;
        const current = this.watchers.get(predictionId);
        current?.delete(listener);
        if (current?.size === 0) this.watchers.delete(predictionId);
      },
    };
  }

  /** Whether a completion of this prediction was already announced here. */
  isSettled(predictionId: string): boolean {
    return this.settled.has(predictionId);
  }

  /** Where this process passes on the completions it hears itself (fleet mode: to every other process). */
  private relay: ((predictionId: string) => void) | undefined;

  /**
   * Passes every completion announced here on to `publish` (the shared queue's Redis, in fleet mode): the
   * delivery lands on whichever process Replicate reaches, and the job waiting on it may run on another.
   */
  relayTo(publish: (predictionId: string) => void): void {
    this.relay = publish;
  }

  /**
   * Announces that a prediction completed; wakes the jobs of this process that wait on it and returns how many.
   * A completion heard here (a webhook delivery) is also relayed to the other processes, if any; one relayed
   * from another process (`relayed`) is not passed on again.
   */
  completed(predictionId: string, relayed = false): number {
    if (!relayed) this.relay?.(predictionId);
    this.settled.delete(predictionId);
    this.settled.set(predictionId, true);
    if (this.settled.size > SETTLED_MEMORY) {
      const oldest = this.settled.keys().next().value;
      if (oldest !== undefined) this.settled.delete(oldest);
    }
    const set = this.watchers.get(predictionId);
    if (!set) return 0;
    for (const listener of [...set]) listener();
    return set.size;
  }
}
