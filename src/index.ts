// Entry point: load the configuration, build the application, and close it cleanly on SIGINT/SIGTERM.
import { createAppContext } from "./app.ts";
import { ConfigError, configSecrets, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";

function main(): void {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) });
  const app = createAppContext(config, logger);
  logger.info({ provider: app.imageProvider.name, dataDir: config.dataDir }, "storage and providers ready");
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    app.close();
    process.exit(0);
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

main();
