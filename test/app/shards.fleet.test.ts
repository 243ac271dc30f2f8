// Two real bot processes (`npm start`'s entry point) sharing the gateway as a fleet does: SHARD_COUNT=2 with
// SHARD_IDS=0 and SHARD_IDS=1, against one local Discord server with a guild on each shard and one PostgreSQL
// database. Each process is sent, and answers, only its own guild's interactions: as two whole bots
// (ROLE=all), and as two gateways (ROLE=gateway) whose work a separate worker runs from the shared queue.
import { afterEach, describe, expect, it } from "vitest";
import { type DataStore, openDataStore } from "../../src/db/data-store.ts";
import { databaseSettings } from "../../src/db/database.ts";
import { deployCommands } from "../../src/discord/commands/register.ts";
import { DiscordSandbox, guildOnShard, type SandboxInteraction } from "../../src/sandbox/server.ts";
import { ALICE, BOB, BOT_TOKEN, buttons, eventually } from "../support/bot-harness.ts";
import { engineEnv, makeTempDir, type TempDir, testConfig } from "../support/env.ts";
import { removeKeys, TEST_REDIS_URL, testQueuePrefix } from "../support/redis.ts";
import { type ScriptProcess, spawnScript } from "../support/spawn.ts";

let sandbox: DiscordSandbox | undefined;
let dir: TempDir | undefined;
let store: DataStore | undefined;
let prefix: string | undefined;
const bots: ScriptProcess[] = [];

afterEach(async () => {
  await Promise.all(bots.splice(0).map((b) => b.stop()));
  await store?.close();
  await sandbox?.close();
  if (prefix) await removeKeys(prefix);
  dir?.remove();
  sandbox = dir = store = prefix = undefined;
});

interface LogLine {
  msg: string;
  interactionId?: string;
  guildId?: string | null;
  shardId?: number;
  shards?: number[];
  shardCount?: number;
}

/** The JSON log lines a bot process printed. */
const logLines = (bot: ScriptProcess): LogLine[] =>
  bot
    .stdout()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);

/** The interactions a process's router was handed, as its "interaction received" lines say. */
const received = (bot: ScriptProcess) =>
  logLines(bot)
    .filter((l) => l.msg === "interaction received")
    .map((l) => ({ interactionId: l.interactionId, guildId: l.guildId, shardId: l.shardId }));

const shapes = [
  { shape: "two whole bots (ROLE=all)", fleet: false },
  { shape: "two gateways (ROLE=gateway) and a worker on the shared queue", fleet: true },
];

