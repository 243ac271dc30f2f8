// `npm run bench -- --sim`: a community at internet scale on one machine. 10,000 servers on 4 gateway shards
// served by 2 gateway processes (shards 0–1 and 2–3) and 2 workers, each its own `npm start` on PostgreSQL,
// S3 (s3rver) and Redis, against the local Discord server (in this process, enforcing Discord's global limit
// of 50 bot-token requests a second) and the fake Replicate (a process of its own, enforcing Replicate's
// account limits: 600 creates and 3,000 other requests a rolling minute, 429 with Retry-After beyond).
// Members send 1,000 /character a minute (count 1–4) for 3 minutes; 5 % press Regenerate on their grid, 10 %
// pick an image and 2 % ask for a /video of it; a few members ask again and again. Replicate's create rate is
// the bottleneck by design (about 2,500 images a minute are asked for, 600 may be created), so the queue grows
// while the load lasts and drains after it. Before the load, a single bot process (ROLE=all, no Redis) serves
// count-4 requests one at a time: the own overhead the fleet's is compared with.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { build } from "../scripts/build.mjs";
import { deployCommands } from "../src/discord/commands/register.ts";
import { newId } from "../src/kit/ids.ts";
import { DiscordSandbox, guildOnShard, type SandboxGuild } from "../src/sandbox/server.ts";
import { freePort } from "../test/support/ports.ts";
import { removeKeys } from "../test/support/redis.ts";
import { type ScriptProcess, spawnScript } from "../test/support/spawn.ts";
import { startEngine } from "./engine.ts";
import { spawnFakeReplicate } from "./fake-replicate-spawn.ts";
import { SimLoad } from "./sim-load.ts";
import {
  type CreateSeen,
  createsByRequest,
  ownOverheads,
  queuePlot,
  type SimInputs,
  simFigures,
} from "./sim-report.ts";
import { quantile } from "./stats.ts";

const argAfter = (flag: string, fallback: number) =>
  process.argv.includes(flag) ? Number(process.argv[process.argv.indexOf(flag) + 1]) : fallback;
