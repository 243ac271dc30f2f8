// Sandbox mode: the local Discord-compatible server, its web page, and the real bot (the same startBot as
// npm start) logged into it, with the free mock providers unless Replicate is asked for.
import { join } from "node:path";
import { createAppContext } from "../app.ts";
import { type RunningBot, startBot } from "../bot.ts";
import { deployCommands } from "../commands/register.ts";
import { createLogger } from "../domain/logger.ts";
import { type Config, configSecrets, loadConfig } from "../services/config.ts";
import { DiscordSandbox } from "./server.ts";
import { attachWebUi } from "./web.ts";

/** Fixed ids, so picks and references in the sandbox's data directory still belong to its guild next time. */
const GUILD = {
  id: "900000000000000001",
  name: "Sandbox",
  channels: [{ id: "900000000000000002", name: "characters" }],
};

export interface SandboxModeOptions {
  /** The environment the user gave (REPLICATE_API_TOKEN, LOG_LEVEL, MOCK_LATENCY_MS …). */
  env: Record<string, string | undefined>;
  port: number;
  dataDir: string;
  /** Real images and videos from Replicate instead of the mock providers. */
  useReplicate: boolean;
}

export interface RunningSandbox {
  url: string;
  sandbox: DiscordSandbox;
  bot: RunningBot;
  config: Config;
  stop(): Promise<void>;
}

export async function startSandboxMode(options: SandboxModeOptions): Promise<RunningSandbox> {
  // A fresh random bot token each run (the server makes one): nothing fixed that another program could know.
  const sandbox = await DiscordSandbox.start({
    port: options.port,
    applicationId: "900000000000000000",
    botUser: { id: "900000000000000000", username: "Character Bot" },
    guilds: [GUILD],
  });
  try {
    attachWebUi(sandbox);
    const config = loadConfig({
      ...options.env,
      DISCORD_TOKEN: sandbox.token,
      DISCORD_API_URL: sandbox.apiUrl,
      DISCORD_GUILD_ID: GUILD.id,
      DISCORD_APPLICATION_ID: undefined,
      IMAGE_PROVIDER: options.useReplicate ? "replicate" : "mock",
      DATA_DIR: options.dataDir,
      LOG_LEVEL: options.env.LOG_LEVEL || "warn",
    });
    await deployCommands({ token: sandbox.token, apiUrl: sandbox.apiUrl, guildId: GUILD.id });
    const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) });
    const ctx = await createAppContext(config, logger);
    let bot: RunningBot;
    try {
      bot = await startBot(ctx);
    } catch (err) {
      await ctx.close().catch(() => undefined);
      throw err;
    }
    return {
      url: sandbox.url,
      sandbox,
      bot,
      config,
      async stop() {
        await bot.stop();
        await sandbox.close();
      },
    };
  } catch (err) {
    await sandbox.close();
    throw err;
  }
}

export const defaultSandboxDataDir = () => join(".", "data", "sandbox");
