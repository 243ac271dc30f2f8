// `npm run bench -- --fleet N`: the load phase in fleet mode, with 1 worker and then N, each process its own
// `npm start` (ROLE=gateway, ROLE=worker) on Redis (BullMQ), PostgreSQL and S3 (s3rver), against the local
// Discord server (in this process) and the fake Replicate server (a process of its own). Prints, for each fleet
// size, throughput ÷ ideal, defer p50/p99 and every process's peak RSS, and writes them to bench-results/.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { build } from "../scripts/build.mjs";
import { deployCommands } from "../src/discord/commands/register.ts";
import { newId } from "../src/kit/ids.ts";
import { DiscordSandbox, type SandboxInteraction, type StoredMessage } from "../src/sandbox/server.ts";
import { removeKeys } from "../test/support/redis.ts";
import { type ScriptProcess, spawnScript } from "../test/support/spawn.ts";
import { startEngine } from "./engine.ts";
import { spawnFakeReplicate } from "./fake-replicate-spawn.ts";
import { quantile } from "./stats.ts";

const argAfter = (flag: string) => process.argv[process.argv.indexOf(flag) + 1];
const WORKERS = Number(argAfter("--fleet"));
const quick = process.argv.includes("--quick");
if (!Number.isInteger(WORKERS) || WORKERS < 1 || WORKERS > 8) {
  console.error("usage: npm run bench -- --fleet N [--quick]   (N workers, 1–8; runs 1 worker, then N)");
  process.exit(2);
}
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const USERS = quick ? 20 : 100;
const CONCURRENCY = 32;
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 1500);
const TOKEN = "bench-bot-token-0123456789";
const REPLICATE_TOKEN = "r8_bench_token_0123456789";
const root = join(import.meta.dirname, "..");
const work = join(os.tmpdir(), `crbot-bench-fleet-${process.pid}`);

interface Member {
  name: string;
  proc: ScriptProcess;
  probeFile: string;
}

/** One /character from send to final grid: when it was acknowledged, and when the grid was complete. */
function character(sandbox: DiscordSandbox, userId: string, prompt: string) {
  return new Promise<{ deferMs: number; e2eMs: number; images: number }>((resolve) => {
    let interaction: SandboxInteraction | undefined;
    let deferAt = Number.NaN;
    const t0 = performance.now();
    const done = (grid: StoredMessage | undefined) => {
      clearTimeout(timer);
      sandbox.off("interaction-callback", onCallback);
      sandbox.off("message", onMessage);
      resolve({
        deferMs: deferAt - t0,
        e2eMs: performance.now() - t0,
        images: grid?.attachments.length ?? 0,
      });
    };
    const onCallback = (i: SandboxInteraction) => {
      if (i === interaction) deferAt = performance.now();
    };
    const onMessage = (m: StoredMessage) => {
      const final = (m.components as Array<{ components?: Array<{ label?: string }> }>).some((row) =>
        row.components?.some((b) => b.label === "Regenerate"),
      );
      if (interaction && m.id === interaction.originalMessageId && final) done(m);
    };
    const timer = setTimeout(() => done(undefined), 300_000);
    sandbox.on("interaction-callback", onCallback);
    sandbox.on("message", onMessage);
    interaction = sandbox.runCommand({
      command: "character",
      options: { description: prompt, count: 4 },
      user: { id: userId, username: `user${userId.slice(-4)}` },
    });
  });
}

