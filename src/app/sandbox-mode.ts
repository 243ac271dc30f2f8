// Sandbox mode: the local Discord-compatible server, its web page, and the real bot (the same startBot as
// npm start) logged into it, with the free mock providers unless Replicate is asked for.
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { type Config, loadConfig } from "../config/load.ts";
import { configSecrets } from "../config/secrets.ts";
import { deployCommands } from "../discord/commands/register.ts";
import type { AppContext } from "../features/context.ts";
import type { InteractionReceiver, ProcessPhase } from "../http/route-group.ts";
import { ALL_ROUTES, type RunningHttpServer, startHttpServer } from "../http/server.ts";
import { createLogger } from "../kit/logger.ts";
import { DiscordSandbox, type SandboxGuild, shardOf } from "../sandbox/server.ts";
import { attachWebUi } from "../sandbox/web.ts";
import { createAppContext } from "./compose.ts";
import { type RunningBot, startBot } from "./gateway.ts";
import { startHttpFrontEnd } from "./http-front-end.ts";
import type { RunningRole } from "./lifecycle.ts";

/** Fixed ids, so picks and references in the sandbox's data directory still belong to its guild next time. */
const GUILD = {
  id: "900000000000000001",
  name: "Sandbox",
  channels: [{ id: "900000000000000002", name: "characters" }],
};

/**
 * The sandbox's guilds with `shards` gateway shards: GUILD, and one more on each other shard, each with fixed
 * ids (GUILD's timestamp bits moved on until they land on that shard) so its rows are found again next time.
 */
export function sandboxGuilds(shards: number): SandboxGuild[] {
  const base = BigInt(GUILD.id) >> 22n;
  const others = Array.from({ length: shards }, (_, shard) => shard)
    .filter((shard) => shard !== shardOf(GUILD.id, shards))
    .map((shard) => {
      let time = base + 1n;
      while (Number(time % BigInt(shards)) !== shard) time += 1n;
      return {
        id: String((time << 22n) | 1n),
        name: `Sandbox (shard ${shard})`,
        channels: [{ id: String((time << 22n) | 2n), name: "characters" }],
      };
    });
  return [GUILD, ...others];
}

export interface SandboxModeOptions {
  /** The environment the user gave (REPLICATE_API_TOKEN, LOG_LEVEL, MOCK_LATENCY_MS …). */
  env: Record<string, string | undefined>;
  port: number;
  dataDir: string;
  /** Real images and videos from Replicate instead of the mock providers. */
  useReplicate: boolean;
  /** The operations server's port on 127.0.0.1 (SANDBOX_HTTP_PORT); default 0, any free one. */
  httpPort?: number;
  /**
   * Gateway shards the local server reports (SANDBOX_SHARDS); default 1. With more, it has a guild on each
   * shard and the one bot process connects them all, as a bot past 2,500 guilds does.
   */
  shards?: number;
}

export interface RunningSandbox {
  url: string;
  /** The operations server (/healthz, /readyz, /metrics …), as `npm start` serves it on HTTP_PORT. */
  httpUrl: string;
  /** The running bot's application context (tests read its rows through it). */
  ctx: AppContext;
  sandbox: DiscordSandbox;
  /** The gateway bot; undefined with INTERACTIONS_MODE=http (interactions come as signed POSTs instead). */
  bot: RunningBot | undefined;
  config: Config;
  stop(): Promise<void>;
}

export async function startSandboxMode(options: SandboxModeOptions): Promise<RunningSandbox> {
  const shards = options.shards ?? 1;
  const guilds = sandboxGuilds(shards);
  // A fresh random bot token each run (the server makes one): nothing fixed that another program could know.
  const sandbox = await DiscordSandbox.start({
    port: options.port,
    applicationId: "900000000000000000",
    botUser: { id: "900000000000000000", username: "Character Bot" },
    guilds,
    shards,
  });
  try {
    attachWebUi(sandbox);
    // The operations server's port is chosen first, so links can name it (see sandboxConfig).
    const httpPort = options.httpPort || (await freePort());
    const config = sandboxConfig(options, sandbox, httpPort, shards);
    for (const guild of guilds) {
      await deployCommands({ token: sandbox.token, apiUrl: sandbox.apiUrl, guildId: guild.id });
    }
    const { ctx, bot, role, http } = await startBotWithHttp(config, httpPort, sandbox);
    return {
      url: sandbox.url,
      httpUrl: http.url,
      ctx,
      sandbox,
      bot,
      config,
      async stop() {
        // Readiness fails at once; the server answers until the bot has drained, then closes.
        http.beginStop();
        await role.stop(() => http.close());
        await sandbox.close();
      },
    };
  } catch (err) {
    await sandbox.close();
    throw err;
  }
}

