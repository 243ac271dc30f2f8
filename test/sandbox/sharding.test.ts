// The local server's gateway sharded as Discord's is: raw WebSocket sessions for the refusals (4010, 4011), and
// real discord.js clients, one per shard, for what each shard's connection is sent and for RESUME per shard.
import { Client, Events, GatewayIntentBits, Status } from "discord.js";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createAppContext } from "../../src/app/compose.ts";
import { startBot } from "../../src/app/gateway.ts";
import { type RunningSandbox, startSandboxMode } from "../../src/app/sandbox-mode.ts";
import { deployCommands } from "../../src/discord/commands/register.ts";
import { DiscordSandbox, guildOnShard, shardOf, snowflakeOnShard } from "../../src/sandbox/server.ts";
import { SANDBOX_PEOPLE } from "../../src/sandbox/web.ts";
import { ALICE, BOT_TOKEN, buttons } from "../support/bot-harness.ts";
import { captureLogger, makeTempDir, type TempDir, testConfig } from "../support/env.ts";

let sandbox: DiscordSandbox | undefined;
const clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.destroy()));
  await sandbox?.close();
  sandbox = undefined;
});

interface Frame {
  op: number;
  t?: string;
  d?: { shard?: [number, number]; guilds?: Array<{ id: string }>; id?: string };
}

/**
 * Opens the gateway, sends IDENTIFY with `shard` (left out when undefined) once HELLO arrived, and resolves
 * with the frames it got and the close code, or after the guilds' GUILD_CREATEs if the server keeps it open.
 */
