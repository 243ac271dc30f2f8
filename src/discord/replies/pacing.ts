// How often a reply is edited: progress edits coalesced to one per interval, queue places at a slower pace.
// Both take their time from the context's clock and their intervals from config, so tests run them fast.
import type { Clock, Timer } from "../../kit/clock.ts";

/**
 * Discord lets a message's webhook (an interaction's token) take about 5 edits in 2 s before its bucket makes
 * the next one wait. Progress edits spend at most 3 of them in any 2 s, so the edit that follows them (the grid)
 * never waits for the bucket.
 */
export const EDIT_BURST = 3;
export const EDIT_BURST_WINDOW_MS = 2_000;

/**
 * Coalesces edits: at most one every `intervalMs`, always with the latest state. An urgent value (an image that
 * just landed, to be uploaded while the others are still on their way) goes out as soon as the edit under way
 * is answered, while fewer than `EDIT_BURST` edits went out in the last `EDIT_BURST_WINDOW_MS`; past that it
 * waits its turn like any other. One edit is in flight at a time, and each sends the newest value when it starts.
 */
export class ThrottledEdits<T> {
  private latest: T | undefined;
  private timer: Timer | undefined;
  private chain: Promise<void> = Promise.resolve();
  private lastAt = Number.NEGATIVE_INFINITY;
  /** When the recent edits started, for the burst budget. */
  private startedAt: number[] = [];
  /** An edit is waiting on the chain; it takes `latest` when it starts. */
  private queued = false;
  /** Edits sent and not yet answered. */
  private sending = 0;
  /** Set by settle: the final edit has the message now, and a late progress value must not replace it. */
  private closed = false;

  constructor(
    private readonly send: (value: T) => Promise<void>,
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void,
  ) {}

  schedule(value: T, urgent = false): void {
    if (this.closed) return;
    this.latest = value;
    if (this.queued) return; // the edit waiting on the chain will send this value
    if (urgent && this.burstLeft()) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.enqueue();
      return;
    }
    if (this.timer) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.enqueue();
      },
      Math.max(0, this.lastAt + this.intervalMs - this.clock.now(), this.burstWaitMs()),
    );
  }

  private burstLeft(): boolean {
    return this.burstWaitMs() === 0;
  }

  /** How long until fewer than EDIT_BURST edits started in the last EDIT_BURST_WINDOW_MS; 0 when they have. */
  private burstWaitMs(): number {
    const now = this.clock.now();
    this.startedAt = this.startedAt.filter((at) => at > now - EDIT_BURST_WINDOW_MS);
    const oldest = this.startedAt[this.startedAt.length - EDIT_BURST];
    return oldest === undefined ? 0 : oldest + EDIT_BURST_WINDOW_MS - now;
  }

  private enqueue(): void {
    if (this.queued) return;
    this.queued = true;
    this.chain = this.chain.then(() => {
      this.queued = false;
      const next = this.latest;
      this.latest = undefined;
      if (next === undefined) return;
      this.lastAt = this.clock.now();
      this.startedAt.push(this.lastAt);
      this.sending++;
      return this.send(next)
        .catch(this.onError)
        .finally(() => {
          this.sending--;
        });
    });
  }

  /**
   * Drops any pending edit (the final one supersedes it), refuses later ones, and waits for one under way;
   * true when there was one to wait for.
   */
  async settle(): Promise<boolean> {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.latest = undefined;
    const waited = this.sending > 0;
    await this.chain;
    return waited;
  }
}

/**
 * Paces updates of a waiting request's place in the queue: at once when it first waits or stops waiting,
 * otherwise at most every `intervalMs` (the newest place, when the window opens). A hundred waiting
 * requests each editing once a second would use up the REST client's 50 requests a second and hold back
 * every other reply.
 */
export class QueueUpdates {
  private lastAt = Number.NEGATIVE_INFINITY;
  private timer: Timer | undefined;

  constructor(
    private readonly show: () => void,
    private readonly intervalMs: number,
    private readonly clock: Clock,
  ) {}

  changed(ahead: number): void {
    const wait = this.lastAt + this.intervalMs - this.clock.now();
    if (ahead > 0 && wait > 0) {
      this.timer ??= this.clock.setTimeout(() => {
        this.timer = undefined;
        this.lastAt = this.clock.now();
        this.show();
      }, wait);
      return;
    }
    this.stop();
    this.lastAt = this.clock.now();
    this.show();
  }

  /** No more updates: the request's own progress or result takes over. */
  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
