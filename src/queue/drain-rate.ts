// How fast the fleet's wait list drains, learnt from the reads the queue places are shown from: the jobs in one
// read that are gone from the next have started (or left). Over the last minute this gives the rate a waiting
// request can expect, which no configuration tells alone (workers, running times and Replicate's limits all bound it).

/** The rate is averaged over this long: the create rate limit's own window, so its bursts and pauses even out. */
const WINDOW_MS = 60_000;
/** Less history than this says little: the rate limit's ceiling stands in until there is more. */
const MIN_SPAN_MS = 10_000;

interface Sample {
  from: number;
  to: number;
  drained: number;
}

export class DrainRate {
  private previous: { at: number; ids: readonly string[] } | undefined;
  private samples: Sample[] = [];

  /** `ceilingPerSecond`: the most jobs a second the fleet may start for long (Replicate's create rate). */
  constructor(private readonly ceilingPerSecond: number) {}

  /** A read of the wait list, in order, made at `at` (epoch ms); reads older than the last one are ignored. */
  observe(ids: readonly string[], at: number): void {
    const previous = this.previous;
    if (previous && at <= previous.at) return;
    this.previous = { at, ids };
    if (!previous) return;
    if (at - previous.at > WINDOW_MS) {
      // Nobody waited for a while: what the list did meanwhile was not watched.
      this.samples = [];
      return;
    }
    const now = new Set(ids);
    let drained = 0;
    for (const id of previous.ids) if (!now.has(id)) drained++;
    this.samples.push({ from: previous.at, to: at, drained });
    while (this.samples.length > 0 && (this.samples[0] as Sample).from < at - WINDOW_MS) this.samples.shift();
  }

  /** Jobs started a second over the last minute, never above the ceiling; the ceiling without enough history. */
  perSecond(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.to - first.from < MIN_SPAN_MS) return this.ceilingPerSecond;
    const drained = this.samples.reduce((n, s) => n + s.drained, 0);
    return Math.min(this.ceilingPerSecond, (drained * 1000) / (last.to - first.from));
  }

  /** The expected wait, in ms, of a job with `ahead` jobs before it. */
  waitMs(ahead: number): number {
    const rate = this.perSecond();
    return rate > 0 ? Math.round((ahead * 1000) / rate) : Number.POSITIVE_INFINITY;
  }
}
