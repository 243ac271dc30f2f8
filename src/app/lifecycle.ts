// One start and one stop for every role (ROLE=all, gateway, worker): what each does before it takes work, the
// operations HTTP server, and the order in which a stopping process lets go of what it holds.
import type { REST } from "discord.js";
import { instrumentRest } from "../discord/kit/rest-metrics.ts";
import type { AppContext } from "../features/context.ts";
import { recoverFileStore } from "../files/recovery.ts";
import { type RunningHttpServer, startHttpServer } from "../http/server.ts";
import type { Logger } from "../kit/logger.ts";

/** A started role as `npm start` runs it: gatewayReady only where the process owns gateway shards. */
export interface RunningRole {
  gatewayReady?: () => boolean;
  stop(): Promise<void>;
}

/** Before any job can write: finish deletions a crash interrupted, remove orphan and temp files. */
export async function recoverBeforeWork(ctx: AppContext): Promise<void> {
  await recoverFileStore({ repos: ctx.repos, files: ctx.files, clock: ctx.clock, logger: ctx.logger });
}

/** Every response and rate-limit wait of the role's REST client goes to the metrics; each rate limit is logged. */
export function watchRest(ctx: AppContext, rest: REST): void {
  rest.on("rateLimited", (info) =>
    ctx.logger.warn(
      { route: info.route, retryAfter: info.retryAfter, global: info.global },
      "rate limited by Discord",
    ),
  );
  instrumentRest(rest, ctx.metrics);
}

/** What a role adds to the stop sequence; everything else in it is the same for every role. */
export interface RoleStop {
  /** Says the process is stopping, with what it still holds. */
  announce(): void;
  /** Finishes the interactions the role took in (a gateway), while the held jobs are handed back. */
  drain?(): Promise<void>;
  /** Closes the role's own connection (a gateway's) once its work has ended. */
  disconnect?(): Promise<void>;
}

/**
 * The graceful stop, run once however often it is asked for: no new work, waits cut short (their jobs stay
 * resumable), taken jobs handed back to the queue for another worker, writes finished, database closed.
 */
export class StopSequence {
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly ctx: AppContext,
    private readonly role: RoleStop,
  ) {}

  stop(): Promise<void> {
    this.stopping ??= this.run();
    return this.stopping;
  }

  private async run(): Promise<void> {
    const { ctx, role } = this;
    role.announce();
    const drained = role.drain?.();
    // Taken jobs are handed back to the queue as their waits are cut short, for another worker.
    const handedBack = ctx.jobs?.drain();
    ctx.generation.stop();
    ctx.video.stop();
    await drained;
    await handedBack;
    await role.disconnect?.();
    await ctx.close();
    ctx.logger.info("stopped");
  }
}

/**
 * Health, readiness, metrics, webhooks and links: started once the role is, so a process manager never sees a
 * process ready that has not reached Discord. Not fatal when it cannot listen: the bot works on. Off with
 * HTTP_PORT=0.
 */
export async function startOperationsServer(
  ctx: AppContext,
  running: RunningRole,
): Promise<RunningHttpServer | undefined> {
  const { config, logger } = ctx;
  if (config.http.port === 0) return undefined;
  return startHttpServer(
    { ctx, ...(running.gatewayReady ? { gatewayReady: running.gatewayReady } : {}) },
    { port: config.http.port, host: config.http.host },
  ).catch((err: unknown) => {
    logger.error({ err, port: config.http.port, host: config.http.host }, "could not start the HTTP server");
    return undefined;
  });
}

/** On SIGINT or SIGTERM: the HTTP server, then the role, then exit 0 (1 when the stop itself failed). */
export function stopOnSignals(
  logger: Logger,
  http: RunningHttpServer | undefined,
  running: RunningRole,
): void {
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