const MINUTES = argAfter("--minutes", 3);
const RATE = argAfter("--rate", 1000);
const GUILDS = argAfter("--guilds", 10_000);
/** `--webhooks`: completions announced by the fake Replicate's webhooks (PUBLIC_URL) instead of found by polling. */
const WEBHOOKS = process.argv.includes("--webhooks");
const SHARDS = 4;
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 1500);
/** Small outputs: the simulation measures the queue and the limits; the image path is the other phases' figure. */
const OUTPUT_SIZE = Number(process.env.BENCH_OUTPUT_SIZE ?? 128);
const CONCURRENCY = 32;
const STATUS_PER_MINUTE = 2700;
const TOKEN = "bench-bot-token-0123456789";
const REPLICATE_TOKEN = "r8_bench_token_0123456789";
const root = join(import.meta.dirname, "..");
const work = join(os.tmpdir(), `crbot-bench-sim-${process.pid}`);
const log = (text: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${text}`);

if (![MINUTES, RATE, GUILDS].every((n) => Number.isFinite(n) && n > 0)) {
  console.error("usage: npm run bench -- --sim [--minutes 3] [--rate 1000] [--guilds 10000]");
  process.exit(2);
}

async function adminJson<T>(replicateUrl: string, path: string): Promise<T> {
  const response = await fetch(new URL(path, replicateUrl));
  return (await response.json()) as T;
}

function botEnv(base: Record<string, string>, sandbox: DiscordSandbox, replicateUrl: string) {
  return {
    ...base,
    DISCORD_TOKEN: TOKEN,
    DISCORD_API_URL: sandbox.apiUrl,
    IMAGE_PROVIDER: "replicate",
    REPLICATE_API_TOKEN: REPLICATE_TOKEN,
    REPLICATE_API_URL: replicateUrl,
    DATA_DIR: join(work, `data-${newId()}`),
    LOG_LEVEL: "warn",
    MAX_CONCURRENT_PREDICTIONS: String(CONCURRENCY),
    REPLICATE_STATUS_CHECKS_PER_MINUTE: String(STATUS_PER_MINUTE),
    DAILY_IMAGES_PER_GUILD: "1000000",
    DAILY_IMAGES_PER_USER: "100000",
    USER_DAILY_CAP: "1000000",
  };
}

/** Waits until every request the load sent has its answer, or `limitMs` passed; logs the progress. */
async function settle(load: SimLoad, limitMs: number, queueLength: () => number): Promise<void> {
  const until = Date.now() + limitMs;
  let last = 0;
  while (!load.settled && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    if (Date.now() - last > 30_000) {
      last = Date.now();
      const open = load.requests.filter((r) => r.doneAt === undefined).length;
      log(`${open} of ${load.requests.length} requests still open, ${queueLength()} jobs waiting`);
    }
  }
}

/** The single-process figure: a bot alone (ROLE=all, no Redis) serving count-4 requests one at a time. */
async function baseline(
  sandbox: DiscordSandbox,
  guild: SandboxGuild,
  env: Record<string, string>,
  url: string,
) {
  const shards = { SHARD_COUNT: String(SHARDS), SHARD_IDS: "0,1,2,3" };
  const bot = spawnScript(
    "scripts/start.mjs",
    { ...env, ROLE: "all", ...shards, ...(await webhookEnv()) },
    { tsx: false },
  );
  children.push(bot);
  await sandbox.waitFor(() => sandbox.connected, 60_000, "the single bot to connect");
  const figure = await oneAtATime(sandbox, guild, url, 400000000000000000n);
  await bot.stop("SIGTERM");
  await sandbox.waitFor(() => !sandbox.connected, 20_000, "the single bot to disconnect");
  return figure;
}

/**
 * Own overhead (grid on Discord − the end of its slowest prediction) of 16 count-4 requests sent one at a time
 * to whatever serves `guild` now, the first left out: it warms the bot up (its latency estimate), as a running
 * bot is.
 */
async function oneAtATime(sandbox: DiscordSandbox, guild: SandboxGuild, url: string, firstUser: bigint) {
  const load = new SimLoad(sandbox, [guild], {
    perMinute: 1,
    minutes: 0,
    regenerateShare: 0,
    pickShare: 0,
    videoShare: 0,
    flooders: 0,
    floodEveryMs: 1,
  });
  const from = Date.now();
  let user = firstUser;
  for (let i = 0; i < 16; i++) {
    const request = load.send(guild, String(user++), 4);
    await sandbox.waitFor(() => request.doneAt !== undefined, 60_000, "a grid served alone");
  }
  load.stop();
  const creates = (await adminJson<CreateSeen[]>(url, "/_admin/creates")).filter((c) => c.at >= from);
  const overheads = ownOverheads(createsByRequest({ creates, requests: load.requests.slice(1) }));
  return { p50: quantile(overheads, 0.5), p95: quantile(overheads, 0.95) };
}

/** Every process this run started, stopped with it however it ends. */
const children: ScriptProcess[] = [];
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(1));
process.on("exit", () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGKILL");
});

/** With `--webhooks`: the process given these variables receives Replicate's webhooks on its own HTTP port. */
async function webhookEnv(): Promise<Record<string, string>> {
  if (!WEBHOOKS) return {};
  const port = await freePort();
  return { HTTP_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` };
}

function startFleet(
  env: Record<string, string>,
  hooks: Record<string, string>,
): Array<{ name: string; proc: ScriptProcess }> {
  const start = (name: string, extra: Record<string, string>) => {
    const proc = spawnScript("scripts/start.mjs", { ...env, ...extra }, { tsx: false });
    children.push(proc);
    // A bot that ends before the run stops it is news: what it said last.
    proc.child.once("exit", (code, signal) => {
      if (stopping) return;
      const file = join(root, "bench-results", `sim-${name}-${Date.now()}.log`);
      mkdirSync(join(root, "bench-results"), { recursive: true });
      writeFileSync(file, proc.output());
      log(`${name} exited (${code ?? signal}); what it printed is in ${file}`);
    });
    return { name, proc };
  };
  return [
    start("gateway-1", { ROLE: "gateway", SHARD_COUNT: String(SHARDS), SHARD_IDS: "0,1", ...hooks }),
    start("gateway-2", { ROLE: "gateway", SHARD_COUNT: String(SHARDS), SHARD_IDS: "2,3" }),
    start("worker-1", { ROLE: "worker" }),
    start("worker-2", { ROLE: "worker" }),
  ];
}

