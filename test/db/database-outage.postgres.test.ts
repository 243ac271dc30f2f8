// PostgreSQL dropping the bot's connections while a generation runs (a failover, a restart, an admin's
// pg_terminate_backend): the pool connects again and the generation finishes, every slot stored.
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import type { AppContext } from "../../src/features/context.ts";
import type { GenerationView } from "../../src/features/generation/generation-view.ts";
import {
  captureLogger,
  generate,
  makeTempDir,
  sharedEngines,
  type TempDir,
  testConfig,
} from "../support/env.ts";
import { postgresProxy } from "../support/pg-proxy.ts";
import { replicateFixture } from "../support/replicate-fixture.ts";

const replicate = replicateFixture();
let dir: TempDir | undefined;
let app: AppContext | undefined;
afterEach(async () => {
  await app?.close();
  dir?.remove();
  app = dir = undefined;
});

/** This test's bot names its connections apart: other test files share the database and must keep theirs. */
const APPLICATION = `crbot-outage-${process.pid}`;

/** Ends every connection the bot holds to its database, as a server restart would; how many it ended. */
async function dropBotConnections(): Promise<number> {
  const shared = sharedEngines();
  if (!shared) throw new Error("runs in the engines tier only");
  const admin = new pg.Client({ connectionString: shared.databaseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1`,
      [APPLICATION],
    );
    return rows.filter((r) => r.ended).length;
  } finally {
    await admin.end();
  }
}

describe("the database dropping the bot's connections", () => {
  it("is weathered: the pool connects again and a running generation finishes", async () => {
    const fake = await replicate.start({ latencyMs: 400 });
    dir = makeTempDir();
    const { logger } = captureLogger();
    const config = testConfig(dir.path, replicate.env);
    const url = `${config.databaseUrl}&application_name=${APPLICATION}`;
    app = await createAppContext({ ...config, databaseUrl: url }, logger);
    const running = generate(app, {
      guildId: "100000000000000001",
      channelId: null,
      userId: "200000000000000001",
      prompt: "a lighthouse in a storm",
      count: 4,
      aspectRatio: "1:1",
    });
    // Every slot has its prediction: the rows are written, the connections sit idle while the bot polls.
    while (fake.creates.length < 4) await new Promise((r) => setTimeout(r, 10));
    expect(await dropBotConnections()).toBeGreaterThan(0);

    const view = await running;
    expect(view.generation.status).toBe("succeeded");
    expect(view.images.map((i) => i.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(fake.creates).toHaveLength(4);
    // The store answers afterwards too, on new connections.
    expect(await app.repos.generations.runningCount("200000000000000001")).toBe(0);
  });

  it("says per image that the storage is away, keeps trying, and stores every image once it is back", async () => {
    const fake = await replicate.start({ latencyMs: 600 });
    dir = makeTempDir();
    const { logger, lines } = captureLogger();
    const config = testConfig(dir.path, replicate.env);
    const direct = new URL(config.databaseUrl as string);
    const proxy = await postgresProxy(direct);
    const viaProxy = Object.assign(new URL(direct), { hostname: "127.0.0.1", port: String(proxy.port) });
    app = await createAppContext({ ...config, databaseUrl: viaProxy.toString() }, logger);
    const views: GenerationView[] = [];
    const running = generate(
      app,
      {
        guildId: "100000000000000001",
        channelId: null,
        userId: "200000000000000002",
        prompt: "a lighthouse in fog",
        count: 4,
        aspectRatio: "1:1",
      },
      (view) => views.push(view),
    );
    // Every slot has its prediction recorded; then the database goes away before any result is.
    while (fake.creates.length < 4) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    await proxy.stop();
    try {
      // Each image is reported as waiting on the storage (the member's tiles), none as failed.
      while (!views.some((v) => (v.waitingOnStorage ?? []).length === 4)) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(views.flatMap((v) => v.images).some((i) => i.status === "failed")).toBe(false);
    } finally {
      await proxy.resume();
    }
    const view = await running;
    expect(view.images.map((i) => i.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(view.generation.status).toBe("succeeded");
    // Tried again by polling the recorded predictions: never created twice.
    expect(fake.creates).toHaveLength(4);
    expect(lines.some((l) => l.includes("the database is away; trying again"))).toBe(true);
    for (const image of view.images) expect(await app.files.size(image.fileName as string)).toBe(image.bytes);
    await proxy.stop();
  });
});
