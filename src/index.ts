// `npm start`: load the configuration, build the application, and run this process's role (ROLE): the whole
// bot (`all`, the default), a gateway, or a worker; stop cleanly on SIGINT/SIGTERM.
import { createAppContext } from "./app/compose.ts";
import { startBot } from "./app/gateway.ts";
import {
  configOrExit,
  dataStoreOrExit,
  jobQueueOrExit,
  readEnvironment,
  storageOrExit,
} from "./app/startup.ts";
import { startWorker } from "./app/worker.ts";
import { configSecrets } from "./config/secrets.ts";
import { finishPendingRemovals } from "./discord/flows/removals.ts";
import type { AppContext } from "./features/context.ts";
import { type RunningHttpServer, startHttpServer } from "./http/server.ts";
import { createLogger } from "./kit/logger.ts";

interface Running {
  gatewayReady?: () => boolean;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  const config = configOrExit(readEnvironment(), { discordToken: true });
  // Every line says which process wrote it: its role beside pino's pid, and a job's id where one runs.
  const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) }).child({
    role: config.role,
  });
  // A REDIS_URL or DATABASE_URL that cannot be reached (or migrated) is one message and exit code 2, as a bad
  // variable is. Redis first: its check writes nothing.
  const jobs = await jobQueueOrExit(config, logger);
  const data = await dataStoreOrExit(config);
  const ctx = await createAppContext(config, logger, { data, ...(jobs ? { jobs } : {}) });
  await storageOrExit(ctx.files.objects);
  logger.info(
    {
      provider: ctx.imageProvider.name,
      dataDir: config.dataDir,
      database: ctx.data.description,
      storage: ctx.files.objects.description,
      queue: jobs?.description ?? "in-process",
    },
    "starting",
  );
  let running: Running;
  try {
    running = config.role === "worker" ? await startWorker(ctx) : await startGateway(ctx);
  } catch (err) {
    logger.fatal(
      { err },
      config.role === "worker" ? "could not start taking jobs" : "could not log in to Discord",
    );
    await ctx.close().catch((closeErr: unknown) => logger.warn({ err: closeErr }, "could not close cleanly"));
    process.exit(1);
  }
  // Health, readiness, metrics, webhooks and links: started once the bot is logged in, so a process manager
  // never sees a process ready that has not reached Discord. Not fatal when it cannot listen: the bot works on.
  let http: RunningHttpServer | undefined;
  if (config.http.port !== 0) {
    http = await startHttpServer(
      { ctx, ...(running.gatewayReady ? { gatewayReady: running.gatewayReady } : {}) },
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
      .then(() => running.stop())
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

/** ROLE=all or gateway: logged in to Discord, answering interactions (and, for `all`, running jobs too). */
async function startGateway(ctx: AppContext): Promise<Running> {
  const bot = await startBot(ctx);
  // Grids and video messages that still show what a deletion removed before the last run stopped.
  bot.router.track(finishPendingRemovals(ctx, bot.client.rest));
  return { gatewayReady: bot.gatewayReady, stop: () => bot.stop() };
}

await main();