async function main() {
  build();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const engine = await startEngine("postgres", ADMIN_URL);
  const { process: fake, url: replicateUrl } = await spawnFakeReplicate({
    BENCH_LATENCY_MS: String(LATENCY_MS),
    BENCH_REPLICATE_TOKEN: REPLICATE_TOKEN,
  });
  const sandbox = await DiscordSandbox.start({ token: TOKEN });
  sandbox.setMaxListeners(0);
  await deployCommands({ token: TOKEN, apiUrl: sandbox.apiUrl, guildId: sandbox.guild.id });
  console.log(
    `bench --fleet: ${quick ? "quick" : "full"} run, ${USERS} users × 4 images at once, limit ${CONCURRENCY}, ` +
      `latency ${LATENCY_MS} ms ±10 %, on PostgreSQL + S3 (s3rver) + Redis`,
  );
  let user = 200000000000000000n;
  const results = [];
  for (const workers of [...new Set([1, WORKERS])]) {
    const prefix = `crbot-bench-${process.pid}-${workers}`;
    const env = {
      ...(await engine.env()),
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: sandbox.apiUrl,
      IMAGE_PROVIDER: "replicate",
      REPLICATE_API_TOKEN: REPLICATE_TOKEN,
      REPLICATE_API_URL: replicateUrl,
      DATA_DIR: join(work, `data-${newId()}`),
      LOG_LEVEL: "info",
      MAX_CONCURRENT_PREDICTIONS: String(CONCURRENCY),
      DAILY_IMAGES_PER_GUILD: "1000000",
      DAILY_IMAGES_PER_USER: "100000",
      USER_DAILY_CAP: "1000000",
    };
    const start = (name: string, role: string): Member => {
      const probeFile = join(work, `probe-${newId()}.json`);
      // What npm start runs: the compiled bot, built by bench/run.ts before this runs.
      const proc = spawnScript(
        "scripts/start.mjs",
        { ...env, ROLE: role, BENCH_PROBE_FILE: probeFile },
        { preload: ["./bench/probe.mjs"], tsx: false },
      );
      return { name, proc, probeFile };
    };
    const members = [
      start("gateway", "gateway"),
      ...Array.from({ length: workers }, (_, i) => start(`worker-${i + 1}`, "worker")),
    ];
    await Promise.all(
      members.map((m) =>
        m.proc.printed(m.name === "gateway" ? "logged in to Discord" : "worker taking jobs", 60_000),
      ),
    );
    await sandbox.waitFor(() => sandbox.connected, 60_000, "the gateway to connect");
    // Each worker warms up as a running fleet has: a first request, and the latency estimate it teaches.
    await Promise.all(
      Array.from({ length: workers }, () => character(sandbox, String(++user), `fleet warm-up ${newId()}`)),
    );
    for (const m of members) m.proc.child.kill("SIGUSR2");
    const t0 = performance.now();
    const load = await Promise.all(
      Array.from({ length: USERS }, (_, i) =>
        character(sandbox, String(++user), `fleet load ${workers} ${i}`),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 400));
    const peaks = members.map((m) => {
      const probe = JSON.parse(readFileSync(m.probeFile, "utf8")) as { peakRssBytes: number };
      return { process: m.name, peakRssMB: Math.round(probe.peakRssBytes / 1024 / 1024) };
    });
    await Promise.all(members.map((m) => m.proc.stop("SIGTERM")));
    await sandbox.waitFor(() => !sandbox.connected, 20_000, "the gateway to disconnect");
    await removeKeys(prefix, REDIS_URL);
    const images = load.reduce((n, r) => n + r.images, 0);
    const ideal = CONCURRENCY / (LATENCY_MS / 1000);
    const throughput = images / seconds;
    const defers = load.map((r) => r.deferMs);
    results.push({
      workers,
      images,
      lost: USERS * 4 - images,
      seconds,
      throughputPerSecond: throughput,
      throughputRatio: throughput / ideal,
      deferP50Ms: quantile(defers, 0.5),
      deferP99Ms: quantile(defers, 0.99),
      peaks,
    });
  }
  await fake.stop("SIGTERM");
  await sandbox.close();
  await engine.close();

  console.log(
    "\n| workers | throughput ÷ ideal | images/s | defer p50 / p99 | lost | peak RSS per process |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.workers} | ${r.throughputRatio.toFixed(2)} | ${r.throughputPerSecond.toFixed(1)} | ` +
        `${r.deferP50Ms.toFixed(0)} / ${r.deferP99Ms.toFixed(0)} ms | ${r.lost} | ` +
        `${r.peaks.map((p) => `${p.process} ${p.peakRssMB} MB`).join(", ")} |`,
    );
  }
  const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? "?", node: process.version };
  console.log(
    `\nOn ${machine.cores} cores every process (gateway, workers, the fake Replicate, s3rver, PostgreSQL, Redis and ` +
      "this Discord server) shares the same CPUs, so a second worker adds event loops but no cores: the work per " +
      "image (download, hash, store to S3, upload to Discord) is CPU-bound here, and the fleet's throughput is " +
      "bounded by the machine, not by the queue. On separate hosts each worker brings its own cores and bandwidth.",
  );
  mkdirSync(join(root, "bench-results"), { recursive: true });
  const when = new Date().toISOString();
  const out = join(root, "bench-results", `fleet-${when.replace(/[:.]/g, "-")}.json`);
  writeFileSync(out, JSON.stringify({ when, mode: quick ? "quick" : "full", machine, results }, null, 2));
  console.log(`written to ${out}`);
  rmSync(work, { recursive: true, force: true });
}

await main();
process.exit(0);
