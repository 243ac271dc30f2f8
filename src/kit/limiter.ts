// A first-in-first-out limit on work in flight: predictions (MAX_CONCURRENT_PREDICTIONS), outputs being stored.

/** Hears the queue's depth and each job's wait, for the metrics. */
export interface LimiterObserver {
  /** How many jobs wait for a place, each time that changes. */
  queued(waiting: number): void;
  /** A job got its place after waiting `ms` (0 when one was free). */
  started(ms: number): void;
}

interface Waiter {
  start: () => void;
  onQueued: ((ahead: number) => void) | undefined;
}

export class Limiter {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly concurrency: number,
    private readonly observer?: LimiterObserver,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error("concurrency must be a positive integer");
  }

  /** How many wait for a place now. */
  get waiters(): number {
    return this.waiting.length;
  }

  /** Runs `task` when a place is free; `onQueued` hears how many wait ahead each time that number changes. */
  async run<T>(task: () => Promise<T>, onQueued?: (ahead: number) => void): Promise<T> {
    const release = await this.acquire(onQueued);
    try {
      return await task();
    } finally {
      release();
    }
  }

  /** Waits for a place and holds it until the returned function is called (once; later calls do nothing). */
  async acquire(onQueued?: (ahead: number) => void): Promise<() => void> {
    const queuedAt = performance.now();
    if (this.active < this.concurrency && this.waiting.length === 0) {
      this.active++;
    } else {
      await new Promise<void>((start) => {
        this.waiting.push({ start, onQueued });
        this.observer?.queued(this.waiting.length);
        onQueued?.(this.waiting.length - 1);
      });
    }
    this.observer?.started(performance.now() - queuedAt);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.release();
    };
  }

  private release(): void {
    const next = this.waiting.shift();
    if (!next) {
      this.active--;
      return;
    }
    this.observer?.queued(this.waiting.length);
    next.start();
    this.waiting.forEach((w, ahead) => {
      w.onQueued?.(ahead);
    });
  }
}
