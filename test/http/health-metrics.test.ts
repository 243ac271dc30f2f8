// The operations server's health, readiness and metrics, over real HTTP against a real application: readiness
// flips to 503 naming what failed when the object store (s3rver) or PostgreSQL (behind a TCP proxy the test
// cuts) stops answering, and /metrics is Prometheus text whose counters move after a /character run by the
// real bot through the local Discord server; npm start serves them on OPS_PORT with its gateway check and closes
// on SIGTERM.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import { configSecrets } from "../../src/config/secrets.ts";
import type { AppContext } from "../../src/features/context.ts";
import { type RunningHttpServer, startHttpServer } from "../../src/http/server.ts";
import { DiscordSandbox } from "../../src/sandbox/server.ts";
import { ALICE, BOT_TOKEN, e2eSuite, eventually } from "../support/bot-harness.ts";
import { probePostgres, TEST_ADMIN_URL } from "../support/engines.ts";
import { captureLogger, makeTempDir, type TempDir, testConfig } from "../support/env.ts";
import { postgresProxy } from "../support/pg-proxy.ts";
import { freePort } from "../support/ports.ts";
import { type LocalS3, startS3 } from "../support/s3.ts";
import { spawnScript } from "../support/spawn.ts";

interface ReadyBody {
  status: string;
  checks: Record<string, { ok: boolean; error?: string }>;
  failed?: string[];
}

let app: AppContext | undefined;
let http: RunningHttpServer | undefined;
let s3: LocalS3 | undefined;
let dir: TempDir | undefined;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await http?.close();
  await app?.close();
  await s3?.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  dir?.remove();
  app = http = s3 = dir = undefined;
});

async function serve(env: Record<string, string>, gatewayReady?: () => boolean): Promise<string> {
  dir = makeTempDir("crbot-http-");
  app = await createAppContext(testConfig(dir.path, env), captureLogger().logger);
  http = await startHttpServer(
    { ctx: app, ...(gatewayReady ? { gatewayReady } : {}) },
    { port: 0, host: "127.0.0.1" },
  );
  return http.url;
}

async function readiness(url: string): Promise<{ status: number; body: ReadyBody; text: string }> {
  const response = await fetch(`${url}/readyz`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as ReadyBody, text };
}

