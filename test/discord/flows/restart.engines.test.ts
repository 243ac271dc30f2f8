// The bot as its own process (the npm start entry point), killed with SIGKILL mid-work and started again.
import { afterEach, describe, expect, it } from "vitest";
import { type DataStore, openDataStore } from "../../../src/db/data-store.ts";
import { databaseSettings } from "../../../src/db/database.ts";
import type { Repos } from "../../../src/db/repos.ts";
import { deployCommands } from "../../../src/discord/commands/register.ts";
import { parseCustomId } from "../../../src/discord/kit/custom-id.ts";
import { FileStore } from "../../../src/files/file-store.ts";
import { openObjectStore } from "../../../src/files/open-object-store.ts";
import { DiscordSandbox, type SandboxInteraction, type StoredMessage } from "../../../src/sandbox/server.ts";
import { ALICE, BOT_TOKEN, buttons, eventually } from "../../support/bot-harness.ts";
import { engineEnv, makeTempDir, TEST_REPLICATE_TOKEN, type TempDir, testConfig } from "../../support/env.ts";
import type { Behaviour } from "../../support/fake-predictions.ts";
import { FakeReplicate } from "../../support/fake-replicate.ts";
import { type ScriptProcess, spawnScript } from "../../support/spawn.ts";

let sandbox: DiscordSandbox | undefined;
let fake: FakeReplicate | undefined;
let dir: TempDir | undefined;
let bot: ScriptProcess | undefined;
/** The bot's database and files as this test reads them, on the engines the test runs on. */
let store: DataStore | undefined;
let files: FileStore | undefined;
/** Everything the bot processes of this test printed. */
let printed = "";

afterEach(async () => {
  await bot?.stop();
  await store?.close();
  files?.close();
  await sandbox?.close();
  await fake?.close();
  dir?.remove();
  sandbox = fake = dir = bot = store = files = undefined;
  printed = "";
});