/** The bot's configuration: the user's environment, with the local server as its Discord. */
function sandboxConfig(
  options: SandboxModeOptions,
  sandbox: DiscordSandbox,
  httpPort: number,
  shards: number,
): Config {
  // With the mock provider the sandbox is its own PUBLIC_URL, and "Open original" and big-video links work with
  // no account. Not with real Replicate, which could neither fetch a 127.0.0.1 link nor post webhooks to it.
  const ownPublicUrl = !options.useReplicate && !options.env.PUBLIC_URL?.trim();
  return loadConfig({
    ...options.env,
    ...(ownPublicUrl ? { PUBLIC_URL: `http://127.0.0.1:${httpPort}` } : {}),
    // The sandbox serves every route on httpPort itself (startBotWithHttp); npm start's listeners stay unused.
    HTTP_PORT: String(httpPort),
    OPS_PORT: "0",
    DISCORD_TOKEN: sandbox.token,
    DISCORD_API_URL: sandbox.apiUrl,
    DISCORD_GUILD_ID: GUILD.id,
    DISCORD_APPLICATION_ID: undefined,
    // discord.js connects one shard unless told the count; this process owns every shard the server has.
    SHARD_COUNT: shards > 1 ? String(shards) : undefined,
    SHARD_IDS: undefined,
    IMAGE_PROVIDER: options.useReplicate ? "replicate" : "mock",
    DATA_DIR: options.dataDir,
    LOG_LEVEL: options.env.LOG_LEVEL || "warn",
    // INTERACTIONS_MODE=http: the local server signs what it delivers with its own key pair.
    ...(options.env.INTERACTIONS_MODE === "http" ? { DISCORD_PUBLIC_KEY: sandbox.http.publicKey } : {}),
  });
}

/**
 * The bot (the same startBot as npm start) and its operations server, started first as npm start starts it
 * (resumed jobs' webhooks and links are answered); a failed step stops what started.
 */
async function startBotWithHttp(
  config: Config,
  httpPort: number,
  sandbox: DiscordSandbox,
): Promise<{ ctx: AppContext; bot: RunningBot | undefined; role: RunningRole; http: SandboxHttp }> {
  const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) });
  const ctx = await createAppContext(config, logger);
  const overHttp = config.discord.interactionsMode === "http";
  let bot: RunningBot | undefined;
  let receiver: InteractionReceiver | undefined;
  let phase: ProcessPhase = "starting";
  let server: RunningHttpServer;
  try {
    // Every route on one listener on 127.0.0.1 only, so a newcomer can open /metrics with no account.
    server = await startHttpServer(
      {
        ctx,
        ...(overHttp ? {} : { gatewayReady: () => bot?.gatewayReady() ?? false }),
        phase: () => phase,
        interactions: () => receiver,
      },
      { port: httpPort, host: "127.0.0.1", routes: ALL_ROUTES },
    );
  } catch (err) {
    await ctx.close().catch(() => undefined);
    throw err;
  }
  let role: RunningRole;
  try {
    if (overHttp) {
      const frontEnd = await startHttpFrontEnd(ctx);
      receiver = frontEnd.receiver;
      sandbox.http.url = `${server.url}/interactions`;
      role = frontEnd;
    } else {
      bot = await startBot(ctx);
      role = bot;
    }
  } catch (err) {
    await server.close().catch(() => undefined);
    await ctx.close().catch(() => undefined);
    throw err;
  }
  phase = "running";
  const http = {
    url: server.url,
    beginStop: () => {
      phase = "stopping";
    },
    close: () => server.close(),
  };
  return { ctx, bot, role, http };
}

interface SandboxHttp extends RunningHttpServer {
  beginStop(): void;
}

export const defaultSandboxDataDir = () => join(".", "data", "sandbox");

/** A port free on 127.0.0.1 right now (the operating system picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