describe("GET /healthz and GET /readyz", () => {
  it("answer 200 while the database and the object store work", async () => {
    s3 = await startS3();
    const url = await serve(s3.env());
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await readiness(url);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("ready");
    expect(ready.body.checks.database?.ok).toBe(true);
    expect(ready.body.checks.storage?.ok).toBe(true);
    expect(ready.body.checks.gateway).toBeUndefined();
  });

  it("readiness is 503 naming storage when the object store stops, while /healthz stays 200", async () => {
    s3 = await startS3();
    const url = await serve(s3.env());
    expect((await readiness(url)).status).toBe(200);

    await s3.close();
    const ready = await readiness(url);
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe("not ready");
    expect(ready.body.failed).toEqual(["storage"]);
    expect(ready.body.checks.storage?.ok).toBe(false);
    expect(ready.body.checks.storage?.error).toEqual(expect.any(String));
    expect(ready.body.checks.database?.ok).toBe(true);
    for (const secret of configSecrets(app?.config ?? ({} as never)))
      expect(ready.text).not.toContain(secret);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it("readiness is 503 naming gateway when the Discord connection is down", async () => {
    let connected = true;
    const url = await serve({}, () => connected);
    expect((await readiness(url)).body.checks.gateway?.ok).toBe(true);
    connected = false;
    const ready = await readiness(url);
    expect(ready.status).toBe(503);
    expect(ready.body.failed).toEqual(["gateway"]);
  });
});

const postgres = await probePostgres().then(
  () => true,
  () => false,
);

describe.skipIf(!postgres)("readiness with PostgreSQL", () => {
  it("is 503 naming database when PostgreSQL stops answering", async () => {
    const admin = new URL(TEST_ADMIN_URL);
    const schema = `t_ready_${randomBytes(4).toString("hex")}`;
    const run = async (statement: string) => {
      const client = new pg.Client({ connectionString: TEST_ADMIN_URL });
      await client.connect();
      try {
        await client.query(statement);
      } finally {
        await client.end();
      }
    };
    await run(`CREATE SCHEMA ${schema}`);
    cleanups.push(() => run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    const proxy = await postgresProxy(admin);
    cleanups.push(() => proxy.stop());
    const viaProxy = Object.assign(new URL(TEST_ADMIN_URL), {
      hostname: "127.0.0.1",
      port: String(proxy.port),
    });
    viaProxy.searchParams.set("options", `-c search_path=${schema}`);
    const url = await serve({ DATABASE_URL: viaProxy.toString() });
    const before = await readiness(url);
    expect(before.status).toBe(200);
    expect(before.body.checks.database?.ok).toBe(true);

    await proxy.stop();
    const ready = await readiness(url);
    expect(ready.status).toBe(503);
    expect(ready.body.failed).toEqual(["database"]);
    expect(ready.body.checks.database?.error).toEqual(expect.any(String));
    expect(ready.body.checks.storage?.ok).toBe(true);
    for (const secret of configSecrets(app?.config ?? ({} as never)))
      expect(ready.text).not.toContain(secret);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
if (!postgres)
  console.log(`PostgreSQL is unreachable at ${TEST_ADMIN_URL}: the database readiness test is skipped.`);

/** One exposition line that is not a comment: `name{labels} value` (an optional timestamp after). */
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|\+Inf|-Inf)( -?[0-9]+)?$/;

/** The value of the series `name{labels}` (labels in the order prom-client writes them), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** The sum of every series of a metric whose labels include all of `labels`. */
function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    const match = /^([^{ ]+)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) => (match[2] ?? "").includes(`${k}="${v}"`));
    if (has) total += Number(match[3]);
  }
  return total;
}

const suite = e2eSuite("metrics");

describe("GET /metrics", () => {
  it("is Prometheus text whose counters move after a /character", async () => {
    const h = await suite.start();
    const server = await startHttpServer({ ctx: h.ctx }, { port: 0, host: "127.0.0.1" });
    try {
      const first = await fetch(`${server.url}/metrics`);
      expect(first.status).toBe(200);
      expect(first.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const before = await first.text();
      for (const line of before.split("\n")) {
        if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
        expect(line).toMatch(SAMPLE);
      }
      // prom-client's process metrics are there too.
      expect(before).toContain("# TYPE process_cpu_user_seconds_total counter");
      const interactions = { type: "command", command: "character", outcome: "ok" };
      expect(sum(before, "crbot_interactions_total", interactions)).toBe(0);

      await h.character({ description: "a copper lighthouse keeper", count: 2 });
      // The interaction is counted when its handler returns, just after the grid's last edit; each prediction
      // as it ends, under the model its start recorded.
      const after = await eventually(
        async () => {
          const text = await (await fetch(`${server.url}/metrics`)).text();
          const done =
            sum(text, "crbot_interactions_total", interactions) > 0 &&
            sum(text, "crbot_prediction_duration_seconds_count", { kind: "image" }) >= 2;
          return done && text;
        },
        10_000,
        "the /character to be counted",
      );
      for (const line of after.split("\n")) {
        if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
        expect(line).toMatch(SAMPLE);
      }
      expect(sum(after, "crbot_interactions_total", interactions)).toBe(1);
      expect(sum(after, "crbot_predictions_total", { kind: "image", status: "succeeded" })).toBe(
        sum(before, "crbot_predictions_total", { kind: "image", status: "succeeded" }) + 2,
      );
      expect(sum(after, "crbot_prediction_duration_seconds_count", { kind: "image" })).toBe(2);
      expect(
        sum(after, "crbot_prediction_duration_seconds_count", {
          kind: "image",
          model: "mock/character-sketch",
        }),
      ).toBe(2);
      expect(sum(after, "crbot_prediction_queue_wait_seconds_count")).toBeGreaterThanOrEqual(2);
      // The /character was deferred: one acknowledgement observed.
      expect(sample(after, 'crbot_interaction_ack_seconds_count{kind="defer"}')).toBe(1);
      // The deferral went over the interaction's token, the grid's edits too; deployCommands is not the bot's.
      expect(sum(after, "crbot_discord_rest_requests_total", { route_kind: "interaction" })).toBeGreaterThan(
        sum(before, "crbot_discord_rest_requests_total", { route_kind: "interaction" }),
      );
      expect(sum(after, "crbot_storage_errors_total")).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("counts a refusal at admission by reason and scope", async () => {
    const h = await suite.start({ DAILY_IMAGES_PER_USER: "1" });
    const server = await startHttpServer({ ctx: h.ctx }, { port: 0, host: "127.0.0.1" });
    try {
      await h.refusal(
        h.sandbox.runCommand({
          command: "character",
          options: { description: "a tin owl", count: 2 },
          user: ALICE,
        }),
      );
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(sample(text, 'crbot_quota_refusals_total{kind="image",reason="quota",scope="user"}')).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe("npm start with OPS_PORT", () => {
  it("serves /readyz with the gateway check once logged in, 503 when the gateway drops, and closes on SIGTERM", async () => {
    const sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
    dir = makeTempDir("crbot-http-start-");
    const port = await freePort();
    const publicPort = await freePort();
    const bot = spawnScript("src/index.ts", {
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_API_URL: sandbox.apiUrl,
      IMAGE_PROVIDER: "mock",
      DATA_DIR: dir.path,
      LOG_LEVEL: "info",
      HTTP_PORT: String(publicPort),
      OPS_PORT: String(port),
    });
    try {
      await bot.printed("logged in to Discord");
      const url = `http://127.0.0.1:${port}`;
      // The listeners start before the login; readiness follows once the role has started.
      const ready = await eventually(async () => {
        const r = await readiness(url);
        return r.status === 200 && r;
      });
      expect(ready.status).toBe(200);
      expect(ready.body.checks.gateway?.ok).toBe(true);
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${publicPort}/metrics`)).status).toBe(404);

      await sandbox.close();
      const down = await eventually(async () => {
        const r = await readiness(url);
        return r.status === 503 && r;
      });
      expect(down.body.failed).toEqual(["gateway"]);

      expect(await bot.stop("SIGTERM")).toBe(0);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      await bot.stop();
      await sandbox.close();
    }
  });
});
