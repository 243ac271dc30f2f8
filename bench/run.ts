import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { build } from "../scripts/build.mjs";
import { openDataStore } from "../src/db/data-store.ts";
import { databaseSettings } from "../src/db/database.ts";
import { deployCommands } from "../src/discord/commands/register.ts";
import { FileStore } from "../src/files/file-store.ts";
import { newId } from "../src/kit/ids.ts";
import { DiscordSandbox, type SandboxInteraction, type StoredMessage } from "../src/sandbox/server.ts";
import { type ScriptProcess, spawnScript } from "../test/support/spawn.ts";
import {
  BESIDE_SEGMENTS,
  breakDown,
  type CreateFact,
  DEFER_SEGMENTS,
  OVERHEAD_SEGMENTS,
  type RunBreakdown,
  readMarks,
  type TracedRun,
} from "./breakdown.ts";
import { compareResults, type Figure, poolResults } from "./compare.ts";
import { cpuMeter, processCpuMs } from "./cpu.ts";
import { type BenchEngine, startEngine } from "./engine.ts";
import { type FakeReplicateProcess, spawnFakeReplicate } from "./fake-replicate-spawn.ts";
import { median, quantile } from "./stats.ts";
import { texturedNoise } from "./textured-noise.ts";

if (process.argv.includes("--sim")) {
  // The internet-scale simulation, on its own: bench/sim.ts.
  await import("./sim.ts");
}
if (process.argv.includes("--fleet")) {
  // Fleet mode's load phase, on its own: bench/fleet.ts.
  await import("./fleet.ts");
}
const quick = process.argv.includes("--quick");
/** `--compare old.json`: after the run, old, new and their ratio for every figure; `--compare old.json new.json` only compares. */
const compareArgs = process.argv.includes("--compare")
  ? process.argv.slice(process.argv.indexOf("--compare") + 1).filter((a) => !a.startsWith("--"))
  : undefined;
/** `--engine sqlite` (default: SQLite + files under DATA_DIR) or `--engine postgres` (PostgreSQL + S3, s3rver). */
const engineArg = process.argv[process.argv.indexOf("--engine") + 1];
const ENGINE = process.argv.includes("--engine") ? engineArg : "sqlite";
if (ENGINE !== "sqlite" && ENGINE !== "postgres") {
  console.error(
    "usage: npm run bench -- [--quick] [--engine sqlite|postgres] [--compare old.json [new.json]] | --pool result.json…",
  );
  process.exit(2);
}
/** Where `--engine postgres` creates its database (dropped at the end); trust auth as on the CI machines. */
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";
/** BENCH_BOT=tsx: the bot from its sources through tsx, as npm start ran it before dist/ (for comparison). */
const BOT_TSX = process.env.BENCH_BOT === "tsx";
const RUNS = quick ? 3 : 7;
/**
 * The count-4 runs behind the own-overhead figures: one run's overhead moves by tens of ms with what else holds
 * the two cores, so its median needs more of them than the other figures do.
 */
const OVERHEAD_RUNS = quick ? 3 : 15;
const LOAD_USERS = quick ? 20 : 100;
const LOAD_CONCURRENCY = 32;
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 1500);
const TOKEN = "bench-bot-token-0123456789";
const REPLICATE_TOKEN = "r8_bench_token_0123456789";
const root = join(import.meta.dirname, "..");
const work = join(os.tmpdir(), `crbot-bench-${process.pid}`);

interface Probe {
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  rssBytes: number;
  peakRssBytes: number;
}

function startFakeReplicate(): Promise<FakeReplicateProcess> {
  return spawnFakeReplicate({
    BENCH_LATENCY_MS: String(LATENCY_MS),
    BENCH_REPLICATE_TOKEN: REPLICATE_TOKEN,
    ...(process.env.BENCH_JITTER ? { BENCH_JITTER: process.env.BENCH_JITTER } : {}),
  });
}

class BotProcess {
  private constructor(
    private readonly bot: ScriptProcess,
    private readonly probeFile: string,
    private readonly dataDir: string,
    private readonly engineEnv: Record<string, string>,
    /** From spawning the process to its gateway connection. */
    readonly startMs: number,
  ) {}

