// One start and one stop for every role (ROLE=all, gateway, worker): what each does before it takes work, and
// the order in which a stopping process lets go of what it holds.
import type { REST } from "discord.js";
import { showRemovals } from "../discord/flows/removals.ts";
import { instrumentRest } from "../discord/kit/rest-metrics.ts";
import type { AppContext } from "../features/context.ts";
import { recoverFileStore } from "../files/recovery.ts";
import type { Logger } from "../kit/logger.ts";
import type { OperationsServer } from "./operations-server.ts";

/** A started role as `npm start` runs it: gatewayReady only where the process owns gateway shards. */
export interface RunningRole {
  gatewayReady?: () => boolean;
  /** The graceful stop; `beforeClose` runs once the work has drained, before the database closes. */
  stop(beforeClose?: () => Promise<void>): Promise<void>;
}

/**
 * Before any job can write: finish deletions a crash interrupted, remove orphan and temp files; then sweep
 * expired data exports now and every few minutes, until the context closes.
 */
export async function recoverBeforeWork(ctx: AppContext): Promise<void> {
  await recoverFileStore({ repos: ctx.repos, files: ctx.files, clock: ctx.clock, logger: ctx.logger });
  ctx.privacyExports.startSweeping();
}

/**
 * The retention sweep, every minute in every role that talks to Discord; the database's lock lets one process
 * of the fleet sweep at a time. Expired images leave the messages that showed them, as a deletion's do.
 */
export function startRetention(ctx: AppContext, rest: REST): void {
  const log = ctx.logger.child({ sweep: "retention" });
  ctx.retention.start((removals) => showRemovals(ctx, rest, removals, log));
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

  /** `beforeClose` (the HTTP listeners' close) runs after the drain: webhooks still wake the waits it ends. */
  stop(beforeClose?: () => Promise<void>): Promise<void> {
    this.stopping ??= this.run(beforeClose);
    return this.stopping;
  }

  private async run(beforeClose: (() => Promise<void>) | undefined): Promise<void> {
    const { ctx, role } = this;
    role.announce();
    const drained = role.drain?.();
    // Taken jobs are handed back to the queue as their waits are cut short, for another worker.
    const handedBack = ctx.jobs?.drain();
    ctx.generation.stop();
    ctx.video.stop();
    ctx.retention.stop();
    ctx.privacyExports.stop();
    await drained;
    await handedBack;
    await role.disconnect?.();
    await beforeClose?.().catch((err: unknown) =>
      ctx.logger.warn({ err }, "could not close the HTTP server"),
    );
    await ctx.close();
    ctx.logger.info("stopped");
  }
}

/**
 * On SIGINT or SIGTERM: readiness fails at once, the role stops (drain, hand back), the HTTP listeners close,
 * then exit 0 (1 when the stop itself failed).
 */
export function stopOnSignals(logger: Logger, http: OperationsServer, running: RunningRole): void {
  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signal received");
    http.beginStop();
    running
      .stop(() => http.close().then(() => logger.info("HTTP listeners closed")))
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
