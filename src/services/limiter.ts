// One global first-in-first-out limit on predictions in flight (MAX_CONCURRENT_PREDICTIONS).

interface Waiter {
  start: () => void;
  onQueued: ((ahead: number) => void) | undefined;
}

export class Limiter {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error("concurrency must be a positive integer");
  }

  /** Runs `task` when a place is free; `onQueued` hears how many wait ahead each time that number changes. */
  async run<T>(task: () => Promise<T>, onQueued?: (ahead: number) => void): Promise<T> {
    if (this.active < this.concurrency && this.waiting.length === 0) {
      this.active++;
    } else {
      await new Promise<void>((start) => {
        this.waiting.push({ start, onQueued });
        onQueued?.(this.waiting.length - 1);
      });
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (!next) {
      this.active--;
      return;
    }
    next.start();
    this.waiting.forEach((w, ahead) => {
      w.onQueued?.(ahead);
    });
  }
}