  /** Starts the bot exactly as npm start does, plus the probe, and waits until it is on the gateway. */
  static async start(
    sandbox: DiscordSandbox,
    replicateUrl: string,
    env: Record<string, string>,
    engine: BenchEngine,
    /** A stopped bot whose database and files this one takes over, as a restart does. */
    after?: BotProcess,
  ): Promise<BotProcess> {
    const dataDir = after?.dataDir ?? join(work, `data-${newId()}`);
    const engineEnv = after?.engineEnv ?? (await engine.env());
    const probeFile = join(work, `probe-${newId()}.json`);
    const spawnedAt = performance.now();
    const bot = spawnScript(
      // What npm start runs: the compiled bot (built above); BENCH_BOT=tsx runs the sources through tsx instead.
      BOT_TSX ? "src/index.ts" : "scripts/start.mjs",
      {
        DISCORD_TOKEN: TOKEN,
        DISCORD_API_URL: sandbox.apiUrl,
        IMAGE_PROVIDER: "replicate",
        REPLICATE_API_TOKEN: REPLICATE_TOKEN,
        REPLICATE_API_URL: replicateUrl,
        DATA_DIR: dataDir,
        LOG_LEVEL: "warn",
        BENCH_PROBE_FILE: probeFile,
        // The benchmark measures speed, not limits: its load phase needs room beyond the daily defaults.
        DAILY_IMAGES_PER_GUILD: "1000000",
        DAILY_IMAGES_PER_USER: "100000",
        USER_DAILY_CAP: "1000000",
        ...engineEnv,
        // BENCH_CPU_PROFILE=<file>: bench/probe.mjs profiles the bot's load phase into it.
        ...(process.env.BENCH_CPU_PROFILE ? { BENCH_CPU_PROFILE: process.env.BENCH_CPU_PROFILE } : {}),
        ...env,
      },
      { preload: ["./bench/probe.mjs"], inheritOutput: true, tsx: BOT_TSX },
    );
    if (env.INTERACTIONS_MODE === "http") await answersPing(sandbox);
    else await sandbox.waitFor(() => sandbox.connected, 30_000, "the bot to connect");
    const startMs = performance.now() - spawnedAt;
    await new Promise((r) => setTimeout(r, 300));
    return new BotProcess(bot, probeFile, dataDir, engineEnv, startMs);
  }

  get pid(): number | undefined {
    return this.bot.child.pid;
  }

  probe(): Probe {
    return JSON.parse(readFileSync(this.probeFile, "utf8")) as Probe;
  }

  /** The bot's trace marks so far (all of them once it has stopped). */
  marks() {
    return readMarks(`${this.probeFile}.trace.jsonl`);
  }

  resetProbe(): void {
    this.bot.child.kill("SIGUSR2");
  }

  async stop(sandbox: DiscordSandbox): Promise<void> {
    await this.bot.stop("SIGTERM");
    await sandbox.waitFor(() => !sandbox.connected, 10_000, "the bot to disconnect");
  }
}

/** An HTTP-interactions bot is up once its /interactions answers a signed PING. */
async function answersPing(sandbox: DiscordSandbox): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await sandbox.http.post(JSON.stringify({ type: 1 }))).status !== 200) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the bot's /interactions");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Acknowledgement latency over HTTP interactions (INTERACTIONS_MODE=http, no gateway): a bot on the same
 * database answers /character count 1 in the HTTP response; from the interaction sent to its answer read.
 */
async function httpAcknowledgements(
  sandbox: DiscordSandbox,
  fake: { url: string; origin: string },
  common: Record<string, string>,
  engine: BenchEngine,
  after: BotProcess,
): Promise<number[]> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  sandbox.http.url = `http://127.0.0.1:${port}/interactions`;
  const env = {
    ...common,
    INTERACTIONS_MODE: "http",
    DISCORD_PUBLIC_KEY: sandbox.http.publicKey,
    HTTP_PORT: String(port),
  };
  const bot = await BotProcess.start(sandbox, fake.url, env, engine, after);
  const from = sandbox.http.deliveries.length;
  await sequentialRuns(sandbox, fake.origin, 1, "ack-http");
  await bot.stop(sandbox);
  sandbox.http.url = undefined;
  return sandbox.http.deliveries.slice(from).map((d) => d.ms);
}

