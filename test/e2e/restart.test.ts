// The bot as its own process (the npm start entry point), killed with SIGKILL mid-work and started again.
import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { deployCommands } from "../../src/commands/register.ts";
import { DiscordSandbox, type SandboxInteraction } from "../../src/sandbox/server.ts";
import { ALICE, BOT_TOKEN, buttons } from "../support/bot-harness.ts";
import { makeTempDir, TEST_REPLICATE_TOKEN, type TempDir } from "../support/env.ts";
import { type Behaviour, FakeReplicate } from "../support/fake-replicate.ts";
import { type ScriptProcess, spawnScript } from "../support/spawn.ts";

let sandbox: DiscordSandbox | undefined;
let fake: FakeReplicate | undefined;
let dir: TempDir | undefined;
let bot: ScriptProcess | undefined;
/** Everything the bot processes of this test printed. */
let printed = "";

afterEach(async () => {
  await bot?.stop();
  await sandbox?.close();
  await fake?.close();
  dir?.remove();
  sandbox = fake = dir = bot = undefined;
  printed = "";
});

async function setup(
  behaviour = (input: Record<string, unknown>, _index: number): Behaviour => ({
    latencyMs: String(input.prompt).includes("slow") ? 2500 : 50,
  }),
) {
  sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
  fake = await FakeReplicate.start({ token: TEST_REPLICATE_TOKEN, behaviour });
  dir = makeTempDir("crbot-restart-");
  await deployCommands({ token: BOT_TOKEN, apiUrl: sandbox.apiUrl, guildId: sandbox.guild.id });
  return { sandbox, fake, dir };
}

/** Starts `src/index.ts` as `npm start` would, and waits until it is on the gateway. */
async function startBot(
  s: DiscordSandbox,
  f: FakeReplicate,
  d: TempDir,
  env: Record<string, string> = {},
): Promise<ScriptProcess> {
  const proc = spawnScript("src/index.ts", {
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_API_URL: s.apiUrl,
    IMAGE_PROVIDER: "replicate",
    REPLICATE_API_TOKEN: TEST_REPLICATE_TOKEN,
    REPLICATE_API_URL: f.url,
    DATA_DIR: d.path,
    PREDICTION_POLL_MS: "50",
    LOG_LEVEL: "info",
    ...env,
  });
  bot = proc;
  await proc.printed("logged in to Discord");
  await s.waitFor(() => s.connected, 20_000, `the bot to connect:\n${proc.output()}`);
  return proc;
}

/** SIGKILL, as a crash would; what it printed is kept for the test's checks. */
async function kill(child: ScriptProcess): Promise<void> {
  await child.stop("SIGKILL");
  printed += child.output();
}

