// The operations HTTP server every process runs: Fastify, on two listeners. The public one (HTTP_PORT, default
// 8080 on 127.0.0.1) takes what the world sends: Replicate's webhooks, signed links to stored images and
// videos, Discord's interactions with INTERACTIONS_MODE=http, and /healthz. The operations one (OPS_PORT, default 9464 on 127.0.0.1) answers the process manager
// and Prometheus: /healthz, /readyz and /metrics. Each route group lives in routes/.
import Fastify, { type FastifyInstance } from "fastify";
import { type HttpDeps, MAX_BODY_BYTES, type RouteGroup } from "./route-group.ts";
import { fileRoutes } from "./routes/files.ts";
import { livenessRoutes, readinessRoutes } from "./routes/health.ts";
import { interactionRoutes } from "./routes/interactions.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { webhookRoutes } from "./routes/webhooks.ts";

/** What the world may reach: webhooks, links, and liveness. */
export const PUBLIC_ROUTES: RouteGroup[] = [livenessRoutes, webhookRoutes, fileRoutes, interactionRoutes];
/** What the process manager and Prometheus ask: never on the public listener. */
export const OPS_ROUTES: RouteGroup[] = [livenessRoutes, readinessRoutes, metricsRoutes];
/** Every route on one listener, for a server only this machine reaches (sandbox mode, tests). */
export const ALL_ROUTES: RouteGroup[] = [
  livenessRoutes,
  readinessRoutes,
  metricsRoutes,
  webhookRoutes,
  fileRoutes,
  interactionRoutes,
];

/**
 * How long and how many clients a listener holds. A request (headers and body) must arrive whole within
 * requestTimeoutMs, its headers within headersTimeoutMs, whatever pace a client keeps up; a socket with no
 * traffic either way closes after idleTimeoutMs; an idle keep-alive connection after keepAliveTimeoutMs.
 * Answers are not bound by these: a slow download of a big video runs on as long as it moves.
 */
export interface HttpLimits {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxRequestsPerSocket: number;
  /** Connections held at once; one more is closed as soon as it opens. */
  maxConnections: number;
  /** How often unfinished requests are checked against the two timeouts above. */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 15_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 100,
  maxConnections: 512,
  checkIntervalMs: 2_000,
};

export async function buildHttpServer(
  deps: HttpDeps,
  groups: RouteGroup[] = ALL_ROUTES,
  limits: HttpLimits = DEFAULT_HTTP_LIMITS,
): Promise<FastifyInstance> {
  // On close, open connections (a slow download, say) are cut rather than waited for: a stop must not hang on
  // a client.
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    return503OnClosing: true,
    forceCloseConnections: true,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
  });
  app.server.maxConnections = limits.maxConnections;
  // Whatever a route did not answer itself: logged here, and answered without its text, which may name hosts,
  // paths or buckets.
  app.setErrorHandler((err: { statusCode?: number }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) deps.ctx.logger.error({ err, url: request.routeOptions.url }, "HTTP route failed");
    void reply
      .code(status)
      .header("cache-control", "no-store")
      .send({ error: status === 500 ? "internal error" : "bad request" });
  });
  for (const group of groups) await group(app, deps);
  return app;
}

export interface RunningHttpServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  close(): Promise<void>;
}

export interface HttpListen {
  /** 0: any free one, as tests use. */
  port: number;
  host: string;
  /** The routes this listener serves; default every one (a listener only this machine reaches). */
  routes?: RouteGroup[];
  /** Over DEFAULT_HTTP_LIMITS. */
  limits?: Partial<HttpLimits>;
  /** Names the listener in its start line. */
  name?: string;
}

/** Starts a listener; a port it cannot bind (EADDRINUSE, say) rejects, and the caller decides what follows. */
export async function startHttpServer(deps: HttpDeps, listen: HttpListen): Promise<RunningHttpServer> {
  const app = await buildHttpServer(deps, listen.routes, { ...DEFAULT_HTTP_LIMITS, ...listen.limits });
  try {
    const address = await app.listen({ port: listen.port, host: listen.host });
    deps.ctx.logger.info({ url: address, listener: listen.name }, "operations HTTP server listening");
    return { url: address, close: () => app.close() };
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
}
