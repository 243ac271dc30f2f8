// `npm start`: load the configuration, build the application, log in to Discord; stop cleanly on SIGINT/SIGTERM.
import { createAppContext } from "./app.ts";
import { startBot } from "./bot.ts";
import { finishPendingRemovals } from "./discord/removals.ts";
import { createLogger } from "./domain/logger.ts";
import { type RunningHttpServer, startHttpServer } from "./http/server.ts";
import { configSecrets } from "./services/config.ts";
import { configOrExit, dataStoreOrExit, readEnvironment, storageOrExit } from "./startup.ts";

async function main(): Promise<void> {
  const config = configOrExit(readEnvironment(), { discordToken: true });
  const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) });
  // A DATABASE_URL that cannot be reached (or migrated) is one message and exit code 2, as a bad variable is.
  const data = await dataStoreOrExit(config);
  const ctx = await createAppContext(config, logger, { data });
  await storageOrExit(ctx.files.objects);
  logger.info(
    {
      provider: ctx.imageProvider.name,
      dataDir: config.dataDir,
      database: ctx.data.description,
      storage: ctx.files.objects.description,
    },
    "starting",
  );
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot(ctx);
  } catch (err) {
    logger.fatal({ err }, "could not log in to Discord");
    await ctx.close().catch((closeErr: unknown) => logger.warn({ err: closeErr }, "could not close cleanly"));
    process.exit(1);
  }
  // Grids and video messages that still show what a deletion removed before the last run stopped.
  bot.router.track(finishPendingRemovals(ctx, bot.client.rest));
  // Health, readiness, metrics, webhooks and links: started once the bot is logged in, so a process manager
  // never sees a process ready that has not reached Discord. Not fatal when it cannot listen: the bot works on.
  let http: RunningHttpServer | undefined;
  if (config.http.port !== 0) {
    http = await startHttpServer(
      { ctx, gatewayReady: bot.gatewayReady },
      { port: config.http.port, host: config.http.host },
    ).catch((err: unknown) => {
      logger.error(
        { err, port: config.http.port, host: config.http.host },
        "could not start the HTTP server",
      );
      return undefined;
    });
  }
  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signal received");
    // The HTTP server first: readiness goes away before the bot stops taking work.
    const closed = http
      ?.close()
      .catch((err: unknown) => logger.warn({ err }, "could not close the HTTP server"));
    Promise.resolve(closed)
      .then(() => bot.stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, "unclean stop");
          process.exit(1);
        },
      );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

await main();