function identify(
  s: DiscordSandbox,
  shard: unknown,
  waitFor = 0,
): Promise<{ code: number | undefined; frames: Frame[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/gateway?v=10&encoding=json`);
    const frames: Frame[] = [];
    ws.on("message", (raw) => {
      const frame = JSON.parse(String(raw)) as Frame;
      frames.push(frame);
      if (frame.op === 10) {
        const d = { token: s.token, intents: 1, properties: {}, ...(shard === undefined ? {} : { shard }) };
        ws.send(JSON.stringify({ op: 2, d }));
      }
      if (
        frames.filter((f) => f.t === "GUILD_CREATE").length === waitFor &&
        frames.some((f) => f.t === "READY")
      ) {
        ws.close(1000);
        resolve({ code: undefined, frames });
      }
    });
    ws.on("close", (code) => resolve({ code, frames }));
    ws.on("error", reject);
  });
}

/** A real discord.js client owning `shards` of `shardCount`, logged in; every dispatch it gets is recorded. */
async function shardClient(s: DiscordSandbox, shards: number[], shardCount: number) {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: s.apiUrl },
    shards,
    shardCount,
  });
  clients.push(client);
  const interactions: Array<{ guildId: string | null; shard: number }> = [];
  client.on(Events.Raw, (packet: { t?: string; d?: { guild_id?: string } }, shard: number) => {
    if (packet.t === "INTERACTION_CREATE") interactions.push({ guildId: packet.d?.guild_id ?? null, shard });
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(BOT_TOKEN);
  await ready;
  return { client, interactions };
}

describe("the sandbox gateway with shards", () => {
  it("makes guild ids that land on a chosen shard, as (id >> 22) % count", () => {
    for (const count of [1, 2, 3, 16]) {
      for (let shard = 0; shard < count; shard++) {
        const id = snowflakeOnShard(shard, count);
        expect(Number((BigInt(id) >> 22n) % BigInt(count))).toBe(shard);
        expect(shardOf(guildOnShard(shard, count).id, count)).toBe(shard);
      }
    }
    expect(() => snowflakeOnShard(2, 2)).toThrow(RangeError);
  });

  it("reports its shard count on GET /gateway/bot", async () => {
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN, shards: 2 });
    const res = await fetch(`${sandbox.apiUrl}/v10/gateway/bot`, {
      headers: { Authorization: `Bot ${BOT_TOKEN}` },
    });
    expect(((await res.json()) as { shards: number }).shards).toBe(2);
    await sandbox.close();
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
    const single = await fetch(`${sandbox.apiUrl}/v10/gateway/bot`, {
      headers: { Authorization: `Bot ${BOT_TOKEN}` },
    });
    expect(((await single.json()) as { shards: number }).shards).toBe(1);
  });

  it("closes an IDENTIFY with 4011 when it names no shard, and 4010 for a count or id not the server's", async () => {
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN, shards: 2, guilds: [guildOnShard(1, 2)] });
    expect((await identify(sandbox, undefined)).code).toBe(4011);
    for (const bad of [[0, 1], [0, 3], [2, 2], [-1, 2], [0.5, 2], [0], "0,2"]) {
      const { code, frames } = await identify(sandbox, bad);
      expect(code, JSON.stringify(bad)).toBe(4010);
      expect(frames.some((f) => f.t === "READY")).toBe(false);
    }
    // The server keeps serving the shards it has.
    const { code, frames } = await identify(sandbox, [1, 2], 1);
    expect(code).toBeUndefined();
    expect(frames.find((f) => f.t === "READY")?.d?.shard).toEqual([1, 2]);
  });

  it("keeps one shard as before: IDENTIFY without a shard, or with [0, 1], gets every guild", async () => {
    const guilds = [guildOnShard(0, 2, "A"), guildOnShard(1, 2, "B")];
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN, guilds });
    for (const shard of [undefined, [0, 1]]) {
      const { code, frames } = await identify(sandbox, shard, 2);
      expect(code).toBeUndefined();
      const ready = frames.find((f) => f.t === "READY");
      expect(ready?.d?.shard).toEqual([0, 1]);
      expect(ready?.d?.guilds?.map((g) => g.id)).toEqual(guilds.map((g) => g.id));
    }
    expect((await identify(sandbox, [0, 2])).code).toBe(4010);
  });

  it("lists in READY, and sends GUILD_CREATE for, only the guilds of the identified shard", async () => {
    const guilds = [guildOnShard(0, 2, "A"), guildOnShard(1, 2, "B"), guildOnShard(0, 2, "C")];
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN, guilds, shards: 2 });
    const zero = await identify(sandbox, [0, 2], 2);
    expect(zero.frames.find((f) => f.t === "READY")?.d?.guilds?.map((g) => g.id)).toEqual([
      guilds[0]?.id,
      guilds[2]?.id,
    ]);
    expect(zero.frames.filter((f) => f.t === "GUILD_CREATE").map((f) => f.d?.id)).toEqual([
      guilds[0]?.id,
      guilds[2]?.id,
    ]);
    const one = await identify(sandbox, [1, 2], 1);
    expect(one.frames.find((f) => f.t === "READY")?.d?.guilds?.map((g) => g.id)).toEqual([guilds[1]?.id]);
    expect(one.frames.filter((f) => f.t === "GUILD_CREATE").map((f) => f.d?.id)).toEqual([guilds[1]?.id]);
  });

  it("sends each guild's interactions only to its shard's client, direct messages to shard 0, and resumes each", async () => {
    const [onZero, onOne] = [guildOnShard(0, 2, "Zero"), guildOnShard(1, 2, "One")];
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN, guilds: [onZero, onOne], shards: 2 });
    const s = sandbox;
    await deployCommands({ token: BOT_TOKEN, apiUrl: s.apiUrl });
    const [zero, one] = await Promise.all([shardClient(s, [0], 2), shardClient(s, [1], 2)]);
    expect(s.connected).toBe(true);
    expect([...zero.client.guilds.cache.keys()]).toEqual([onZero.id]);
    expect([...one.client.guilds.cache.keys()]).toEqual([onOne.id]);

    const run = (guildId: string | undefined) =>
      s.runCommand({ command: "character", options: { description: "a fox" }, user: ALICE, guildId });
    run(onZero.id);
    run(onOne.id);
    run(onOne.id);
    run(undefined);
    const got = () => zero.interactions.length + one.interactions.length;
    await s.waitFor(() => got() === 4, 10_000, "4 interactions");
    expect(zero.interactions).toEqual([
      { guildId: onZero.id, shard: 0 },
      { guildId: null, shard: 0 },
    ]);
    expect(one.interactions).toEqual([
      { guildId: onOne.id, shard: 1 },
      { guildId: onOne.id, shard: 1 },
    ]);

    // Both connections drop; each client resumes its own session, and what was sent meanwhile is replayed
    // to the shard it belongs to.
    const resumed = [zero, one].map(
      ({ client }) => new Promise<void>((resolve) => client.once(Events.ShardResume, () => resolve())),
    );
    s.dropConnections();
    run(onOne.id);
    run(onZero.id);
    await Promise.all(resumed);
    await s.waitFor(() => got() === 6, 10_000, "the interactions sent while disconnected");
    expect(zero.interactions.at(-1)).toEqual({ guildId: onZero.id, shard: 0 });
    expect(one.interactions.at(-1)).toEqual({ guildId: onOne.id, shard: 1 });
    await s.waitFor(() => s.connected, 10_000, "both shards back");
    expect(one.client.ws.shards.get(1)?.status).toBe(Status.Ready);
  });

  it("runs the bot on the shards SHARD_IDS names only, ready when they are, with each interaction's shard in its log", async () => {
    const [onZero, onOne] = [guildOnShard(0, 2, "Zero"), guildOnShard(1, 2, "One")];
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN, guilds: [onZero, onOne], shards: 2 });
    const s = sandbox;
    await deployCommands({ token: BOT_TOKEN, apiUrl: s.apiUrl });
    const dir = makeTempDir("crbot-shard-one-");
    const log = captureLogger([BOT_TOKEN]);
    const ctx = await createAppContext(
      testConfig(dir.path, {
        DISCORD_TOKEN: BOT_TOKEN,
        DISCORD_API_URL: s.apiUrl,
        IMAGE_PROVIDER: "mock",
        MOCK_LATENCY_MS: "20",
        SHARD_COUNT: "2",
        SHARD_IDS: "1",
      }),
      log.logger,
    );
    const bot = await startBot(ctx);
    try {
      expect([...bot.client.ws.shards.keys()]).toEqual([1]);
      expect([...bot.client.guilds.cache.keys()]).toEqual([onOne.id]);
      // Ready: every shard it owns is connected, though no process has shard 0.
      expect(s.shardConnected(1)).toBe(true);
      expect(s.shardConnected(0)).toBe(false);
      expect(bot.gatewayReady()).toBe(true);
      const interaction = s.runCommand({
        command: "character",
        options: { description: "a heron", count: 1 },
        user: ALICE,
        guildId: onOne.id,
      });
      await s.waitFor(() => interaction.callback, 10_000, "the deferral");
      const received = log.lines
        .map((l) => JSON.parse(l) as { msg: string; interactionId?: string; shardId?: number })
        .find((l) => l.msg === "interaction received");
      expect(received).toMatchObject({ interactionId: interaction.id, shardId: 1 });
    } finally {
      await bot.stop();
      dir.remove();
    }
  });

  it("tells which shard is missing when a guild's shard has no bot connected", async () => {
    const [onZero, onOne] = [guildOnShard(0, 2, "Zero"), guildOnShard(1, 2, "One")];
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN, guilds: [onZero, onOne], shards: 2 });
    const s = sandbox;
    await deployCommands({ token: BOT_TOKEN, apiUrl: s.apiUrl });
    const zero = await shardClient(s, [0], 2);
    expect(s.shardConnected(0)).toBe(true);
    expect(s.connected).toBe(false);
    expect(() =>
      s.runCommand({
        command: "character",
        options: { description: "a fox" },
        user: ALICE,
        guildId: onOne.id,
      }),
    ).toThrow("no bot has connected to shard 1 of 2");
    s.runCommand({
      command: "character",
      options: { description: "a fox" },
      user: ALICE,
      guildId: onZero.id,
    });
    await s.waitFor(() => zero.interactions.length === 1, 10_000, "the interaction on shard 0");
  });
});

describe("sandbox mode with SANDBOX_SHARDS=2", () => {
  let running: RunningSandbox | undefined;
  let dir: TempDir | undefined;
  afterEach(async () => {
    await running?.stop();
    dir?.remove();
    running = dir = undefined;
  });

  it("takes the shard count from its configuration only, whatever SHARD_COUNT the environment holds", async () => {
    // An .env copied from .env.example holds SHARD_COUNT empty, which discord.js alone would take for 0 shards;
    // one left over from a fleet host would make it identify for a count the server does not have.
    for (const value of ["", "2"]) {
      process.env.SHARD_COUNT = value;
      dir = makeTempDir("crbot-sandbox-env-");
      try {
        running = await startSandboxMode({ env: {}, port: 0, dataDir: dir.path, useReplicate: false });
        expect(running.sandbox.connected, JSON.stringify(value)).toBe(true);
        expect(running.bot?.client.options.shardCount).toBe(1);
      } finally {
        delete process.env.SHARD_COUNT;
        await running?.stop();
        dir.remove();
        running = dir = undefined;
      }
    }
  });

  it("has a guild on each of 2 shards, connects both from one bot, and answers /character in each", {
    timeout: 60_000,
  }, async () => {
    dir = makeTempDir("crbot-sandbox-shards-");
    running = await startSandboxMode({
      env: { MOCK_LATENCY_MS: "20", PREDICTION_POLL_MS: "20" },
      port: 0,
      dataDir: dir.path,
      useReplicate: false,
      shards: 2,
    });
    const { sandbox: s, bot } = running;
    if (!bot) throw new Error("sandbox mode over the gateway has a gateway bot");
    expect(s.shardCount).toBe(2);
    expect(s.guilds.map((g) => s.shardOf(g.id)).sort()).toEqual([0, 1]);
    expect([...bot.client.ws.shards.keys()].sort()).toEqual([0, 1]);
    expect(bot.gatewayReady()).toBe(true);
    const ready = await fetch(`${running.httpUrl}/readyz`);
    expect(ready.status).toBe(200);

    // Through the page's own API, as a visitor switching server would.
    const alice = SANDBOX_PEOPLE[0]?.id;
    const state = (await (
      await fetch(`${s.url}/ui/state?user=${alice}&guild=${s.guilds[1]?.id}`)
    ).json()) as {
      guild: { id: string };
      guilds: Array<{ id: string; shard: number }>;
    };
    expect(state.guild.id).toBe(s.guilds[1]?.id);
    expect(state.guilds.map((g) => g.shard).sort()).toEqual([0, 1]);
    for (const guild of s.guilds) {
      const res = await fetch(`${s.url}/ui/command`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: s.url },
        body: JSON.stringify({
          user: alice,
          guild: guild.id,
          command: "character",
          options: { description: "a moth", count: 1 },
        }),
      });
      expect(res.status).toBe(202);
      const grid = await s.waitFor(
        () =>
          s
            .channelMessages(guild.channels[0]?.id)
            .find((m) => buttons(m).some((b) => b.label === "Regenerate")),
        20_000,
        `the grid in ${guild.name}`,
      );
      expect(grid.guild_id).toBe(guild.id);
      expect(grid.attachments).toHaveLength(1);
    }
  });
});