interface RunResult extends TracedRun {
  deferMs: number;
  e2eMs: number;
  grid: StoredMessage | undefined;
}

/** Epoch milliseconds, finer than Date.now(), as the bot's trace marks are. */
const epoch = () => performance.timeOrigin + performance.now();

const isFinal = (m: StoredMessage) =>
  (m.components as Array<{ components?: Array<{ label?: string }> }>).some((row) =>
    row.components?.some((b) => b.label === "Regenerate"),
  );

/** Sends /character and resolves when the grid is final; times measured from the moment it was sent. */
function character(
  sandbox: DiscordSandbox,
  userId: string,
  count: number,
  prompt: string,
  timeoutMs = 120_000,
): Promise<RunResult> {
  return new Promise((resolve) => {
    let interaction: SandboxInteraction | undefined;
    let deferAt = Number.NaN;
    const t0 = epoch();
    const done = (grid: StoredMessage | undefined) => {
      const gridAt = grid ? epoch() : Number.NaN;
      clearTimeout(timer);
      sandbox.off("interaction-callback", onCallback);
      sandbox.off("message", onMessage);
      resolve({
        prompt,
        interactionId: interaction?.id ?? "",
        sentAt: t0,
        deferAt,
        gridAt,
        deferMs: deferAt - t0,
        e2eMs: epoch() - t0,
        grid,
      });
    };
    const onCallback = (i: SandboxInteraction) => {
      if (i === interaction) deferAt = epoch();
    };
    const onMessage = (m: StoredMessage) => {
      if (interaction && m.id === interaction.originalMessageId && isFinal(m)) done(m);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sandbox.on("interaction-callback", onCallback);
    sandbox.on("message", onMessage);
    interaction = sandbox.runCommand({
      command: "character",
      options: { description: prompt, count },
      user: { id: userId, username: `user${userId.slice(-4)}` },
    });
  });
}

const creates = async (origin: string): Promise<CreateFact[]> =>
  (await (await fetch(`${origin}/_admin/creates`)).json()) as CreateFact[];

async function slowestLatency(origin: string, prompts: string[]): Promise<Map<string, number>> {
  const slowest = new Map<string, number>();
  for (const c of await creates(origin)) {
    if (prompts.includes(c.prompt)) slowest.set(c.prompt, Math.max(slowest.get(c.prompt) ?? 0, c.latencyMs));
  }
  return slowest;
}

let userSeq = 100000000000000000n;
const nextUser = () => String(++userSeq);

async function sequentialRuns(
  sandbox: DiscordSandbox,
  origin: string,
  count: number,
  label: string,
  runs = RUNS,
) {
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++)
    results.push(await character(sandbox, nextUser(), count, `bench ${label} run ${i}`));
  const slowest = await slowestLatency(
    origin,
    results.map((r) => r.prompt),
  );
  const overheads = results.map((r) => r.e2eMs - (slowest.get(r.prompt) ?? Number.NaN));
  const lost = results.filter((r) => !r.grid).length;
  return {
    e2e: results.map((r) => r.e2eMs),
    slowest: [...slowest.values()],
    overheads,
    lost,
    // What the breakdown needs of each run; the grid message (with its images) stays out of the JSON.
    runs: results.map(({ grid: _grid, ...run }) => run),
  };
}

/**
 * Rows per second through the generation write path: one generation and its four slots per transaction, on
 * DATA_DIR/bot.sqlite as npm start's default.
 */
