// POST /webhooks/replicate: signed prediction completions from Replicate, which wake the job waiting on them.
//
// Answers:
// - 401: signature headers missing, a signature that does not verify, or a timestamp more than 5 minutes from
//   now. A stale timestamp is refused as unauthenticated (401, not 400): the timestamp is part of what is signed
//   and its window is what stops a captured delivery from being replayed, so outside it the delivery is as
//   unproven as one with a bad signature. Nothing changes either way.
// - 413: a body over 1 MiB (Fastify's bodyLimit, before anything is read into memory beyond it).
// - 400: a verified body that is not a prediction.
// - 503: no signing secret (none configured and Replicate's could not be fetched); Replicate retries later.
// - 200: accepted, including a repeated delivery (same webhook-id, heard by this process or any other of the
//   fleet, before or after a restart: ctx.webhookDeliveries) or one for a prediction already settled,
//   which change nothing; and a delivery no job in this process waits on (fleet mode: another process runs it,
//   and its safety-net poll finishes it).

import { WebhookReceiver, WebhookSecret } from "../../providers/replicate/webhooks.ts";
import { MAX_BODY_BYTES, type RouteGroup } from "../route-group.ts";

export const webhookRoutes: RouteGroup = async (app, { ctx }) => {
  const receiver = new WebhookReceiver({
    secret: new WebhookSecret({
      configured: ctx.config.http.webhookSecret,
      token: ctx.config.replicate.token,
      apiUrl: ctx.config.replicate.apiUrl,
      logger: ctx.logger,
    }),
    deliveries: ctx.webhookDeliveries,
    events: ctx.predictionEvents,
    now: () => ctx.clock.now(),
    logger: ctx.logger.child({ route: "webhooks" }),
  });
  await app.register(async (scope) => {
    // The signature covers the exact bytes sent, so this scope keeps the body as a Buffer instead of parsing it.
    scope.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
      done(null, body);
    });
    scope.post("/webhooks/replicate", { bodyLimit: MAX_BODY_BYTES }, async (request, reply) => {
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === "string" ? value : undefined;
      };
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const outcome = await receiver.receive(
        {
          id: header("webhook-id"),
          timestamp: header("webhook-timestamp"),
          signature: header("webhook-signature"),
        },
        body,
      );
      if (outcome.status === 200) return reply.code(200).send({ ok: true, result: outcome.result });
      return reply.code(outcome.status).send({ ok: false, error: outcome.reason });
    });
  });
};
