// Fleet mode with real processes: a gateway (ROLE=gateway) and workers (ROLE=worker) started as `npm start`
// starts them, on the real Redis (BullMQ), the run's PostgreSQL and s3rver, against the local Discord server
// and the fake Replicate. Workers are killed and stopped while predictions run; every slot must still be
// delivered, created once, and never more than MAX_CONCURRENT_PREDICTIONS run at Replicate at once.
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import type { SandboxUser } from "../../src/sandbox/server.ts";
import { ALICE, BOT_TOKEN } from "../support/bot-harness.ts";
import { engineEnv, TEST_REPLICATE_TOKEN } from "../support/env.ts";
import { postgresProxy } from "../support/pg-proxy.ts";
import { freePort } from "../support/ports.ts";
import { TEST_REDIS_URL } from "../support/redis.ts";
import { spawnScript } from "../support/spawn.ts";
import { cleanUpAfterEach, finalGrid, setup, start, track, users } from "./fleet-rig.ts";

cleanUpAfterEach();

describe("ROLE=all with REDIS_URL", () => {
  it("runs its own requests through the shared queue, so a worker on another host can take them", async () => {
    const { sandbox: s, fake: f, dir, prefix } = await setup(300);
    // Started first and alone: the whole bot, on the shared queue.
    const whole = spawnScript("src/index.ts", {
      ...engineEnv(dir.path),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_API_URL: s.apiUrl,
      IMAGE_PROVIDER: "replicate",
      REPLICATE_API_TOKEN: TEST_REPLICATE_TOKEN,
      REPLICATE_API_URL: f.url,
      DATA_DIR: dir.path,
      PREDICTION_POLL_MS: "50",
      LOG_LEVEL: "debug",
    });
    track(whole);
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
    // Eight slots at once, room for eight in flight: the rate alone holds them back. Three a minute over any
    // rolling minute is one a 60 s window (two windows' shares can fall in one rolling minute).
    await s.waitFor(() => f.creates.length >= 1, 30_000, "the first create");
    await new Promise((r) => setTimeout(r, 5000));
    expect(f.creates).toHaveLength(1);
  }, 60_000);
});

/** The first of `count` ports in a row that nothing on 127.0.0.1 listens on now. */
async function freePorts(count: number): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base + count > 65_535) continue;
    const probes = await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const probe = createServer();
        return new Promise<Server | undefined>((resolve) => {
          probe.once("error", () => resolve(undefined));
          probe.listen(base + i, "127.0.0.1", () => resolve(probe));
        });
      }),
    );
    await Promise.all(probes.map((p) => p && new Promise((r) => p.close(r))));
    if (probes.every(Boolean)) return base;
  }
}

describe("npm run fleet", () => {
  it("starts a gateway and two workers, each line prefixed by its role, and stops them all on SIGTERM", async () => {
    const { sandbox: s, dir, prefix } = await setup(200);
    // Every process on this host its own two ports: HTTP_PORT + i and OPS_PORT + i, none taken twice.
    const [httpPort, opsPort] = [await freePorts(3), await freePorts(3)];
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
        HTTP_PORT: String(httpPort),
        OPS_PORT: String(opsPort),
      },
      { args: ["--workers", "2"] },
    );
    track(fleet);
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
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`http://127.0.0.1:${httpPort + i}/healthz`)).status).toBe(200);
      // /metrics: the operations listener's own route (its readiness depends on s3rver, not on the port).
      expect((await fetch(`http://127.0.0.1:${opsPort + i}/metrics`)).status).toBe(200);
    }
    expect(fleet.output()).not.toContain("EADDRINUSE");
    expect(fleet.output()).not.toContain("could not start the");
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
