// The process's HTTP listeners as npm start runs them: the public one (HTTP_PORT: webhooks, signed links) and
// the operations one (OPS_PORT: /healthz, /readyz, /metrics), started before the role so resumed jobs' webhooks
// and links are answered, and closed after the role's drain, just before the database.
import type { AppContext } from "../features/context.ts";
import type { HttpDeps, InteractionReceiver, ProcessPhase } from "../http/route-group.ts";
import { OPS_ROUTES, PUBLIC_ROUTES, type RunningHttpServer, startHttpServer } from "../http/server.ts";

/** Connections the operations listener holds: a probe and a scraper or two, never the world. */
const OPS_MAX_CONNECTIONS = 32;

export interface OperationsServer {
  /** `http://host:port` of each listener that runs. */
  publicUrl: string | undefined;
  opsUrl: string | undefined;
  /** The role has started: readiness may pass from now on (it fails while the process starts). */
  started(): void;
  /** Readiness fails from now on; both listeners still answer (webhooks during the drain). */
  beginStop(): void;
  /** INTERACTIONS_MODE=http: POST /interactions goes to `receiver` from now on (503 before). */
  takeInteractions(receiver: InteractionReceiver): void;
  close(): Promise<void>;
}

/** The public listener could not bind while PUBLIC_URL promises it: the process must not run on without it. */
export class PublicListenerError extends Error {
  constructor(
    readonly address: string,
    override readonly cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const why = code === "EADDRINUSE" ? "the port is taken by another process" : String(code ?? cause);
    super(
      `PUBLIC_URL is set but the HTTP server cannot listen on ${address} (${why}): free that port or set HTTP_PORT to another one that PUBLIC_URL reaches`,
    );
    this.name = "PublicListenerError";
  }
}

/**
 * Starts both listeners. The public one failing to listen is fatal with PUBLIC_URL (a PublicListenerError) and
 * logged otherwise; the operations one failing is logged, and the bot works on. `gatewayReady` may be asked
 * before the role has started: it then says not ready.
 */
export async function startOperationsServer(
  ctx: AppContext,
  gatewayReady?: () => boolean,
): Promise<OperationsServer> {
  let phase: ProcessPhase = "starting";
  let receiver: InteractionReceiver | undefined;
  const deps = {
    ctx,
    phase: () => phase,
    interactions: () => (phase === "stopping" ? undefined : receiver),
    ...(gatewayReady ? { gatewayReady } : {}),
  };
  const open: RunningHttpServer[] = [];
  const publicServer = await startPublicListener(ctx, deps);
  if (publicServer) open.push(publicServer);
  const opsServer = await startOpsListener(ctx, deps);
  if (opsServer) open.push(opsServer);
  return {
    publicUrl: publicServer?.url,
    opsUrl: opsServer?.url,
    started: () => {
      phase = "running";
    },
    beginStop: () => {
      phase = "stopping";
    },
    takeInteractions: (taking) => {
      receiver = taking;
    },
    close: async () => {
      await Promise.all(open.map((server) => server.close()));
    },
  };
}

/** The public listener; one that cannot listen is fatal with PUBLIC_URL, logged otherwise. */
function startPublicListener(ctx: AppContext, deps: HttpDeps): Promise<RunningHttpServer | undefined> {
  const { http } = ctx.config;
  if (http.port === 0) return Promise.resolve(undefined);
  return startHttpServer(deps, {
    port: http.port,
    host: http.host,
    routes: PUBLIC_ROUTES,
    limits: { maxConnections: http.maxConnections },
    name: "public",
  }).catch((err: unknown) => {
    const address = `${http.host}:${http.port}`;
    if (http.publicUrl) throw new PublicListenerError(address, err);
    ctx.logger.error({ err, address }, "could not start the public HTTP listener");
    return undefined;
  });
}

/** The operations listener; one that cannot listen is logged, and the bot works on. */
function startOpsListener(ctx: AppContext, deps: HttpDeps): Promise<RunningHttpServer | undefined> {
  const { http } = ctx.config;
  if (http.ops.port === 0) return Promise.resolve(undefined);
  return startHttpServer(deps, {
    port: http.ops.port,
    host: http.ops.host,
    routes: OPS_ROUTES,
    limits: { maxConnections: OPS_MAX_CONNECTIONS },
    name: "operations",
  }).catch((err: unknown) => {
    ctx.logger.error(
      { err, address: `${http.ops.host}:${http.ops.port}` },
      "could not start the operations HTTP listener (/readyz, /metrics)",
    );
    return undefined;
  });
}
