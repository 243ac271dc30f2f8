// Fleet mode with real processes: a gateway (ROLE=gateway) and workers (ROLE=worker) started as `npm start`
// starts them, on the real Redis (BullMQ), the run's PostgreSQL and s3rver, against the local Discord server
// and the fake Replicate. Workers are killed and stopped while predictions run; every slot must still be
// delivered, created once, and never more than MAX_CONCURRENT_PREDICTIONS run at Replicate at once.
import { afterEach, describe, expect, it } from "vitest";
import { type DataStore, openDataStore } from "../../src/db/data-store.ts";
import { databaseSettings } from "../../src/db/database.ts";
import { deployCommands } from "../../src/discord/commands/register.ts";
import { parseCustomId } from "../../src/discord/kit/custom-id.ts";
import { FileStore } from "../../src/files/file-store.ts";
import { openObjectStore } from "../../src/files/open-object-store.ts";
import {
  DiscordSandbox,
  type SandboxInteraction,
  type SandboxUser,
  type StoredMessage,
} from "../../src/sandbox/server.ts";
import { ALICE, BOT_TOKEN, buttons } from "../support/bot-harness.ts";
import { engineEnv, makeTempDir, TEST_REPLICATE_TOKEN, type TempDir, testConfig } from "../support/env.ts";
import { FakeReplicate } from "../support/fake-replicate.ts";
import { postgresProxy } from "../support/pg-proxy.ts";
import { freePort } from "../support/ports.ts";
import { removeKeys, TEST_REDIS_URL, testQueuePrefix } from "../support/redis.ts";
import { type ScriptProcess, spawnScript } from "../support/spawn.ts";

const CAP = 4;

let sandbox: DiscordSandbox | undefined;
let fake: FakeReplicate | undefined;
let dir: TempDir | undefined;
let store: DataStore | undefined;
let files: FileStore | undefined;
let prefix: string | undefined;
const processes: ScriptProcess[] = [];

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop("SIGKILL")));
  await store?.close();
  files?.close();
  await sandbox?.close();
  await fake?.close();
  if (prefix) await removeKeys(prefix);
  dir?.remove();
  sandbox = fake = dir = store = files = prefix = undefined;
});

async function setup(latencyMs: number) {
  sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
  fake = await FakeReplicate.start({ token: TEST_REPLICATE_TOKEN, latencyMs });
  dir = makeTempDir("crbot-fleet-");
  prefix = testQueuePrefix();
  const config = testConfig(dir.path);
  store = await openDataStore(databaseSettings(config));
  files = new FileStore(openObjectStore(config.storage, dir.path));
  await deployCommands({ token: BOT_TOKEN, apiUrl: sandbox.apiUrl, guildId: sandbox.guild.id });
  return { sandbox, fake, dir, store, files };
}

/** Starts one process of the fleet as `npm start` would, with `ROLE` and the shared services. */
async function start(role: "gateway" | "worker", extra: Record<string, string> = {}) {
  if (!sandbox || !fake || !dir || !prefix) throw new Error("setup() first");
  const proc = spawnScript("src/index.ts", {
    ...engineEnv(dir.path),
    ROLE: role,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_API_URL: sandbox.apiUrl,
    IMAGE_PROVIDER: "replicate",
    REPLICATE_API_TOKEN: TEST_REPLICATE_TOKEN,
    REPLICATE_API_URL: fake.url,
    DATA_DIR: dir.path,
    MAX_CONCURRENT_PREDICTIONS: String(CAP),
    MAX_RUNNING_PER_USER: "2",
    PREDICTION_POLL_MS: "50",
    QUEUE_EDIT_INTERVAL_MS: "100",
    // A killed worker's jobs go back to the queue once its lock lapses: 3 s here, 30 s by default.
    JOB_LOCK_SECONDS: "3",
    LOG_LEVEL: "debug",
    ...extra,
  });
  processes.push(proc);
  await proc.printed(role === "gateway" ? "logged in to Discord" : "worker taking jobs", 30_000);
  return proc;
}

const users: SandboxUser[] = Array.from({ length: 20 }, (_, i) => ({
  id: `5100000000000000${String(i).padStart(2, "0")}`,
  username: `member${i}`,
}));

function finalGrid(s: DiscordSandbox, i: SandboxInteraction, timeoutMs: number): Promise<StoredMessage> {
  return s.waitFor(
    () => {
      const m = s.original(i);
      return m && buttons(m).some((b) => b.label === "Regenerate") ? m : undefined;
    },
    timeoutMs,
    "a final grid",
  );
}

