// GET /metrics: the application context's Prometheus registry as text (prom-client's exposition format).
import type { RouteGroup } from "../route-group.ts";

export const metricsRoutes: RouteGroup = (app, { ctx }) => {
  app.get("/metrics", async (_request, reply) => {
    const text = await ctx.metrics.text();
    reply.header("cache-control", "no-store").type(ctx.metrics.contentType);
    return text;
  });
};
