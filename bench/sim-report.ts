// The figures of `npm run bench -- --sim`, worked out from what the simulation recorded: its interactions
// (bench/sim-load.ts), the fake Replicate's creates and request log, the local Discord server's request log and
// the queue's length sampled over time.
import { createRateWindows } from "../src/queue/create-rate.ts";
import type { Figure } from "./compare.ts";
import type { SimRequest } from "./sim-load.ts";
import { quantile } from "./stats.ts";

export interface CreateSeen {
  at: number;
  latencyMs: number;
  prompt: unknown;
}

export interface SimInputs {
  requests: SimRequest[];
  creates: CreateSeen[];
  /** The fake Replicate's API requests: [when, 1 for a create, status]. */
  replicateRequests: Array<[number, number, number]>;
  refused: { creates: number; other: number } | undefined;
  discord429s: { global: number; all: number };
  queue: Array<{ at: number; waiting: number; active: number }>;
  loadStart: number;
  loadEnd: number;
  statusBudgetPerMinute: number;
  maxRunningPerUser: number;
  /** The single-process own overhead (grid after the last prediction), p50 and p95, measured before the load. */
  baseline: { p50: number; p95: number };
  /** The same figure through the fleet before the load (absent in runs before it was measured). */
  fleetAlone?: { p50: number; p95: number };
}

/** Slots of each request, in the order their creates came (a Regenerate's after its grid's, same prompt). */
export function createsByRequest(
  inputs: Pick<SimInputs, "creates" | "requests">,
): Map<SimRequest, CreateSeen[]> {
  const byTag = new Map<string, CreateSeen[]>();
  for (const c of inputs.creates) {
    const tag = /(simv?-\d+)$/.exec(String(c.prompt))?.[1];
    if (!tag) continue;
    byTag.set(tag, [...(byTag.get(tag) ?? []), c]);
  }
  const out = new Map<SimRequest, CreateSeen[]>();
  const taken = new Map<string, number>();
  const imageRequests = inputs.requests
    .filter((r) => r.kind === "character" || r.kind === "regenerate" || r.kind === "video")
    .sort((a, b) => a.sentAt - b.sentAt);
  for (const r of imageRequests) {
    const all = (byTag.get(r.tag) ?? []).sort((a, b) => a.at - b.at);
    const from = taken.get(r.tag) ?? 0;
    const mine = r.outcome === "refused" ? [] : all.slice(from, from + r.count);
    taken.set(r.tag, from + mine.length);
    out.set(r, mine);
  }
  return out;
}

/** Creates (or other requests) in each whole minute of the run, from the first request on. */
function perMinute(times: number[], start: number): number[] {
  const counts: number[] = [];
  for (const t of times) {
    const minute = Math.floor((t - start) / 60_000);
    if (minute < 0) continue;
    while (counts.length <= minute) counts.push(0);
    counts[minute] = (counts[minute] as number) + 1;
  }
  return counts;
}

/** The most in any rolling 60 s window. */
function rollingMinuteMax(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let head = 0;
  for (let i = 0; i < sorted.length; i++) {
    while ((sorted[head] as number) <= (sorted[i] as number) - 60_000) head++;
    max = Math.max(max, i - head + 1);
  }
  return max;
}

/**
 * The fleet's turn: job starts are let through in windows of the create limit (19 every 2 s at 600 a minute).
 * Jobs of one window are taken together by two workers, whose creates leave in no set order: within a window,
 * a later job's create may reach Replicate a moment before an earlier one's. And a place shown is a snapshot
 * that takes up to a window to reach the member's screen under load, while the window's jobs start.
 */
const TURN = createRateWindows(600);

/**
 * Places: for each request told "k ahead", how many prediction jobs started between that moment and its own
 * first one (k when the place was honest, give or take the jobs in flight and one turn), and whether any
 * request sent after it started a turn or more before it (overtaken).
 */