describe.each(shapes)("two bot processes, one gateway shard each: $shape", ({ fleet }) => {
  it("each receives and answers only the interactions of its shard's guild", {
    timeout: 120_000,
  }, async () => {
    const guilds = [guildOnShard(0, 2, "Shard zero"), guildOnShard(1, 2, "Shard one")];
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN, guilds, shards: 2 });
    const s = sandbox;
    dir = makeTempDir("crbot-shards-");
    const d = dir;
    store = await openDataStore(databaseSettings(testConfig(d.path)));
    await deployCommands({ token: BOT_TOKEN, apiUrl: s.apiUrl });

    const env = {
      ...engineEnv(d.path),
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_API_URL: s.apiUrl,
      IMAGE_PROVIDER: "mock",
      MOCK_LATENCY_MS: "50",
      PREDICTION_POLL_MS: "25",
      DATA_DIR: d.path,
      LOG_LEVEL: "debug",
      SHARD_COUNT: "2",
    };
    if (fleet) {
      prefix = testQueuePrefix();
      Object.assign(env, { ROLE: "gateway", REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix });
    }
    bots.push(spawnScript("src/index.ts", { ...env, SHARD_IDS: "0" }));
    bots.push(spawnScript("src/index.ts", { ...env, SHARD_IDS: "1" }));
    const [zero, one] = bots as [ScriptProcess, ScriptProcess];
    if (fleet) {
      const worker = spawnScript("src/index.ts", { ...env, ROLE: "worker" });
      bots.push(worker);
      await worker.printed("worker taking jobs", 60_000);
    }
    await Promise.all([zero, one].map((b) => b.printed("logged in to Discord", 60_000)));
    await s.waitFor(() => s.connected, 20_000, "both shards connected");
    const login = (b: ScriptProcess) => logLines(b).find((l) => l.msg === "logged in to Discord");
    expect(login(zero)).toMatchObject({ shards: [0], shardCount: 2 });
    expect(login(one)).toMatchObject({ shards: [1], shardCount: 2 });

    const [onZero, onOne] = guilds as [(typeof guilds)[0], (typeof guilds)[0]];
    // A member in each guild: one member's running cap (one request) holds across both processes.
    const character = (guildId: string, user: typeof ALICE, description: string) =>
      s.runCommand({ command: "character", options: { description, count: 2 }, user, guildId });
    const finalGrid = (i: SandboxInteraction) =>
      s
        .waitFor(
          () => {
            const m = s.original(i);
            return m && buttons(m).some((b) => b.label === "Regenerate") ? m : undefined;
          },
          30_000,
          `the grid in guild ${i.guildId}`,
        )
        .catch((err: Error) => {
          throw new Error(`${err.message}:\n${bots.map((b) => b.output()).join("\n")}`);
        });
    const inZero = character(onZero.id, ALICE, "a fox in a scarf");
    const inOne = character(onOne.id, BOB, "a robot with a lantern");
    const [gridZero, gridOne] = await Promise.all([finalGrid(inZero), finalGrid(inOne)]);
    expect(gridZero.guild_id).toBe(onZero.id);
    expect(gridOne.guild_id).toBe(onOne.id);
    expect(gridZero.attachments).toHaveLength(2);
    expect(gridOne.attachments).toHaveLength(2);

    // Buttons are guild interactions too: each pick goes to the process of its guild's shard.
    const pickZero = s.pressButton({
      message: gridZero,
      customId: buttons(gridZero)[0]?.custom_id ?? "",
      user: ALICE,
    });
    const pickOne = s.pressButton({
      message: gridOne,
      customId: buttons(gridOne)[1]?.custom_id ?? "",
      user: BOB,
    });
    await eventually(
      async () =>
        (await store?.repos.selections.current(ALICE.id, onZero.id)) !== undefined &&
        (await store?.repos.selections.current(BOB.id, onOne.id)) !== undefined,
      20_000,
      "both picks recorded",
    ).catch((err: Error) => {
      // What each process said, and how Discord saw the presses, for a failure that is not reproduced at will.
      const answers = [pickZero, pickOne].map((p) => JSON.stringify(p.callback ?? "no callback"));
      throw new Error(`${err.message}:\n${answers.join("\n")}\n${bots.map((b) => b.output()).join("\n")}`);
    });

    await eventually(
      async () => received(zero).length === 2 && received(one).length === 2,
      10_000,
      "each process's log of the interactions it received",
    );
    expect(received(zero)).toEqual([
      { interactionId: inZero.id, guildId: onZero.id, shardId: 0 },
      { interactionId: pickZero.id, guildId: onZero.id, shardId: 0 },
    ]);
    expect(received(one)).toEqual([
      { interactionId: inOne.id, guildId: onOne.id, shardId: 1 },
      { interactionId: pickOne.id, guildId: onOne.id, shardId: 1 },
    ]);
    // As gateways, neither made an image: the worker did, from the queue both fed.
    if (fleet) {
      expect(zero.output()).not.toContain('"image stored"');
      expect(one.output()).not.toContain('"image stored"');
      expect(bots[2]?.output().match(/"image stored"/g)).toHaveLength(4);
    }
    expect(s.violations).toEqual([]);
    for (const b of bots) expect(b.output()).not.toContain(BOT_TOKEN);
  });
});
