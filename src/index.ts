// `npm start`: load the configuration, build the application, and run this process's role (ROLE): the whole
// bot (`all`, the default), a gateway, or a worker; stop cleanly on SIGINT/SIGTERM.
import { createAppContext } from "./app/compose.ts";
import { startBot } from "./app/gateway.ts";
import { startHttpFrontEnd } from "./app/http-front-end.ts";
import { type RunningRole, stopOnSignals } from "./app/lifecycle.ts";
import {
  type OperationsServer,
  PublicListenerError,
  startOperationsServer,
} from "./app/operations-server.ts";
import {
  configOrExit,
  dataStoreOrExit,
  jobQueueOrExit,
  readEnvironment,
  storageOrExit,
} from "./app/startup.ts";
import { startWorker } from "./app/worker.ts";
import type { BotConfig } from "./config/load.ts";
import { configSecrets } from "./config/secrets.ts";
import type { AppContext } from "./features/context.ts";
import { createLogger, type Logger } from "./kit/logger.ts";

async function main(): Promise<void> {
  const config = configOrExit(readEnvironment(), { discordToken: true });
  // Every line says which process wrote it: its role beside pino's pid, and a job's id where one runs.
  const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) }).child({
    role: config.role,
  });
  const ctx = await openContext(config, logger);
  // The HTTP listeners first: jobs resumed at start are woken by webhooks and link to files. Until the role has
  // logged in, readiness says the gateway is not ready.
  let running: RunningRole | undefined;
  const gateway = config.role !== "worker" && config.discord.interactionsMode === "gateway";
  const gatewayReady = gateway ? () => running?.gatewayReady?.() ?? false : undefined;
  const http = await operationsServerOrExit(ctx, gatewayReady);
  running = await startRoleOrExit(ctx, http);
  http.started();
  stopOnSignals(logger, http, running);
}

/** Both HTTP listeners; with PUBLIC_URL, a public one that cannot listen is one message and exit code 1. */
async function operationsServerOrExit(
  ctx: AppContext,
  gatewayReady: (() => boolean) | undefined,
): Promise<OperationsServer> {
  try {
    return await startOperationsServer(ctx, gatewayReady);
  } catch (err) {
    if (!(err instanceof PublicListenerError)) throw err;
    ctx.logger.fatal({ err: err.cause, address: err.address }, "could not start the public HTTP listener");
    console.error(`Cannot start: ${err.message}`);
    await ctx
      .close()
      .catch((closeErr: unknown) => ctx.logger.warn({ err: closeErr }, "could not close cleanly"));
    process.exit(1);
  }
}

/** The application context on the engines the configuration names, each checked before anything starts. */
async function openContext(config: BotConfig, logger: Logger): Promise<AppContext> {
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
  return ctx;
}

/**
 * This process's role, started; or the reason it could not start logged, the HTTP listeners and the context
 * closed, and exit code 1.
 */
async function startRoleOrExit(ctx: AppContext, http: OperationsServer): Promise<RunningRole> {
  const { config, logger } = ctx;
  try {
    if (config.role === "worker") return await startWorker(ctx);
    if (config.discord.interactionsMode === "http") {
      const frontEnd = await startHttpFrontEnd(ctx);
      http.takeInteractions(frontEnd.receiver);
      return frontEnd;
    }
    return await startGateway(ctx);
  } catch (err) {
    logger.fatal(
      { err },
      config.role === "worker" ? "could not start taking jobs" : "could not log in to Discord",
    );
    await http.close().catch(() => undefined);
    await ctx.close().catch((closeErr: unknown) => logger.warn({ err: closeErr }, "could not close cleanly"));
    process.exit(1);
  }
}

/** ROLE=all or gateway: logged in to Discord, answering interactions (and, for `all`, running jobs too). */
async function startGateway(ctx: AppContext): Promise<RunningRole> {
  const bot = await startBot(ctx);
  return { gatewayReady: bot.gatewayReady, stop: (beforeClose) => bot.stop(beforeClose) };
}

await main();