async function storageBench(engine: BenchEngine) {
  const store = await openDataStore(
    databaseSettings({ dataDir: join(work, "storage"), databaseUrl: (await engine.env()).DATABASE_URL }),
  );
  const n = quick ? 500 : 2000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const id = newId();
    await store.transaction(async (tx) => {
      await tx.generations.insert({
        id,
        guildId: "1",
        channelId: "2",
        userId: "3",
        interactionId: null,
        interactionToken: null,
        applicationId: null,
        prompt: "bench",
        params: { aspectRatio: "1:1" },
        model: "google/imagen-4",
        requested: 4,
        createdAt: Date.now(),
      });
      for (let slot = 1; slot <= 4; slot++) await tx.images.insertPending(newId(), id, slot, Date.now());
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  return { rowsPerSecond: (n * 5) / seconds, generationsPerSecond: n / seconds };
}

async function fileStoreBench(image: Buffer, engine: BenchEngine) {
  const files = new FileStore(await engine.objectStore(join(work, "files")));
  const n = quick ? 10 : 40;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await files.writeImage(newId(), image);
    times.push(performance.now() - t0);
  }
  const totalSeconds = times.reduce((a, b) => a + b, 0) / 1000;
  return { mbPerSecond: (n * image.length) / 1024 / 1024 / totalSeconds, medianMsPerFile: median(times) };
}

async function main() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const started = performance.now();
  if (!BOT_TSX) build();
  const engine = await startEngine(ENGINE as "sqlite" | "postgres", ADMIN_URL);
  const fake = await startFakeReplicate();
  const sandbox = await DiscordSandbox.start({ token: TOKEN });
  await deployCommands({ token: TOKEN, apiUrl: sandbox.apiUrl, guildId: sandbox.guild.id });
  const pollMs = process.env.BENCH_POLL_MS;
  const common: Record<string, string> = pollMs ? { PREDICTION_POLL_MS: pollMs } : {};
  console.log(
    `bench: ${quick ? "quick" : "full"} run on ${engine.description}, ${RUNS} runs per figure (${OVERHEAD_RUNS} for count 4), outputs ${(fake.imageBytes / 1024 / 1024).toFixed(2)} MB PNGs, latency ${LATENCY_MS} ms ±10 %`,
  );

  // 1 and 2: parallel speed-up and the bot's own overhead, then the sequential baseline. Each bot first makes
  // one warm-up request, as a running bot has: it learns how long predictions take and paces its polling by it.
  sandbox.setMaxListeners(0);
  // 0: a fresh install's very first /character (count 4): no recorded running time to pace the polls by.
  let bot = await BotProcess.start(sandbox, fake.url, { ...common }, engine);
  const fresh = await sequentialRuns(sandbox, fake.origin, 4, "fresh-install", 1);
  await bot.stop(sandbox);
  const freshBreakdown = breakDown(fresh.runs, bot.marks(), await creates(fake.origin));

  const warmUp = () => character(sandbox, nextUser(), 1, `bench warm-up ${newId()}`);
  bot = await BotProcess.start(sandbox, fake.url, { ...common }, engine);
  const idle = { startMs: bot.startMs, rssMB: bot.probe().rssBytes / 2 ** 20 };
  await warmUp();
  const one = await sequentialRuns(sandbox, fake.origin, 1, "count1");
  // What each process burns per /character: on two cores, one's work in a request's last moments is another's
  // wait for a core.
  const meter = cpuMeter({
    "bot, main thread": () => processCpuMs(bot.pid, true),
    "bot, all threads": () => processCpuMs(bot.pid),
    "Discord stand-in + benchmark": () => processCpuMs(process.pid),
    "Replicate stand-in": () => processCpuMs(fake.process.child.pid),
    ...engine.services,
  });
  const four = await sequentialRuns(sandbox, fake.origin, 4, "count4", OVERHEAD_RUNS);
  const fourCpu = meter.stop(OVERHEAD_RUNS);
  await bot.stop(sandbox);
  const fourBreakdown = breakDown(four.runs, bot.marks(), await creates(fake.origin));
  // The first /character after a restart, on the same database: the bot has made no request of its own yet.
  bot = await BotProcess.start(sandbox, fake.url, { ...common }, engine, bot);
  const cold = await sequentialRuns(sandbox, fake.origin, 4, "after-start", 1);
  await bot.stop(sandbox);
  const coldBreakdown = breakDown(cold.runs, bot.marks(), await creates(fake.origin));
  const seasoned = bot;
  bot = await BotProcess.start(sandbox, fake.url, { ...common, MAX_CONCURRENT_PREDICTIONS: "1" }, engine);
  await warmUp();
  const sequential = await sequentialRuns(sandbox, fake.origin, 4, "sequential");
  await bot.stop(sandbox);
  const httpAcks = await httpAcknowledgements(sandbox, fake, common, engine, seasoned);

  // 3: load, on the database the first bot used: a restarted bot that has served before, as the warm-ups
  // above stand for (it paces its first polls by the running times recorded there).
  bot = await BotProcess.start(
    sandbox,
    fake.url,
    { ...common, MAX_CONCURRENT_PREDICTIONS: String(LOAD_CONCURRENCY) },
    engine,
    seasoned,
  );
  bot.resetProbe();
  const loadStart = performance.now();
  const load = await Promise.all(
    Array.from({ length: LOAD_USERS }, (_, i) =>
      character(sandbox, nextUser(), 4, `bench load ${i}`, 300_000),
    ),
  );
  const loadSeconds = (performance.now() - loadStart) / 1000;
  await new Promise((r) => setTimeout(r, 400));
  const probe = bot.probe();
  await bot.stop(sandbox);
  const loadCreates = await creates(fake.origin);
  const loadBreakdown = breakDown(load, bot.marks(), loadCreates);
  const loadLatencies = loadCreates.filter((c) => c.prompt.startsWith("bench load")).map((c) => c.latencyMs);
  const imagesDone = load.reduce((n, r) => n + (r.grid?.attachments.length ?? 0), 0);
  const throughput = imagesDone / Math.max(...load.map((r) => r.e2eMs / 1000));
  const ideal = LOAD_CONCURRENCY / (loadLatencies.reduce((a, b) => a + b, 0) / loadLatencies.length / 1000);

  // 4: storage.
  const sample = await texturedNoise();
  const storage = await storageBench(engine);
  const fileStore = await fileStoreBench(sample, engine);
  await engine.close();

  await fake.process.stop("SIGTERM");
  await sandbox.close();

  const figures: Figure[] = [
    { figure: "e2e median, count 1 (ms)", value: median(one.e2e), goal: "—" },
    { figure: "e2e median, count 4 (ms)", value: median(four.e2e), goal: "—" },
    {
      figure: "speed-up: e2e(4) ÷ e2e(1)",
      value: median(four.e2e) / median(one.e2e),
      goal: "≈ 1",
      met: median(four.e2e) / median(one.e2e) <= 1.1,
    },
    {
      figure: "e2e(4) ÷ slowest prediction",
      value: median(four.e2e) / median(four.slowest),
      goal: "≤ 1.05",
      met: median(four.e2e) / median(four.slowest) <= 1.05,
    },
    {
      figure: "sequential (limit 1): e2e(4) ÷ e2e(1)",
      value: median(sequential.e2e) / median(one.e2e),
      goal: "≈ 4 (baseline)",
    },
    {
      figure: "own overhead, count 4, median (ms)",
      value: median(four.overheads),
      goal: "≤ 100",
      met: median(four.overheads) <= 100,
    },
    {
      figure: "own overhead, count 4, p95 (ms)",
      value: quantile(four.overheads, 0.95),
      goal: "≤ 100",
      met: quantile(four.overheads, 0.95) <= 100,
    },
    { figure: `load ${LOAD_USERS}×4: defer p50 (ms)`, value: median(load.map((r) => r.deferMs)), goal: "—" },
    {
      figure: `load ${LOAD_USERS}×4: defer p99 (ms)`,
      value: quantile(
        load.map((r) => r.deferMs),
        0.99,
      ),
      goal: "≤ 100",
      met:
        quantile(
          load.map((r) => r.deferMs),
          0.99,
        ) <= 100,
    },
    {
      figure: `load: time to last grid (s)`,
      value: loadSeconds,
      goal: `ideal ${((LOAD_USERS * 4) / ideal).toFixed(1)}`,
    },
    { figure: `load: throughput (images/s)`, value: throughput, goal: `ideal ${ideal.toFixed(1)}` },
    {
      figure: "load: throughput ÷ ideal",
      value: throughput / ideal,
      goal: "≥ 0.90",
      met: throughput / ideal >= 0.9,
    },
    { figure: "load: bot event-loop delay p99 (ms)", value: probe.eventLoopDelayMs.p99, goal: "—" },
    {
      figure: "load: bot peak RSS (MB)",
      value: probe.peakRssBytes / 1024 / 1024,
      goal: "≤ 300",
      met: probe.peakRssBytes / 1024 / 1024 <= 300,
    },
    {
      figure: "load: requests lost",
      value: load.filter((r) => !r.grid).length + one.lost + four.lost,
      goal: "0",
      met: load.every((r) => r.grid),
    },
    { figure: "bot start to gateway (ms)", value: idle.startMs, goal: "—" },
    { figure: "bot idle RSS (MB)", value: idle.rssMB, goal: "—" },
    { figure: "storage: generation write path (rows/s)", value: storage.rowsPerSecond, goal: "—" },
    { figure: "storage: file store writes (MB/s)", value: fileStore.mbPerSecond, goal: "—" },
    {
      figure: "storage: file store, median per 1.3 MB image (ms)",
      value: fileStore.medianMsPerFile,
      goal: "—",
    },
  ];
  // Where the time goes: the steady state's /character, the first one after a start, and the load's defers.
  // Grid after the last prediction finished: every segment but the three before the slowest create.
  const beforeCreate = new Set(["acknowledge", "admit + record", "create"]);
  const afterLast = (b: RunBreakdown) =>
    b.overhead
      ? Object.entries(b.overhead).reduce((sum, [k, v]) => (beforeCreate.has(k) ? sum : sum + v), 0)
      : Number.NaN;
  const steadyAfterLast = fourBreakdown.map(afterLast).filter(Number.isFinite);
  const coldAfterLast = afterLast(coldBreakdown[0] ?? { prompt: "", slotPollLags: [] });
  const freshAfterLast = afterLast(freshBreakdown[0] ?? { prompt: "", slotPollLags: [] });
  const breakdownFigures: Figure[] = [
    {
      figure: "count 4: grid after the last prediction finished, median (ms)",
      value: median(steadyAfterLast),
      goal: "≤ 150",
      met: median(steadyAfterLast) <= 150,
    },
    {
      figure: "count 4: grid after the last prediction finished, p95 (ms)",
      value: quantile(steadyAfterLast, 0.95),
      goal: "—",
    },
    {
      figure: "first request after start: grid after the last prediction (ms)",
      value: coldAfterLast,
      goal: "≤ 150",
      met: coldAfterLast <= 150,
    },
    {
      figure: "acknowledgement, gateway, count 1, median (ms)",
      value: median(one.runs.map((r) => r.deferMs)),
      goal: "—",
    },
    {
      figure: "acknowledgement, HTTP interactions, count 1, median (ms)",
      value: median(httpAcks),
      goal: "—",
    },
    {
      figure: "fresh install, first request: grid after the last prediction (ms)",
      value: freshAfterLast,
      goal: "≤ 150",
      met: freshAfterLast <= 150,
    },
    {
      figure: "first request after start ÷ steady state",
      value: coldAfterLast / median(steadyAfterLast),
      goal: "≈ 1",
    },
    ...segmentFigures(
      "count 4",
      OVERHEAD_SEGMENTS.map(([name]) => name),
      fourBreakdown.map((b) => b.overhead),
    ),
    {
      figure: "count 4: grids sent while the last image was stored",
      value: fourBreakdown.filter((b) => b.beside).length,
      goal: `of ${fourBreakdown.length}`,
    },
    ...segmentFigures(
      "count 4, beside the grid",
      BESIDE_SEGMENTS.map(([name]) => name),
      fourBreakdown.map((b) => b.beside),
    ),
    ...quantileFigures(
      "count 4: poll lag, every slot",
      fourBreakdown.flatMap((b) => b.slotPollLags),
    ),
    ...Object.entries(fourCpu).map(([part, ms]) => ({
      figure: `count 4: CPU per /character, ${part} (ms)`,
      value: ms,
      goal: "—",
    })),
    ...segmentFigures(
      `load ${LOAD_USERS}×4: defer`,
      DEFER_SEGMENTS.map(([name]) => name),
      loadBreakdown.map((b) => b.defer),
      0.99,
    ),
    ...quantileFigures(
      `load ${LOAD_USERS}×4: poll lag, every slot`,
      loadBreakdown.flatMap((b) => b.slotPollLags),
    ),
  ];
  figures.push(...breakdownFigures);
  printFigures(figures);
  console.log(
    `\nsegments of count 4's own overhead: ${OVERHEAD_SEGMENTS.map(([n, d]) => `${n} (${d})`).join("; ")}.`,
  );
  console.log(
    `beside a grid sent while the last image is stored (not on its path): ${BESIDE_SEGMENTS.map(([n, d]) => `${n} (${d})`).join("; ")}.`,
  );
  console.log(`segments of a defer: ${DEFER_SEGMENTS.map(([n, d]) => `${n} (${d})`).join("; ")}.`);
  const machine = {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    commit: gitCommit(),
  };
  const result = {
    when: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    bot: BOT_TSX ? "tsx src/index.ts" : "node scripts/start.mjs (dist/index.js)",
    engine: ENGINE,
    runs: RUNS,
    overheadRuns: OVERHEAD_RUNS,
    latencyMs: LATENCY_MS,
    pollMs: pollMs ?? "default",
    machine,
    figures,
    raw: {
      one,
      four,
      sequential,
      cold,
      loadSeconds,
      probe,
      storage,
      fileStore,
      breakdown: { four: fourBreakdown, cold: coldBreakdown, load: loadBreakdown },
      cpuPerCharacter: fourCpu,
    },
  };
  mkdirSync(join(root, "bench-results"), { recursive: true });
  const out = join(root, "bench-results", `bench-${result.when.replace(/[:.]/g, "-")}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(
    `\n${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverage.join(" ")}, commit ${machine.commit}; took ${((performance.now() - started) / 1000).toFixed(0)} s; written to ${out}`,
  );
  rmSync(work, { recursive: true, force: true });
  if (compareArgs?.[0]) compareResults(JSON.parse(readFileSync(compareArgs[0], "utf8")), result);
}

function printFigures(figures: Figure[]): void {
  const width = Math.max(...figures.map((f) => f.figure.length));
  console.log(`\n${"figure".padEnd(width)}  ${"value".padStart(10)}  goal`);
  for (const f of figures) {
    const value = Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(f.value < 10 ? 2 : 1);
    const mark = f.met === undefined ? "" : f.met ? "  ✓" : "  ✗ missed";
    console.log(`${f.figure.padEnd(width)}  ${value.padStart(10)}  ${f.goal}${mark}`);
  }
}

/** Median and p95 (or `upper`) of each segment over the runs that have every mark. */
function segmentFigures(
  label: string,
  names: readonly string[],
  runs: ReadonlyArray<Record<string, number> | undefined>,
  upper = 0.95,
): Figure[] {
  const complete = runs.filter((r): r is Record<string, number> => r !== undefined);
  // A segment only some runs' paths have (see OVERHEAD_SEGMENTS) is summarised over those.
  return names.flatMap((name) => {
    const values = complete.map((r) => r[name]).filter((v): v is number => v !== undefined);
    return values.length === 0 ? [] : quantileFigures(`${label}: ${name}`, values, upper);
  });
}

function quantileFigures(label: string, values: number[], upper = 0.95): Figure[] {
  return [
    { figure: `${label}, median (ms)`, value: median(values), goal: "—" },
    { figure: `${label}, p${Math.round(upper * 100)} (ms)`, value: quantile(values, upper), goal: "—" },
  ];
}

/** The commit measured, marked when the worktree had changes. */
function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "bench"], { cwd: root })
      .toString()
      .trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return "unknown";
  }
}

if (process.argv.includes("--pool")) {
  // Results given: pool their count-4 overheads by engine, run nothing.
  const files = process.argv.slice(process.argv.indexOf("--pool") + 1).filter((a) => !a.startsWith("--"));
  poolResults(files.map((f) => JSON.parse(readFileSync(f, "utf8"))));
  process.exit(0);
}
if (compareArgs?.[0] && compareArgs[1]) {
  // Two results given: compare them, run nothing.
  const [before, after] = compareArgs.map((f) => JSON.parse(readFileSync(f, "utf8")));
  compareResults(before, after);
  process.exit(0);
}
await main();
process.exit(0);
