// `npm run fleet -- --workers N`: a gateway and N workers on this machine, each its own `npm start` process
// (ROLE=gateway, ROLE=worker) sharing REDIS_URL, DATABASE_URL and STORAGE_URL, with every line of each
// process's output prefixed by its role. Ctrl-C (or SIGTERM) stops them all gracefully. On several hosts, run
// the same roles with `npm start` on each instead (README, "Fleet mode").
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { readEnvironment } from "./app/startup.ts";

/**
 * Each process runs what `npm start` runs: compiled JavaScript beside this file in dist/ (npm run fleet builds
 * it first), or the sources through tsx when this file itself runs as TypeScript (tests, development).
 */
const COMPILED = import.meta.filename.endsWith(".js");
const ENTRY = join(import.meta.dirname, COMPILED ? "index.js" : "index.ts");
const USAGE = "usage: npm run fleet -- [--workers N]   (N from 1 to 32, default 2)";

function main(): void {
  let workers: number;
  try {
    const { values } = parseArgs({ options: { workers: { type: "string", default: "2" } } });
    workers = Number(values.workers);
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (!Number.isInteger(workers) || workers < 1 || workers > 32) fail(USAGE);
  const env = readEnvironment();
  const missing = ["DISCORD_TOKEN", "REDIS_URL", "DATABASE_URL"].filter((name) => !env[name]?.trim());
  if (missing.length > 0) {
    fail(
      `Cannot start the fleet: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set. ` +
        "A fleet shares its queue (REDIS_URL) and its database (DATABASE_URL); see the README's Fleet mode.",
    );
  }
  if (!env.STORAGE_URL?.trim()) {
    console.warn(
      "[fleet] STORAGE_URL is not set: every process keeps files under the same DATA_DIR, which works on this machine only.",
    );
  }
  checkPortRanges(env, workers);
  const roles = [
    { name: "gateway", role: "gateway" },
    ...Array.from({ length: workers }, (_, i) => ({ name: `worker-${i + 1}`, role: "worker" })),
  ];
  const children = roles.map(({ name, role }, i) =>
    run(name, { ...env, ROLE: role, ...listenPorts(env, i) }),
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`[fleet] ${signal}: stopping ${children.length} processes`);
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let running = children.length;
  let worst = 0;
  for (const [i, child] of children.entries()) {
    child.once("exit", (code, signal) => {
      const name = roles[i]?.name;
      console.log(`[fleet] ${name} exited (${signal ?? `code ${code}`})`);
      // Any process ending on its own is a failure of the fleet, even with code 0.
      if (!stopping) worst = code || 1;
      // One process down is a fleet that is not what was asked for: stop the rest, say so.
      if (!stopping) stop("SIGTERM");
      if (--running === 0) process.exit(worst);
    });
  }
}

/**
 * Each process its own ports on this host, so none finds its port taken: process i (the gateway is 0, worker
 * n is n) listens on HTTP_PORT + i and OPS_PORT + i; a port of 0 (off) stays 0.
 */
function listenPorts(env: NodeJS.ProcessEnv, i: number): { HTTP_PORT: string; OPS_PORT: string } {
  const offset = (value: string | undefined, fallback: number) => {
    const base = Number(value?.trim() || fallback);
    return String(base === 0 ? 0 : base + i);
  };
  return { HTTP_PORT: offset(env.HTTP_PORT, 8080), OPS_PORT: offset(env.OPS_PORT, 9464) };
}

/** The two ranges of ports must not meet, or one process would find its port taken by another's. */
function checkPortRanges(env: NodeJS.ProcessEnv, workers: number): void {
  const { HTTP_PORT, OPS_PORT } = listenPorts(env, 0);
  const [http, ops] = [Number(HTTP_PORT), Number(OPS_PORT)];
  if (http !== 0 && ops !== 0 && Math.abs(http - ops) <= workers) {
    fail(
      `Cannot start the fleet: process i listens on HTTP_PORT + i and OPS_PORT + i, so HTTP_PORT (${http}) and OPS_PORT (${ops}) must be more than ${workers} apart`,
    );
  }
}

/** Starts one role as `npm start` would, its output line by line behind `[name]`. */
function run(name: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [...(COMPILED ? [] : ["--import", "tsx"]), ENTRY], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => out.write(`[${name}] ${line}\n`));
  }
  return child;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

main();
