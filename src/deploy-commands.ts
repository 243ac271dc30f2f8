// `npm run deploy-commands`: registers the slash commands and says where. The bot never does this on its own.

import { configOrExit, readEnvironment } from "./app/startup.ts";
import { configSecrets } from "./config/secrets.ts";
import { deployCommands } from "./discord/commands/register.ts";
import { createLogger } from "./kit/logger.ts";

const config = configOrExit(readEnvironment(), { discordToken: true });
const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) });
try {
  const result = await deployCommands({
    token: config.discord.token,
    apiUrl: config.discord.apiUrl,
    applicationId: config.discord.applicationId,
    guildId: config.discord.guildId,
  });
  const names = result.names.map((n) => `/${n}`).join(", ");
  console.log(
    result.scope === "guild"
      ? `Registered ${result.names.length} commands (${names}) in guild ${result.guildId} for application ${result.applicationId}. They are available now.`
      : `Registered ${result.names.length} commands (${names}) globally for application ${result.applicationId}. Discord may take up to an hour to show them everywhere.`,
  );
} catch (err) {
  logger.error({ err }, "could not register the commands");
  process.exitCode = 1;
}
