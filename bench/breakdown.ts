// Where a /character's time goes, from the bot's trace marks (bench/probe.ts writes them), the fake Replicate
// server's record of each prediction and the moments the Discord sandbox saw the defer and the final grid.
// All times are epoch milliseconds on one machine, so the three processes' clocks agree.
import { existsSync, readFileSync } from "node:fs";
import type { TraceMark, TraceStage } from "../src/kit/trace.ts";

/** One /character as the benchmark saw it. */
export interface TracedRun {
  prompt: string;
  interactionId: string;
  /** When the command was dispatched on the gateway. */
  sentAt: number;
  /** When the sandbox received the defer; NaN when it never came. */
  deferAt: number;
  /** When the sandbox received the final grid; NaN when it never came. */
  gridAt: number;
}

/** What the fake Replicate server recorded of one create. */
export interface CreateFact {
  id: string;
  prompt: string;
  /** When it was created (epoch ms) and how long it ran, as the server decided. */
  at: number;
  latencyMs: number;
}

/**
 * The segments of one /character's own overhead (e2e − its slowest prediction's running time), in path order;
 * they add up to it. The slot they follow is the one stored last (the one the grid waited for). When the grid
 * went out while the last image was stored (the usual case), the path runs through "read for the grid" instead
 * of store object, record row and settle, which are measured beside it (BESIDE_SEGMENTS).
 */
export const OVERHEAD_SEGMENTS = [
  ["acknowledge", "command sent → its defer on Discord"],
  ["admit + record", "defer on Discord → the generation admitted and its rows written"],
  ["create", "rows written → the slowest prediction created on Replicate"],
  ["poll lag", "slowest prediction finished → the bot saw the last slot finished"],
  ["download", "output download"],
  ["sniff/decode/hash", "type sniffed, header decoded, sha256"],
  ["read for the grid", "the generation read for a grid sent while the last image is stored"],
  ["store object", "object store put"],
  ["record row", "image row marked succeeded"],
  ["settle", "progress view, generation settled, refund"],
  ["progress edit wait", "a progress edit under way finishes"],
  ["render", "generation re-read, grid rendered"],
  ["upload + edit", "files read, grid uploaded, on Discord"],
] as const;

/** What runs beside a grid sent while the last image is stored, from that image's checks on. */
export const BESIDE_SEGMENTS = [
  ["store object", "object store put"],
  ["record row", "image row marked succeeded"],
  ["settle", "generation settled, refund"],
] as const;

/** Where a defer waits: its segments add up to the time from the command's dispatch to the defer on Discord. */
export const DEFER_SEGMENTS = [
  ["gateway + event loop", "dispatched → the bot's handler runs"],
  ["handler", "handler runs → deferReply called"],
  ["REST queue + send", "deferReply called → Discord has the defer"],
] as const;

export function readMarks(file: string): TraceMark[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TraceMark);
}

type Key = "interactionId" | "generationId" | "imageId";

/** The first mark of each stage for each id. */
function index(marks: readonly TraceMark[], key: Key): Map<string, Map<TraceStage, TraceMark>> {
  const byId = new Map<string, Map<TraceStage, TraceMark>>();
  for (const m of marks) {
    const id = m[key];
    if (!id) continue;
    const stages = byId.get(id) ?? new Map<TraceStage, TraceMark>();
    if (!stages.has(m.stage)) stages.set(m.stage, m);
    byId.set(id, stages);
  }
  return byId;
}

export interface RunBreakdown {
  prompt: string;
  /** Segment name → ms, in OVERHEAD_SEGMENTS order; absent when a mark is missing. */
  overhead?: Record<string, number>;
  /** BESIDE_SEGMENTS when the grid went out while the last image was stored. */
  beside?: Record<string, number>;
  defer?: Record<string, number>;
  /** Each slot's own poll lag: its prediction finished → the bot saw it. */
  slotPollLags: number[];
}

type Stages = Map<TraceStage, TraceMark>;