function generationIdOf(grid: StoredMessage): string {
  const id = parseCustomId(buttons(grid)[0]?.custom_id ?? "");
  if (id.handler !== "gen") throw new Error("not a grid");
  return id.generationId;
}

const output = () => processes.map((p, i) => `--- process ${i}\n${p.output()}`).join("\n");

describe("fleet: a gateway and two workers on Redis, PostgreSQL and S3", () => {
  it("serves 20 members' /character to completion through a SIGKILLed worker, creating each slot once", async () => {
    const { sandbox: s, fake: f, store: db, files: objects } = await setup(1200);
    await start("gateway");
    const doomed = await start("worker");
    const survivor = await start("worker");

    const interactions = users.map((user) =>
      s.runCommand({ command: "character", options: { description: `fleet member ${user.username}` }, user }),
    );
    // Members who wait are told their place in the fleet's queue.
    const queuedPlace = s.waitFor(
      () => interactions.some((i) => /Queued: \d+ ahead of you/.test(s.original(i)?.content ?? "")),
      30_000,
      "a queue place",
    );
    // Killed while it holds running predictions.
    await s.waitFor(() => (doomed.output().match(/prediction started/g)?.length ?? 0) >= 2, 30_000);
    await doomed.stop("SIGKILL");
    const killedAt = Date.now();
    await queuedPlace;

    // Bound: 80 predictions of 1.2 s at 4 at a time take 24 s; the killed worker's jobs come back within
    // about two lock periods (3 s). 90 s leaves a busy machine room.
    const grids = await Promise.all(interactions.map((i) => finalGrid(s, i, 90_000))).catch((err) => {
      throw new Error(`${(err as Error).message}\n${output()}`);
    });
    const recoveredInMs = Date.now() - killedAt;

    for (const grid of grids) {
      expect(grid.attachments).toHaveLength(4);
      expect(buttons(grid).filter((b) => /^[1-4]$/.test(b.label ?? ""))).toHaveLength(4);
    }
    const rows = (
      await Promise.all(grids.map((g) => db.repos.images.forGeneration(generationIdOf(g))))
    ).flat();
    expect(rows).toHaveLength(80);
    expect(rows.every((r) => r.status === "succeeded")).toBe(true);
    // Every slot was created once: as many creates as slots, each slot holding its own prediction.
    expect(f.creates).toHaveLength(80);
    expect(new Set(rows.map((r) => r.predictionId)).size).toBe(80);
    expect(new Set(f.creates.map((c) => c.id))).toEqual(new Set(rows.map((r) => r.predictionId)));
    // No row without its object.
    const sizes = await Promise.all(rows.map((r) => objects.size(r.fileName as string)));
    expect(sizes).toEqual(rows.map((r) => r.bytes));
    // Never more at Replicate than the fleet-wide cap, with two workers each allowed the whole cap.
    expect(f.peakInFlight()).toBeLessThanOrEqual(CAP);
    expect(survivor.output()).toContain("a job's worker stopped renewing it");
    console.log(
      `fleet kill test: 20 members × 4 images, ${f.creates.length} creates for ${rows.length} slots, ` +
        `peak ${f.peakInFlight()} in flight (cap ${CAP}), all delivered ${recoveredInMs} ms after the SIGKILL`,
    );
  }, 150_000);

  it("SIGTERM hands a worker's jobs back at once, and a restarted gateway serves an old grid's buttons", async () => {
    const { sandbox: s, fake: f } = await setup(300);
    let gateway = await start("gateway");
    const leaving = await start("worker");

    const first = s.runCommand({ command: "character", options: { description: "old grid" }, user: ALICE });
    const grid = await finalGrid(s, first, 30_000);

    // Held in flight, all four on the one worker there is; then it is asked to stop.
    f.holdResults();
    const second = s.runCommand({
      command: "character",
      options: { description: "handed back" },
      user: ALICE,
    });
    await s.waitFor(() => f.creates.length >= 8, 20_000, "four running predictions");
    const staying = await start("worker");
    const stopped = leaving.stop("SIGTERM");
    expect(await stopped).toBe(0);
    expect(leaving.output()).toContain("job handed back");
    f.releaseResults();
    // Handed back, not left to lapse: the other worker has them well before a lock period would matter.
    const handed = await finalGrid(s, second, 20_000);
    expect(handed.attachments).toHaveLength(4);
    expect(f.creates).toHaveLength(8);
    expect(staying.output()).not.toContain("a job's worker stopped renewing it");

    // A new gateway process: the old grid's pick button still works (its state is in the database).
    await gateway.stop("SIGKILL");
    gateway = await start("gateway");
    await s.waitFor(() => s.connected, 20_000, "the new gateway");
    const pick = s.pressButton({
      message: grid,
      customId: buttons(grid)[1]?.custom_id as string,
      user: ALICE,
    });
    const confirmation = await s.waitFor(
      () => s.followUps(pick).find((m) => m.content.includes("Picked image 2")),
      20_000,
      "the pick's confirmation",
    );
    expect(confirmation.visible_to).toBe(ALICE.id);

    // /video of that pick: recorded by the gateway, made and posted by the worker.
    const video = s.runCommand({ command: "video", options: { prompt: "turns around" }, user: ALICE });
    const posted = await s.waitFor(
      () => s.original(video)?.attachments.find((a) => a.content_type === "video/mp4"),
      30_000,
      "the video",
    );
    expect(posted.filename).toMatch(/^video-[0-9a-f-]{36}\.mp4$/);
    expect(staying.output()).toContain('"video stored"');
  }, 120_000);
});