/** Predictions take 50 ms; a test that needs them in flight at a kill holds their results (`holdResults`). */
async function setup(behaviour = (_input: Record<string, unknown>, _index: number): Behaviour => ({})) {
  sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
  fake = await FakeReplicate.start({ token: TEST_REPLICATE_TOKEN, latencyMs: 50, behaviour });
  dir = makeTempDir("crbot-restart-");
  const config = testConfig(dir.path);
  store = await openDataStore(databaseSettings(config));
  files = new FileStore(openObjectStore(config.storage, dir.path));
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
    ...engineEnv(d.path),
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

/** Reads what the bot process recorded, through the repositories, from its database. */
function stored<T>(read: (repos: Repos) => Promise<T>): Promise<T> {
  if (!store) throw new Error("no database opened: call setup() first");
  return read(store.repos);
}

/** The image rows of generations not delivered yet: the work in progress. */
const openImages = () =>
  stored(async (r) => {
    const generations = await r.generations.undelivered();
    return (await Promise.all(generations.map((g) => r.images.forGeneration(g.id)))).flat();
  });

/**
 * The image rows of the generation a grid shows (its id is in the grid's buttons), once none is open: a grid
 * goes out while its last row is being marked.
 */
function imagesOf(grid: StoredMessage) {
  const id = parseCustomId(buttons(grid)[0]?.custom_id ?? "");
  if (id.handler !== "gen") throw new Error("not a grid");
  return eventually(
    async () => {
      const rows = await stored((r) => r.images.forGeneration(id.generationId));
      return rows.every((i) => i.status !== "pending" && i.status !== "running") && rows;
    },
    10_000,
    "the grid's slots to be recorded",
  );
}

const withPrediction = (rows: Array<{ predictionId: string | null }>) =>
  rows.filter((r) => r.predictionId !== null).length;

/** The final grid, once the bot is done with it (a grid goes out while its last image is being stored). */
async function finalGrid(s: DiscordSandbox, i: SandboxInteraction): Promise<StoredMessage> {
  const grid = await s.waitFor(
    () => {
      const m = s.original(i);
      return m && buttons(m).some((b) => b.label === "Regenerate") ? m : undefined;
    },
    20_000,
    "the final grid",
  );
  const id = parseCustomId(buttons(grid)[0]?.custom_id ?? "");
  if (id.handler !== "gen") throw new Error("not a grid");
  await eventually(
    async () => (await stored((r) => r.generations.get(id.generationId)))?.deliveredAt != null,
    20_000,
    "the generation marked delivered",
  );
  return grid;
}

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
    await eventually(
      async () => (await stored((r) => r.selections.current(ALICE.id, s.guild.id))) !== undefined,
      10_000,
      "the pick",
    );

    // Still running when the bot is killed: nothing finishes until after the restart.
    f.holdResults();
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
    await eventually(
      async () =>
        withPrediction(await openImages()) === 4 &&
        withPrediction(await stored((r) => r.videos.undelivered())) === 1,
      10_000,
      "4 image and 1 video prediction ids in the database",
    );
    await kill(child);
    const createsAtKill = f.creates.length;
    expect(createsAtKill).toBe(6); // 1 quick image + 4 slow images + 1 video
    expect((await stored((r) => r.videos.undelivered())).map((v) => v.status)).toEqual(["running"]);

    child = await startBot(s, f, d, both);
    f.releaseResults();
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
    expect((await imagesOf(resumedGrid)).map((i) => i.status)).toEqual(Array(4).fill("succeeded"));
    await eventually(
      async () =>
        (await stored(
          async (r) => (await r.generations.undelivered()).length + (await r.videos.undelivered()).length,
        )) === 0,
      10_000,
      "the grid and the video recorded as delivered",
    );
    expect(s.violations).toEqual([]);
    expect(printed + child.output()).not.toContain(BOT_TOKEN);
    await kill(child);
  });

  it("delivers by channel message once the interaction is over 15 minutes old, and fails a forgotten prediction with its reason", async () => {
    const { sandbox: s, fake: f, dir: d } = await setup();
    let child = await startBot(s, f, d);
    f.holdResults();
    const images = s.runCommand({
      command: "character",
      options: { description: "slow archer", count: 4 },
      user: ALICE,
    });
    await eventually(async () => withPrediction(await openImages()) === 4, 10_000, "prediction ids");
    await kill(child);
    // While the bot is down: 16 minutes pass for the interaction (the process that starts next reads its
    // clock from the system, so the recorded time moves back instead), and Replicate forgets one prediction.
    await store?.db
      .updateTable("generations")
      .set((eb) => ({ createdAt: eb("createdAt", "-", 16 * 60 * 1000) }))
      .execute();
    f.forget((await openImages()).find((i) => i.slot === 2)?.predictionId as string);

    child = await startBot(s, f, d);
    f.releaseResults();
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
    expect(buttons(delivered).map((b) => b.label)).toEqual([
      "1",
      "3",
      "4",
      "Vary 1",
      "Vary 3",
      "Vary 4",
      "Regenerate",
      "Remix",
    ]);
    expect(delivered.content).toContain("Image 2: the image service failed");
    // The expired interaction's reply was left alone.
    expect(s.original(images)?.attachments ?? []).toEqual([]);
    expect((await imagesOf(delivered)).find((i) => i.slot === 2)).toMatchObject({
      status: "failed",
      errorMessage: "Replicate no longer knows this prediction",
    });
    expect(f.creates).toHaveLength(4);
    expect(s.violations).toEqual([]);
    await kill(child);
  });

  it("starts, once, the slots that had no prediction id yet, and polls the ones that had", async () => {
    const { sandbox: s, fake: f, dir: d } = await setup();
    const limited = { MAX_CONCURRENT_PREDICTIONS: "2" };
    let child = await startBot(s, f, d, limited);
    f.holdResults();
    const images = s.runCommand({
      command: "character",
      options: { description: "slow bard", count: 4 },
      user: ALICE,
    });
    await eventually(async () => withPrediction(await openImages()) === 2, 10_000, "two prediction ids");
    await kill(child);
    const before = await openImages();
    expect(before.filter((r) => r.predictionId === null)).toHaveLength(2);
    expect(f.creates).toHaveLength(2);

    child = await startBot(s, f, d, limited);
    f.releaseResults();
    const limitedGrid = await finalGrid(s, images);
    expect(limitedGrid.attachments).toHaveLength(4);
    expect(f.creates).toHaveLength(4); // the two waiting slots started once each; the two running ones polled
    const after = await imagesOf(limitedGrid);
    for (const row of before.filter((r) => r.predictionId)) {
      expect(after.find((a) => a.slot === row.slot)?.predictionId).toBe(row.predictionId);
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
    await eventually(
      async () => (await openImages()).filter((i) => i.status === "succeeded").length === 2,
      10_000,
      "the two answered slots stored",
    );
    await kill(child);
    // Every create was marked sent before it left; the two held ones have no prediction id.
    const before = await stored(async (r) =>
      Promise.all((await openImages()).map((i) => r.images.jobs.state(i.id))),
    );
    expect(before.every((r) => r?.createSentAt !== null)).toBe(true);
    expect(before.filter((r) => r?.predictionId === null)).toHaveLength(2);
    expect(f.creates).toHaveLength(4);

    child = await startBot(s, f, d);
    const grid = await finalGrid(s, images);
    expect(grid.attachments.map((a) => a.filename)).toEqual([1, 2, 3, 4].map((n) => `character-${n}.png`));

    expect(f.creates).toHaveLength(4); // nothing created again
    const after = await imagesOf(grid);
    expect(after.map((r) => r.status)).toEqual(Array(4).fill("succeeded"));
    // Each prediction on Replicate belongs to exactly one slot: the held ones were adopted, not shared.
    expect(after.map((r) => r.predictionId).sort()).toEqual(f.creates.map((c) => c.id).sort());
    for (const id of held) expect(after.filter((r) => r.predictionId === id)).toHaveLength(1);
    for (const row of after) {
      expect(await files?.objects.stat(files.keyOf(row.fileName as string))).toBeDefined();
    }
    expect(child.output()).toContain("adopted the prediction of a create sent before the restart");
    // Recorded as delivered once the grid's edit is confirmed, which may come just after it shows.
    await eventually(
      async () => (await stored((r) => r.generations.undelivered())).length === 0,
      10_000,
      "the generation recorded as delivered",
    );
    expect(s.violations).toEqual([]);
    await kill(child);
  });
});