export function breakDown(
  runs: readonly TracedRun[],
  marks: readonly TraceMark[],
  creates: readonly CreateFact[],
): RunBreakdown[] {
  const byInteraction = index(marks, "interactionId");
  const byGeneration = index(marks, "generationId");
  const byImage = index(marks, "imageId");
  const slotsByPrediction = new Map<string, Stages>();
  for (const stages of byImage.values()) {
    const id = stages.get("slot.noticed")?.predictionId;
    if (id) slotsByPrediction.set(id, stages);
  }
  return runs.map((run) => {
    const own = creates.filter((c) => c.prompt === run.prompt);
    const i = byInteraction.get(run.interactionId);
    const generationId = i?.get("generation.accepted")?.generationId;
    const g = generationId ? byGeneration.get(generationId) : undefined;
    const gat = (stage: TraceStage) => g?.get(stage)?.at ?? Number.NaN;
    // A grid sent while the last image was stored waited for that image's checks; otherwise for its row.
    const early = gat("grid.early") < run.gridAt;
    const { critical, slotPollLags } = criticalSlot(
      own,
      slotsByPrediction,
      early ? "slot.inspected" : "slot.recorded",
    );
    const result: RunBreakdown = { prompt: run.prompt, slotPollLags };
    const defer = deferSplit(run, i);
    if (defer) result.defer = defer;
    const slowest = own.reduce<CreateFact | undefined>(
      (s, c) => (!s || c.latencyMs > s.latencyMs ? c : s),
      undefined,
    );
    if (!g || !critical || !slowest || !Number.isFinite(run.gridAt)) return result;
    const at = (stage: TraceStage) => critical.stages.get(stage)?.at ?? Number.NaN;
    const overhead = overheadPath(run, slowest, early, at, gat);
    if (!overhead) return result;
    result.overhead = overhead;
    if (early) {
      const beside = {
        "store object": at("slot.object-stored") - at("slot.inspected"),
        "record row": at("slot.recorded") - at("slot.object-stored"),
        settle: gat("generation.settled") - at("slot.recorded"),
      };
      if (Object.values(beside).every(Number.isFinite)) result.beside = beside;
    }
    return result;
  });
}

/** The slot whose `last` stage came latest (the one the grid waited for), and every slot's poll lag. */
function criticalSlot(
  own: readonly CreateFact[],
  slotsByPrediction: Map<string, Stages>,
  last: TraceStage,
): { critical: { create: CreateFact; stages: Stages } | undefined; slotPollLags: number[] } {
  const slotPollLags: number[] = [];
  let critical: { create: CreateFact; stages: Stages } | undefined;
  for (const c of own) {
    const stages = slotsByPrediction.get(c.id);
    const noticed = stages?.get("slot.noticed");
    if (!stages || !noticed) continue;
    slotPollLags.push(noticed.at - (c.at + c.latencyMs));
    const reached = stages.get(last)?.at ?? Number.NaN;
    if (!critical || reached > (critical.stages.get(last)?.at ?? Number.NaN))
      critical = { create: c, stages };
  }
  return { critical, slotPollLags };
}

/** Where the time to the defer went: the gateway and event loop, the handler, the REST queue and send. */
function deferSplit(run: TracedRun, i: Stages | undefined): RunBreakdown["defer"] {
  const received = i?.get("interaction.received")?.at;
  const deferSent = i?.get("defer.sent")?.at;
  if (received === undefined || deferSent === undefined || !Number.isFinite(run.deferAt)) return undefined;
  return {
    "gateway + event loop": received - run.sentAt,
    handler: deferSent - received,
    "REST queue + send": run.deferAt - deferSent,
  };
}

/** The path, point to point; the prediction's own running time (created → finished) is not overhead. */
function overheadPath(
  run: TracedRun,
  slowest: CreateFact,
  early: boolean,
  at: (stage: TraceStage) => number,
  gat: (stage: TraceStage) => number,
): Record<string, number> | undefined {
  const path: Array<[string | undefined, number]> = [
    [undefined, run.sentAt],
    ["acknowledge", run.deferAt],
    ["admit + record", gat("generation.accepted")],
    ["create", slowest.at],
    [undefined, slowest.at + slowest.latencyMs],
    ["poll lag", at("slot.noticed")],
    ["download", at("slot.downloaded")],
    ["sniff/decode/hash", at("slot.inspected")],
    ...(early
      ? ([["read for the grid", gat("grid.early")]] as Array<[string, number]>)
      : ([
          ["store object", at("slot.object-stored")],
          ["record row", at("slot.recorded")],
          ["settle", gat("generation.settled")],
        ] as Array<[string, number]>)),
    ["progress edit wait", gat("grid.progress-settled")],
    ["render", gat("grid.rendered")],
    ["upload + edit", run.gridAt],
  ];
  if (path.some(([, p]) => !Number.isFinite(p))) return undefined;
  const segments: Record<string, number> = {};
  path.forEach(([name, p], k) => {
    if (name) segments[name] = p - (path[k - 1]?.[1] as number);
  });
  return segments;
}
