// `npm run bench -- --compare old.json [new.json]`: every figure of two bench results side by side, with the
// ratio new ÷ old, so a change's effect is read from one table.

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