async function main() {
  build();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const engine = await startEngine("postgres", ADMIN_URL);
  const { process: fake, url: replicateUrl } = await spawnFakeReplicate({
    BENCH_LATENCY_MS: String(LATENCY_MS),
    BENCH_REPLICATE_TOKEN: REPLICATE_TOKEN,
    BENCH_ACCOUNT_LIMITS: "1",
    BENCH_OUTPUT_SIZE: String(OUTPUT_SIZE),
  });
  children.push(fake);
  const guilds = Array.from({ length: GUILDS }, (_, i) =>
    guildOnShard(i % SHARDS, SHARDS, `Server ${i + 1}`),
  );
  const sandbox = await DiscordSandbox.start({ token: TOKEN, shards: SHARDS, guilds });
  sandbox.enforceGlobalLimit(50);
  await deployCommands({ token: TOKEN, apiUrl: sandbox.apiUrl });
  log(
    `bench --sim: ${GUILDS} servers on ${SHARDS} shards, ${RATE} /character a minute for ${MINUTES} min, ` +
      `completions by ${WEBHOOKS ? "webhook" : "polling"}`,
  );

  const base = await baseline(
    sandbox,
    guilds[0] as SandboxGuild,
    botEnv(await engine.env(), sandbox, replicateUrl),
    replicateUrl,
  );
  log(`single process: own overhead p50 ${base.p50.toFixed(0)} ms, p95 ${base.p95.toFixed(0)} ms`);

  const prefix = `crbot-bench-sim-${process.pid}`;
  const env = { ...botEnv(await engine.env(), sandbox, replicateUrl), REDIS_URL, QUEUE_PREFIX: prefix };
  // Every process names the webhook URL in its creates; the first gateway receives them, and Redis relays them.
  const hooks = await webhookEnv();
  const fleet = startFleet({ ...env, ...(hooks.PUBLIC_URL ? { PUBLIC_URL: hooks.PUBLIC_URL } : {}) }, hooks);
  await sandbox.waitFor(() => sandbox.connected, 120_000, "every shard to connect");
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const predictions = new Queue("predictions", { connection: redis, prefix });
  // The bots log warnings only (their info lines would fill this process's memory): the workers are seen in Redis.
  for (const deadline = Date.now() + 120_000; (await predictions.getWorkersCount()) < 2; ) {
    if (Date.now() > deadline) throw new Error("the workers did not start");
    await new Promise((r) => setTimeout(r, 500));
  }
  log("fleet up: 2 gateways (shards 0,1 and 2,3), 2 workers");
  // The same one-at-a-time figure through the fleet before the load: what its architecture adds (a job per
  // slot and a delivery job, on Redis), apart from what a loaded machine adds.
  const idle = await oneAtATime(sandbox, guilds[0] as SandboxGuild, replicateUrl, 410000000000000000n);
  log(
    `fleet, one request at a time: own overhead p50 ${idle.p50.toFixed(0)} ms, p95 ${idle.p95.toFixed(0)} ms`,
  );
  const queue: SimInputs["queue"] = [];
  const sampler = setInterval(() => {
    predictions
      .getJobCounts("wait", "prioritized", "active")
      .then((c) =>
        queue.push({ at: Date.now(), waiting: (c.wait ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0 }),
      )
      .catch(() => {});
  }, 2000);
  const plan = {
    perMinute: RATE,
    minutes: MINUTES,
    regenerateShare: 0.05,
    pickShare: 0.1,
    videoShare: 0.02,
    flooders: 5,
    floodEveryMs: 2000,
  };
  const load = new SimLoad(sandbox, guilds, plan);
  const discordBefore = sandbox.requestLog.length;
  const loadStart = Date.now();
  await load.run();
  const loadEnd = Date.now();
  log(`load sent: ${load.requests.length} interactions so far; draining`);
  await settle(load, 20 * 60_000, () => queue.at(-1)?.waiting ?? 0);
  await new Promise((r) => setTimeout(r, 5000));
  load.stop();
  clearInterval(sampler);

  const creates = await adminJson<CreateSeen[]>(replicateUrl, "/_admin/creates");
  const requestLog = await adminJson<{
    requests: Array<[number, number, number]>;
    refused: SimInputs["refused"];
  }>(replicateUrl, "/_admin/requests");
  const discord = sandbox.requestLog.slice(discordBefore);
  const inputs: SimInputs = {
    requests: load.requests,
    creates: creates.filter((c) => c.at >= loadStart),
    replicateRequests: requestLog.requests.filter(([at]) => at >= loadStart),
    refused: requestLog.refused,
    discord429s: {
      all: discord.filter((r) => r.status === 429).length,
      global: discord.filter((r) => r.status === 429 && r.lane === "bot").length,
    },
    queue,
    loadStart,
    loadEnd,
    statusBudgetPerMinute: STATUS_PER_MINUTE,
    maxRunningPerUser: 1,
    baseline: base,
    fleetAlone: idle,
  };
  const { figures, details } = simFigures(inputs);
  stopping = true;
  await Promise.all(fleet.map((m) => m.proc.stop("SIGTERM")));
  await predictions.close();
  redis.disconnect();
  await removeKeys(prefix, REDIS_URL);
  await fake.stop("SIGTERM");
  await sandbox.close();
  await engine.close();
  report(figures, details, queuePlot(queue, loadStart), inputs);
  rmSync(work, { recursive: true, force: true });
}

function report(
  figures: ReturnType<typeof simFigures>["figures"],
  details: Record<string, unknown>,
  plot: string,
  inputs: SimInputs,
) {
  console.log("");
  const width = Math.max(...figures.map((f) => f.figure.length));
  for (const f of figures) {
    const value = Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(2);
    const mark = f.met === undefined ? "" : f.met ? " ✓" : " ✗ missed";
    console.log(`${f.figure.padEnd(width)}  ${value.padStart(8)}   goal ${f.goal}${mark}`);
  }
  console.log(`\n${JSON.stringify(details, null, 2)}\n\n${plot}\n`);
  const machine = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "?",
    node: process.version,
    loadAverage: os.loadavg(),
  };
  mkdirSync(join(root, "bench-results"), { recursive: true });
  const when = new Date().toISOString();
  const out = join(root, "bench-results", `sim-${when.replace(/[:.]/g, "-")}.json`);
  const options = {
    minutes: MINUTES,
    rate: RATE,
    guilds: GUILDS,
    shards: SHARDS,
    latencyMs: LATENCY_MS,
    outputSize: OUTPUT_SIZE,
  };
  writeFileSync(
    out,
    JSON.stringify({ when, mode: "sim", options, machine, figures, details, queuePlot: plot }, null, 2),
  );
  // Everything the figures were worked out from, to work them out again (bench/sim-report.ts).
  writeFileSync(out.replace(/\.json$/, ".raw.json"), JSON.stringify(inputs));
  console.log(`written to ${out}`);
}

/**
 * `--report run.raw.json`: the figures worked out again from a run's record (after a change to how they are
 * worked out). A refusal recorded as a failure by an older run (its withdrawn reply) counts as a refusal.
 */
function reportAgain(file: string): void {
  const inputs = JSON.parse(readFileSync(file, "utf8")) as SimInputs;
  for (const r of inputs.requests) {
    if (r.outcome === "failed" && r.note === "Request not started.") r.outcome = "refused";
  }
  const { figures, details } = simFigures(inputs);
  report(figures, details, queuePlot(inputs.queue, inputs.loadStart), inputs);
}

if (process.argv.includes("--report"))
  reportAgain(process.argv[process.argv.indexOf("--report") + 1] as string);
else await main();
process.exit(0);