describe("ROLE=all with REDIS_URL", () => {
  it("runs its own requests through the shared queue, so a worker on another host can take them", async () => {
    const { sandbox: s, fake: f } = await setup(300);
    // Started first and alone: the whole bot, on the shared queue.
    const whole = spawnScript("src/index.ts", {
      ...engineEnv(dir?.path ?? ""),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix ?? "",
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_API_URL: s.apiUrl,
      IMAGE_PROVIDER: "replicate",
      REPLICATE_API_TOKEN: TEST_REPLICATE_TOKEN,
      REPLICATE_API_URL: f.url,
      DATA_DIR: dir?.path ?? "",
      PREDICTION_POLL_MS: "50",
      LOG_LEVEL: "debug",
    });
    processes.push(whole);
    await whole.printed("logged in to Discord", 30_000);
    const first = await finalGrid(
      s,
      s.runCommand({ command: "character", options: { description: "whole bot", count: 2 }, user: ALICE }),
      30_000,
    );
    expect(first.attachments).toHaveLength(2);
    expect(whole.output()).toMatch(/"jobId":"image-/);
    // A worker joins from elsewhere; the whole bot then stops mid-request and the worker finishes its work.
    const added = await start("worker");
    f.holdResults();
    const second = s.runCommand({
      command: "character",
      options: { description: "shared", count: 4 },
      user: users[0] as SandboxUser,
    });
    await s.waitFor(() => f.creates.length >= 6, 20_000, "the second request's creates");
    expect(await whole.stop("SIGTERM")).toBe(0);
    f.releaseResults();
    expect((await finalGrid(s, second, 30_000)).attachments).toHaveLength(4);
    expect(f.creates).toHaveLength(6);
    expect(added.output()).toMatch(/"image stored"/);
  }, 90_000);
});

describe("the database away while workers run", () => {
  it("puts the jobs off without spending their attempts, and delivers every slot once it is back", async () => {
    const { sandbox: s, fake: f, dir: d } = await setup(800);
    const direct = new URL(engineEnv(d.path).DATABASE_URL as string);
    const proxy = await postgresProxy(direct);
    try {
      const viaProxy = Object.assign(new URL(direct), { hostname: "127.0.0.1", port: String(proxy.port) });
      const env = { DATABASE_URL: viaProxy.toString(), JOB_LOCK_SECONDS: "10" };
      await start("gateway", env);
      const worker = await start("worker", env);
      const asked = s.runCommand({ command: "character", options: { description: "outage" }, user: ALICE });
      // Every prediction's id recorded (the line comes after the row has it); then the database goes away.
      await s.waitFor(
        () => (worker.output().match(/"prediction started"/g)?.length ?? 0) >= 4,
        30_000,
        "four recorded predictions",
      );
      await proxy.stop();
      // Each job finds the database away when its prediction ends, and waits.
      await s.waitFor(
        () => (worker.output().match(/storage away: the job waits and runs again/g)?.length ?? 0) >= 4,
        30_000,
        "the jobs put off",
      );
      await new Promise((r) => setTimeout(r, 4000));
      await proxy.resume();
      const grid = await finalGrid(s, asked, 60_000);
      expect(
        grid.attachments,
        `${grid.content}\n${worker
          .output()
          .split("\n")
          .filter((l) => /warn|error|fail/i.test(l))
          .join("\n")}`,
      ).toHaveLength(4);
      expect(f.creates).toHaveLength(4);
      expect(worker.output()).not.toContain("job attempt failed");
    } finally {
      await proxy.stop();
    }
  }, 120_000);
});

describe("Replicate's webhooks in fleet mode", () => {
  it("a delivery heard by the gateway wakes the worker that waits on the prediction", async () => {
    const { sandbox: s, fake: f } = await setup(500);
    const port = await freePort();
    const hooks = {
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      REPLICATE_WEBHOOK_SECRET: f.webhookSecret,
      // The safety-net poll is then 30 s: a grid within the 15-s wait below was woken by the relay.
      PREDICTION_POLL_MS: "3000",
    };
    await start("gateway", { ...hooks, HTTP_PORT: String(port) });
    const worker = await start("worker", hooks);
    const grid = await finalGrid(
      s,
      s.runCommand({ command: "character", options: { description: "hooked", count: 2 }, user: ALICE }),
      15_000,
    );
    expect(grid.attachments).toHaveLength(2);
    // Posted to the gateway's server, accepted there; the worker never served one.
    expect(f.webhooks.filter((w) => w.status === 200)).toHaveLength(2);
    expect(f.webhooks.every((w) => w.url === `${hooks.PUBLIC_URL}/webhooks/replicate`)).toBe(true);
    expect(worker.output()).toContain('"image stored"');
  }, 60_000);
});

describe("Replicate's create rate, fleet-wide", () => {
  it("two workers together start no more predictions in a minute than REPLICATE_CREATES_PER_MINUTE", async () => {
    const { sandbox: s, fake: f } = await setup(200);
    const limits = { REPLICATE_CREATES_PER_MINUTE: "3", MAX_CONCURRENT_PREDICTIONS: "8" };
    await start("gateway", limits);
    await start("worker", limits);
    await start("worker", limits);
    for (const user of users.slice(0, 2)) {
      s.runCommand({ command: "character", options: { description: "rate limited", count: 4 }, user });
    }
    // Eight slots at once, room for eight in flight: the rate alone holds them back.
    await s.waitFor(() => f.creates.length >= 3, 30_000, "the first creates");
    await new Promise((r) => setTimeout(r, 5000));
    expect(f.creates).toHaveLength(3);
  }, 60_000);
});

describe("npm run fleet", () => {
  it("starts a gateway and two workers, each line prefixed by its role, and stops them all on SIGTERM", async () => {
    const { sandbox: s } = await setup(200);
    if (!dir || !prefix) throw new Error("setup() first");
    const fleet = spawnScript(
      "src/fleet.ts",
      {
        ...engineEnv(dir.path),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        DISCORD_TOKEN: BOT_TOKEN,
        DISCORD_API_URL: s.apiUrl,
        IMAGE_PROVIDER: "mock",
        MOCK_LATENCY_MS: "200",
        DATA_DIR: dir.path,
        LOG_LEVEL: "info",
      },
      { args: ["--workers", "2"] },
    );
    processes.push(fleet);
    await fleet.printed("[gateway]", 30_000);
    await s.waitFor(
      () => (fleet.output().match(/^\[worker-\d\] .*worker taking jobs/gm)?.length ?? 0) === 2,
      30_000,
      "two workers",
    );
    await fleet.printed("logged in to Discord", 30_000);
    const grid = await finalGrid(
      s,
      s.runCommand({ command: "character", options: { description: "fleet script", count: 2 }, user: ALICE }),
      30_000,
    );
    expect(grid.attachments).toHaveLength(2);
    // Every line names its process: the prefix, and in the JSON the role and pid; a job's lines its job id.
    const lines = fleet.output().split("\n").filter(Boolean);
    for (const line of lines.filter((l) => !l.startsWith("[fleet]"))) {
      expect(line).toMatch(/^\[(gateway|worker-[12])\] /);
    }
    const stored = lines.find((l) => l.includes('"image stored"'));
    expect(stored).toMatch(/^\[worker-[12]\] /);
    expect(stored).toMatch(/"role":"worker"/);
    expect(stored).toMatch(/"pid":\d+/);
    expect(stored).toMatch(/"jobId":"image-[0-9a-f-]{36}"/);
    expect(await fleet.stop("SIGTERM")).toBe(0);
    expect(fleet.output()).toMatch(/\[fleet\] worker-2 exited \(code 0\)/);
  }, 90_000);
});