function placeFigures(inputs: SimInputs, slots: Map<SimRequest, CreateSeen[]>) {
  const placed = [...slots].filter(([r, c]) => r.place && c.length > 0);
  const starts = inputs.creates.map((c) => c.at).sort((a, b) => a - b);
  const countBetween = (from: number, to: number) => lowerBound(starts, to) - lowerBound(starts, from);
  const servedMinusTold: number[] = [];
  const etaErrors: number[] = [];
  const etaRatios: number[] = [];
  const firstStart = new Map([...slots].map(([r, c]) => [r, c[0]?.at ?? Number.POSITIVE_INFINITY]));
  const bySent = [...firstStart].sort((a, b) => a[0].sentAt - b[0].sentAt);
  let overtaken = 0;
  /** Requests a later one started before within the same turn (a moment before: reported, not a miss). */
  let sameTurn = 0;
  let honest = 0;
  /** Honest with the allowance runs before 7252fab were judged by (the `active` count sampled near it). */
  let honestWithActive = 0;
  for (const [r, c] of placed) {
    const place = r.place as NonNullable<SimRequest["place"]>;
    const first = (c[0] as CreateSeen).at;
    const difference = countBetween(place.at, first) - place.ahead;
    servedMinusTold.push(difference);
    // A place counts the jobs a worker has taken whose prediction is not yet made (they start first): the one
    // allowance is a turn, the jobs of the member's own window whose creates may reach Replicate before its own.
    if (difference <= TURN.max) honest++;
    const near = inputs.queue.filter((q) => Math.abs(q.at - place.at) <= 2500).map((q) => q.active);
    if (difference <= Math.max(0, ...near) + TURN.max) honestWithActive++;
    const real = first - place.at;
    if (place.waitMs !== undefined && real > 0) {
      etaErrors.push(Math.abs(place.waitMs - real) / real);
      etaRatios.push(place.waitMs / real);
    }
    // The earliest start of a request sent a second or more after this one was shown its place: before this
    // one's by a turn or more is overtaking it; by less, the same turn.
    let earliestLater = Number.POSITIVE_INFINITY;
    for (const [o, at] of bySent) if (o.sentAt > place.at + 1000) earliestLater = Math.min(earliestLater, at);
    if (earliestLater < first - TURN.duration) overtaken++;
    else if (earliestLater < first) sameTurn++;
  }
  return {
    placed: placed.length,
    servedMinusTold,
    honest,
    honestWithActive,
    etaErrors,
    etaRatios,
    overtaken,
    sameTurn,
  };
}