function query<T>(d: TempDir, sql: string, ...params: unknown[]): T[] {
  const db = new Database(`${d.path}/bot.sqlite`);
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

const finalGrid = (s: DiscordSandbox, i: SandboxInteraction) =>
  s.waitFor(
    () => {
      const m = s.original(i);
      return m && buttons(m).some((b) => b.label === "Regenerate") ? m : undefined;
    },
    20_000,
    "the final grid",
  );

describe("jobs survive a SIGKILL without paying twice", () => {
  it("resumes 4 image predictions and 1 video prediction by polling their stored ids", async () => {
    const { sandbox: s, fake: f, dir: d } = await setup();
    const both = { MAX_RUNNING_PER_USER: "2" }; // one member runs the grid and the video at once
    let child = await startBot(s, f, d, both);

    // A reference to animate: a quick grid and a pick.
    const first = s.runCommand({
      command: "character",
      options: { description: "quick fox", count: 1 },
      user: ALICE,
    });
    const grid = await finalGrid(s, first);
    s.pressButton({ message: grid, customId: buttons(grid)[0]?.custom_id as string, user: ALICE });
    await s.waitFor(() => query(d, "SELECT 1 FROM selections").length === 1, 10_000, "the pick");

    const images = s.runCommand({
      command: "character",
      options: { description: "slow knight", count: 4 },
      user: ALICE,
    });
    const video = s.runCommand({
      command: "video",
      options: { prompt: "slow walk in the rain" },
      user: ALICE,
    });
    await s.waitFor(
      () =>
        query<{ n: number }>(d, "SELECT count(*) AS n FROM images WHERE prediction_id IS NOT NULL")[0]?.n ===
          5 &&
        query<{ n: number }>(d, "SELECT count(*) AS n FROM videos WHERE prediction_id IS NOT NULL")[0]?.n ===
          1,
      10_000,
      "4 image and 1 video prediction ids in SQLite",
    );
    await kill(child);
    const createsAtKill = f.creates.length;
    expect(createsAtKill).toBe(6); // 1 quick image + 4 slow images + 1 video
    expect(query<{ status: string }>(d, "SELECT status FROM videos")[0]?.status).toBe("running");

    child = await startBot(s, f, d, both);
    const resumedGrid = await finalGrid(s, images);
    expect(resumedGrid.attachments.map((a) => a.filename)).toEqual(
      [1, 2, 3, 4].map((n) => `character-${n}.png`),
    );
    const resumedVideo = await s.waitFor(
      () => {
        const m = s.original(video);
        return m && m.attachments.length === 1 ? m : undefined;
      },
      20_000,
      "the video",
    );
    expect(resumedVideo.attachments[0]?.filename).toMatch(/\.mp4$/);

    expect(f.creates.length).toBe(createsAtKill); // zero extra creates: every stored id was polled
    expect(query(d, "SELECT status FROM images WHERE status <> 'succeeded'")).toEqual([]);
    expect(query(d, "SELECT 1 FROM generations WHERE delivered_at IS NULL")).toEqual([]);
    expect(query(d, "SELECT 1 FROM videos WHERE delivered_at IS NULL")).toEqual([]);
    expect(s.violations).toEqual([]);
    expect(printed + child.output()).not.toContain(BOT_TOKEN);
    await kill(child);
  });

  it("delivers by channel message once the interaction is over 15 minutes old, and fails a forgotten prediction with its reason", async () => {
    const { sandbox: s, fake: f, dir: d } = await setup();
    let child = await startBot(s, f, d);
    const images = s.runCommand({
      command: "character",
      options: { description: "slow archer", count: 4 },
      user: ALICE,
    });
    await s.waitFor(
      () =>
        query<{ n: number }>(d, "SELECT count(*) AS n FROM images WHERE prediction_id IS NOT NULL")[0]?.n ===
        4,
      10_000,
      "prediction ids",
    );
    await kill(child);
    // While the bot is down: 16 minutes pass for the interaction, and Replicate forgets one prediction.
    const db = new Database(`${d.path}/bot.sqlite`);
    db.prepare("UPDATE generations SET created_at = created_at - 16 * 60 * 1000").run();
    const forgotten = (
      db.prepare("SELECT prediction_id FROM images WHERE slot = 2").get() as { prediction_id: string }
    ).prediction_id;
    db.close();
    f.forget(forgotten);

    child = await startBot(s, f, d);
    const delivered = await s.waitFor(
      () =>
        s
          .channelMessages()
          .find((m) => m.interaction_id === undefined && buttons(m).some((b) => b.label === "Regenerate")),
      20_000,
      "a channel message with the grid",
    );
    expect(delivered.content.startsWith(`<@${ALICE.id}>`)).toBe(true);
    expect(delivered.attachments.map((a) => a.filename)).toEqual([
      "character-1.png",
      "character-3.png",
      "character-4.png",
    ]);
    expect(buttons(delivered).map((b) => b.label)).toEqual(["1", "3", "4", "Regenerate"]);
    expect(delivered.content).toContain("Image 2: the image service failed");
    // The expired interaction's reply was left alone.
    expect(s.original(images)?.attachments ?? []).toEqual([]);
    expect(query(d, "SELECT status, error_message FROM images WHERE slot = 2")).toEqual([
      { status: "failed", error_message: "Replicate no longer knows this prediction" },
    ]);
    expect(f.creates).toHaveLength(4);
    expect(s.violations).toEqual([]);
    await kill(child);
  });

  it("starts, once, the slots that had no prediction id yet, and polls the ones that had", async () => {
    const { sandbox: s, fake: f, dir: d } = await setup();
    const limited = { MAX_CONCURRENT_PREDICTIONS: "2" };
    let child = await startBot(s, f, d, limited);
    const images = s.runCommand({
      command: "character",
      options: { description: "slow bard", count: 4 },
      user: ALICE,
    });
    await s.waitFor(
      () =>
        query<{ n: number }>(d, "SELECT count(*) AS n FROM images WHERE prediction_id IS NOT NULL")[0]?.n ===
        2,
      10_000,
      "two prediction ids",
    );
    await kill(child);
    const before = query<{ slot: number; prediction_id: string | null }>(
      d,
      "SELECT slot, prediction_id FROM images ORDER BY slot",
    );
    expect(before.filter((r) => r.prediction_id === null)).toHaveLength(2);
    expect(f.creates).toHaveLength(2);

    child = await startBot(s, f, d, limited);
    expect((await finalGrid(s, images)).attachments).toHaveLength(4);
    expect(f.creates).toHaveLength(4); // the two waiting slots started once each; the two running ones polled
    const after = query<{ slot: number; prediction_id: string }>(
      d,
      "SELECT slot, prediction_id FROM images ORDER BY slot",
    );
    for (const row of before.filter((r) => r.prediction_id)) {
      expect(after.find((a) => a.slot === row.slot)?.prediction_id).toBe(row.prediction_id);
    }
    await kill(child);
  });

  it("adopts, after a SIGKILL mid-create, the predictions whose creates were held open, creating none again", async () => {
    // The first two creates are answered; the last two are stored on Replicate and held open, unanswered, as
    // when the bot dies while its creates are in flight. All four send the same input, and the answered two are
    // finished before the kill, so only the database says that their (older) predictions are taken.
    const {
      sandbox: s,
      fake: f,
      dir: d,
    } = await setup((_input, index) => ({
      latencyMs: 50,
      hold: index >= 2,
    }));
    let child = await startBot(s, f, d);
    const images = s.runCommand({
      command: "character",
      options: { description: "held ranger", count: 4 },
      user: ALICE,
    });
    const held = (await f.whenHeld(2)).map((c) => c.id);
    await s.waitFor(
      () =>
        query<{ n: number }>(d, "SELECT count(*) AS n FROM images WHERE status = 'succeeded'")[0]?.n === 2,
      10_000,
      "the two answered slots stored",
    );
    await kill(child);
    // Every create was marked sent before it left; the two held ones have no prediction id.
    const before = query<{ prediction_id: string | null; create_sent_at: number | null }>(
      d,
      "SELECT prediction_id, create_sent_at FROM images ORDER BY slot",
    );
    expect(before.every((r) => r.create_sent_at !== null)).toBe(true);
    expect(before.filter((r) => r.prediction_id === null)).toHaveLength(2);
    expect(f.creates).toHaveLength(4);

    child = await startBot(s, f, d);
    const grid = await finalGrid(s, images);
    expect(grid.attachments.map((a) => a.filename)).toEqual([1, 2, 3, 4].map((n) => `character-${n}.png`));

    expect(f.creates).toHaveLength(4); // nothing created again
    const after = query<{ status: string; prediction_id: string; file_name: string }>(
      d,
      "SELECT status, prediction_id, file_name FROM images ORDER BY slot",
    );
    expect(after.map((r) => r.status)).toEqual(Array(4).fill("succeeded"));
    // Each prediction on Replicate belongs to exactly one slot: the held ones were adopted, not shared.
    expect(after.map((r) => r.prediction_id).sort()).toEqual(f.creates.map((c) => c.id).sort());
    for (const id of held) expect(after.filter((r) => r.prediction_id === id)).toHaveLength(1);
    for (const row of after) expect(existsSync(`${d.path}/images/${row.file_name}`)).toBe(true);
    expect(child.output()).toContain("adopted the prediction of a create sent before the restart");
    // Recorded as delivered once the grid's edit is confirmed, which may come just after it shows.
    await s.waitFor(
      () => query(d, "SELECT 1 FROM generations WHERE delivered_at IS NULL").length === 0,
      10_000,
      "the generation recorded as delivered",
    );
    expect(s.violations).toEqual([]);
    await kill(child);
  });
});
