// The operations HTTP server every process runs (HTTP_PORT, default 8080 on 127.0.0.1; 0 turns it off):
// health and readiness for process managers, Prometheus metrics, Replicate's webhooks, and signed links to
// stored images and videos. Fastify does the HTTP; each route group lives in routes/.
import Fastify, { type FastifyInstance } from "fastify";
import { type HttpDeps, MAX_BODY_BYTES, type RouteGroup } from "./route-group.ts";
import { fileRoutes } from "./routes/files.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { webhookRoutes } from "./routes/webhooks.ts";

/** The route groups; each file in routes/ exports one. */
const GROUPS: RouteGroup[] = [healthRoutes, metricsRoutes, webhookRoutes, fileRoutes];

export async function buildHttpServer(
  deps: HttpDeps,
  groups: RouteGroup[] = GROUPS,
): Promise<FastifyInstance> {
  // On close, open connections (a slow download, say) are cut rather than waited for: a stop must not hang on
  // a client.
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    return503OnClosing: true,
    forceCloseConnections: true,
  });
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

/**
 * Starts the server on `port` (0: any free one, as tests use) and `host`. Its errors are logged, never fatal:
 * the bot runs on without its operations surface.
 */
export async function startHttpServer(
  deps: HttpDeps,
  listen: { port: number; host: string },
): Promise<RunningHttpServer> {
  const app = await buildHttpServer(deps);
  const address = await app.listen({ port: listen.port, host: listen.host });
  deps.ctx.logger.info({ url: address }, "operations HTTP server listening");
  return { url: address, close: () => app.close() };
}
