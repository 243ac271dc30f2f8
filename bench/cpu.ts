// CPU time each process of a bench run spends, from /proc (Linux): on a 2-core machine the bot, the Discord and
// Replicate stand-ins, PostgreSQL and s3rver share the cores, so what one of them burns in a request's last
// moments is time the others wait for a core. Elsewhere (no /proc) every figure is NaN.
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc's times: 100 on every Linux the project runs on (USER_HZ). */
const TICK_MS = 10;

/** utime + stime of a /proc stat line, in ms. */
function statMs(stat: string): number {
  // The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** A process's CPU time (all its threads), or its main thread's alone; NaN when it cannot be read. */
export function processCpuMs(pid: number | undefined, mainThreadOnly = false): number {
  if (pid === undefined) return Number.NaN;
  const stat = read(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`);
  return stat === undefined ? Number.NaN : statMs(stat);
}

/** The CPU time of every process whose command name is `name` (PostgreSQL's server and backends). */
export function namedCpuMs(name: string): number {
  if (!existsSync("/proc")) return Number.NaN;
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (stat?.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) === name) total += statMs(stat);
  }
  return total;
}

/** What each named part spent between `start()` and `stop(n)`, per one of `n` requests. */
export function cpuMeter(parts: Record<string, () => number>): { stop(n: number): Record<string, number> } {
  const before = Object.fromEntries(Object.entries(parts).map(([k, read]) => [k, read()]));
  return {
    stop: (n) =>
      Object.fromEntries(Object.entries(parts).map(([k, read]) => [k, (read() - (before[k] as number)) / n])),
  };
}