function lowerBound(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Fairness: at each queue sample, the slots each member had waiting (asked, not yet created), and the most one
 * member held, against the running cap's bound (MAX_RUNNING_PER_USER requests of at most 4 images).
 */
function fairness(inputs: SimInputs, slots: Map<SimRequest, CreateSeen[]>) {
  let most = 0;
  let mostShare = 0;
  /** The member who held the most, at that sample: their requests as the run saw them (to tell why). */
  let worst: { at: number; userId: string } | undefined;
  for (const sample of inputs.queue) {
    if (sample.waiting < 20) continue;
    const held = new Map<string, number>();
    for (const [r, c] of slots) {
      if (r.ackAt === undefined || r.ackAt > sample.at) continue;
      const waiting =
        c.filter((x) => x.at > sample.at).length + (r.doneAt === undefined ? r.count - c.length : 0);
      if (waiting > 0) held.set(r.userId, (held.get(r.userId) ?? 0) + waiting);
    }
    const top = Math.max(0, ...held.values());
    if (top > most) {
      const userId = [...held].find(([, n]) => n === top)?.[0] as string;
      worst = { at: sample.at, userId };
    }
    most = Math.max(most, top);
    mostShare = Math.max(mostShare, top / sample.waiting);
  }
  const start = inputs.loadStart;
  const since = (t: number | undefined) => (t === undefined ? null : t - start);
  const worstRequests = worst
    ? [...slots]
        .filter(([r]) => r.userId === worst?.userId)
        .map(([r, c]) => ({
          tag: r.tag,
          sent: since(r.sentAt),
          ack: since(r.ackAt),
          done: since(r.doneAt),
          outcome: r.outcome ?? "lost",
          creates: c.map((x) => x.at - start),
          lastSeen: r.lastSeen,
        }))
    : [];
  return { most, mostShare, worst: worst && { at: worst.at - start, requests: worstRequests } };
}

/** The bot's own overhead per grid: delivered − the end of its slowest prediction's running time. */
export function ownOverheads(slots: Map<SimRequest, CreateSeen[]>): number[] {
  const out: number[] = [];
  for (const [r, c] of slots) {
    if (r.outcome !== "grid" || c.length !== r.count || r.doneAt === undefined) continue;
    out.push(r.doneAt - Math.max(...c.map((x) => x.at + x.latencyMs)));
  }
  return out;
}

export function simFigures(inputs: SimInputs): { figures: Figure[]; details: Record<string, unknown> } {
  const slots = createsByRequest(inputs);
  const lost = inputs.requests.filter((r) => r.doneAt === undefined).length;
  const createTimes = inputs.creates.map((c) => c.at);
  // Every create the bot sent, the ones Replicate refused included: what the bot's own limit let through.
  const attempted = inputs.replicateRequests.filter(([, create]) => create).map(([at]) => at);
  const otherTimes = inputs.replicateRequests
    .filter(([, create, status]) => !create && status !== 429)
    .map(([at]) => at);
  const createsPerMinute = perMinute(createTimes, inputs.loadStart);
  const otherPerMinute = perMinute(otherTimes, inputs.loadStart);
  const places = placeFigures(inputs, slots);
  const fair = fairness(inputs, slots);
  const overheads = ownOverheads(slots);
  const p50 = quantile(overheads, 0.5);
  const p95 = quantile(overheads, 0.95);
  const { honest } = places;
  const byKind = (kind: string) => inputs.requests.filter((r) => r.kind === kind).length;
  const figures: Figure[] = [
    fig({ name: "sim: requests sent", value: inputs.requests.length, unit: "", goal: "—" }),
    fig({ name: "sim: requests lost", value: lost, unit: "", goal: "0", met: lost === 0 }),
    fig({
      name: "sim: Discord 429s (global / all)",
      value: inputs.discord429s.all,
      unit: `(global ${inputs.discord429s.global})`,
      goal: "0",
      met: inputs.discord429s.all === 0,
    }),
    fig({
      name: "sim: creates, most in a clock minute",
      value: Math.max(0, ...createsPerMinute),
      unit: "",
      goal: "≤ 600",
      met: Math.max(0, ...createsPerMinute) <= 600,
    }),
    fig({
      name: "sim: creates sent (refused ones too), most in any rolling minute",
      value: rollingMinuteMax(attempted),
      unit: "",
      goal: "≤ 600",
      met: rollingMinuteMax(attempted) <= 600,
    }),
    fig({
      name: "sim: creates refused by Replicate (429)",
      value: inputs.refused?.creates ?? 0,
      unit: "",
      goal: "0",
      met: (inputs.refused?.creates ?? 0) === 0,
    }),
    fig({
      name: "sim: other requests, most in any rolling minute",
      value: rollingMinuteMax(otherTimes),
      unit: "",
      goal: `≤ ${inputs.statusBudgetPerMinute} (budget), 3000 (Replicate)`,
      met: rollingMinuteMax(otherTimes) <= 3000,
    }),
    fig({
      name: "sim: other requests refused by Replicate (429)",
      value: inputs.refused?.other ?? 0,
      unit: "",
      goal: "0",
      met: (inputs.refused?.other ?? 0) === 0,
    }),
    fig({
      name: "sim: queue places honest (no more served first than told + one turn)",
      value: places.placed ? honest / places.placed : 1,
      unit: `of ${places.placed}`,
      goal: "1.00",
      met: honest === places.placed,
    }),
    fig({
      name: "sim: queue places, most served first beyond told",
      value: Math.max(0, ...places.servedMinusTold),
      unit: "jobs",
      goal: `≤ ${TURN.max} (one turn)`,
      met: Math.max(0, ...places.servedMinusTold) <= TURN.max,
    }),
    fig({
      name: "sim: requests overtaken by a later one (by a turn, 2 s, or more)",
      value: places.overtaken,
      unit: "",
      goal: "0",
      met: places.overtaken === 0,
    }),
    fig({
      name: "sim: ETA error, median |shown − real| ÷ real",
      value: quantile(places.etaErrors, 0.5),
      unit: `(${places.etaErrors.length} shown)`,
      goal: "≤ 0.25",
      met: quantile(places.etaErrors, 0.5) <= 0.25,
    }),
    fig({
      name: "sim: ETA shown ÷ real, median",
      value: quantile(places.etaRatios, 0.5),
      unit: "",
      goal: "0.75–1.25",
      met: Math.abs(quantile(places.etaRatios, 0.5) - 1) <= 0.25,
    }),
    fig({
      name: "sim: most queued slots one member held",
      value: fair.most,
      unit: `(${(fair.mostShare * 100).toFixed(1)} % of the queue)`,
      goal: `≤ ${4 * inputs.maxRunningPerUser}`,
      met: fair.most <= 4 * inputs.maxRunningPerUser,
    }),
    fig({
      name: "sim: own overhead p50 ÷ single process",
      value: p50 / inputs.baseline.p50,
      unit: `(${p50.toFixed(0)} ms vs ${inputs.baseline.p50.toFixed(0)} ms)`,
      goal: "≤ 1.2",
      met: p50 / inputs.baseline.p50 <= 1.2,
    }),
    fig({
      name: "sim: own overhead p95 ÷ single process",
      value: p95 / inputs.baseline.p95,
      unit: `(${p95.toFixed(0)} ms vs ${inputs.baseline.p95.toFixed(0)} ms)`,
      goal: "≤ 1.2",
      met: p95 / inputs.baseline.p95 <= 1.2,
    }),
    ...fleetAloneFigures(inputs),
  ];
  const details = {
    requestsByKind: {
      character: byKind("character"),
      regenerate: byKind("regenerate"),
      pick: byKind("pick"),
      video: byKind("video"),
    },
    outcomes: countBy(inputs.requests.map((r) => r.outcome ?? "lost")),
    failedSamples: [...new Set(inputs.requests.flatMap((r) => (r.note ? [r.note] : [])))].slice(0, 5),
    lostSamples: inputs.requests
      .filter((r) => r.doneAt === undefined)
      .slice(0, 10)
      .map((r) => ({ kind: r.kind, tag: r.tag, ack: r.ackAt !== undefined, lastSeen: r.lastSeen })),
    mostHeld: fair.worst,
    createsPerMinute,
    otherRequestsPerMinute: otherPerMinute,
    overtakenWithinATurn: places.sameTurn,
    honestWithActiveAllowance: places.honestWithActive,
    servedMinusTold: {
      // Below 0: fewer started first than told (the place over-counted, by the jobs of the window in flight).
      min: Math.min(0, ...places.servedMinusTold),
      p5: quantile(places.servedMinusTold, 0.05),
      p50: quantile(places.servedMinusTold, 0.5),
      p95: quantile(places.servedMinusTold, 0.95),
      max: Math.max(0, ...places.servedMinusTold),
    },
    etaRatio: {
      p25: quantile(places.etaRatios, 0.25),
      p50: quantile(places.etaRatios, 0.5),
      p75: quantile(places.etaRatios, 0.75),
    },
    ownOverheadMs: { p50, p95, n: overheads.length, baseline: inputs.baseline },
    longestQueue: Math.max(0, ...inputs.queue.map((q) => q.waiting)),
    drainSeconds: (Math.max(...inputs.requests.map((r) => r.doneAt ?? 0)) - inputs.loadEnd) / 1000,
  };
  return { figures, details };
}

/** The fleet's own overhead serving one request at a time, against the single process's. */
function fleetAloneFigures(inputs: SimInputs): Figure[] {
  const alone = inputs.fleetAlone;
  if (!alone) return [];
  const { baseline } = inputs;
  return (["p50", "p95"] as const).map((q) =>
    fig({
      name: `sim: own overhead ${q}, the fleet serving one request at a time ÷ single process`,
      value: alone[q] / baseline[q],
      unit: `(${alone[q].toFixed(0)} ms vs ${baseline[q].toFixed(0)} ms)`,
      goal: "≤ 1.2",
      met: alone[q] / baseline[q] <= 1.2,
    }),
  );
}

/** A figure as compare.ts reads it, its note (what it counts, or the times behind a ratio) in its name. */
function fig(f: { name: string; value: number; unit: string; goal: string; met?: boolean }): Figure {
  return {
    figure: f.unit ? `${f.name} ${f.unit}` : f.name,
    value: f.value,
    goal: f.goal,
    ...(f.met === undefined ? {} : { met: f.met }),
  };
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** The queue's length over time as text: one row per time step, a bar per row (for the console and the docs). */
export function queuePlot(queue: SimInputs["queue"], start: number, rows = 30, width = 60): string {
  if (queue.length === 0) return "(no samples)";
  const end = (queue.at(-1) as SimInputs["queue"][number]).at;
  const step = Math.max(1, (end - start) / rows);
  const max = Math.max(1, ...queue.map((q) => q.waiting));
  const lines = [`waiting prediction jobs (max ${max}), one row per ${(step / 1000).toFixed(0)} s`];
  for (let i = 0; i <= rows; i++) {
    const at = start + i * step;
    const sample = queue.reduce((best, q) => (Math.abs(q.at - at) < Math.abs(best.at - at) ? q : best));
    const bar = "█".repeat(Math.round((sample.waiting / max) * width));
    lines.push(`${`${Math.round((at - start) / 1000)} s`.padStart(6)} │${bar} ${sample.waiting}`);
  }
  return lines.join("\n");
}
