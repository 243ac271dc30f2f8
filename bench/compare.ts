// `npm run bench -- --compare old.json [new.json]`: every figure of two bench results side by side, with the
// ratio new ÷ old, so a change's effect is read from one table. `npm run bench -- --pool a.json b.json …`:
// the count-4 own overhead of many results pooled by engine, for a difference smaller than one run's noise.
import { median, quantile } from "./stats.ts";

export interface Figure {
  figure: string;
  value: number;
  goal: string;
  met?: boolean;
}

interface BenchResult {
  when: string;
  mode: string;
  engine?: string | undefined;
  machine?: { cores?: number; node?: string; commit?: string; loadAverage?: number[] };
  figures: Figure[];
  raw?: { four?: { overheads?: number[] } };
}

const fmt = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v)
    ? "—"
    : Number.isInteger(v)
      ? String(v)
      : v.toFixed(Math.abs(v) < 10 ? 2 : 1);

export function compareResults(before: BenchResult, after: BenchResult): void {
  const describe = (r: BenchResult) =>
    `${r.when} ${r.mode} ${r.engine}, commit ${r.machine?.commit ?? "?"}, ${r.machine?.cores ?? "?"} cores, Node ${r.machine?.node ?? "?"}${r.machine?.loadAverage ? `, load ${r.machine.loadAverage.join(" ")}` : ""}`;
  console.log(`\nold: ${describe(before)}\nnew: ${describe(after)}`);
  const old = new Map(before.figures.map((f) => [f.figure, f.value]));
  const names = [...after.figures.map((f) => f.figure), ...before.figures.map((f) => f.figure)];
  const rows = [...new Set(names)].map((name) => {
    const a = old.get(name);
    const b = after.figures.find((f) => f.figure === name)?.value;
    const ratio = a !== undefined && b !== undefined && a !== 0 ? b / a : undefined;
    return [name, fmt(a), fmt(b), ratio === undefined || !Number.isFinite(ratio) ? "—" : ratio.toFixed(2)];
  });
  const width = Math.max(...rows.map((r) => (r[0] as string).length));
  console.log(
    `\n${"figure".padEnd(width)}  ${"old".padStart(10)}  ${"new".padStart(10)}  ${"new÷old".padStart(7)}`,
  );
  for (const [name, a, b, r] of rows)
    console.log(
      `${(name as string).padEnd(width)}  ${(a as string).padStart(10)}  ${(b as string).padStart(10)}  ${(r as string).padStart(7)}`,
    );
}

/**
 * Pools every count-4 run's own overhead of `results` by engine and commit, and prints each pool's median,
 * quartiles and p95, and how far its median is above the embedded default's of the same commit. A full run's median rests on 15
 * runs whose overheads spread over tens of ms; runs of both engines taken in turn, pooled, tell the engines
 * apart by less than that.
 */
export function poolResults(results: BenchResult[]): void {
  const pools = new Map<string, { engine: string; commit: string; overheads: number[]; results: number }>();
  for (const r of results) {
    const engine = r.engine ?? "sqlite";
    const commit = r.machine?.commit ?? "?";
    const key = `${engine} ${commit}`;
    const pool = pools.get(key) ?? { engine, commit, overheads: [], results: 0 };
    pool.overheads.push(...(r.raw?.four?.overheads ?? []));
    pool.results++;
    pools.set(key, pool);
  }
  const width = Math.max(...[...pools.keys()].map((k) => k.length), 6);
  console.log(
    `\ncount 4, own overhead (ms), pooled\n${"pool".padEnd(width)}  results   runs   median  p25 / p75    p95  above SQLite`,
  );
  for (const [key, pool] of pools) {
    const xs = pool.overheads;
    const embedded = pools.get(`sqlite ${pool.commit}`);
    const above = embedded && pool !== embedded ? (median(xs) - median(embedded.overheads)).toFixed(1) : "—";
    console.log(
      `${key.padEnd(width)}  ${String(pool.results).padStart(7)}  ${String(xs.length).padStart(5)}  ${median(xs).toFixed(1).padStart(7)}  ${`${quantile(xs, 0.25).toFixed(0)} / ${quantile(xs, 0.75).toFixed(0)}`.padStart(10)}  ${quantile(xs, 0.95).toFixed(1).padStart(5)}  ${above.padStart(12)}`,
    );
  }
}
