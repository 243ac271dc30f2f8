// POST /interactions: Discord's interactions endpoint, with INTERACTIONS_MODE=http (no gateway connection).
//
// Answers:
// - 401: signature headers missing, a signature that does not verify against DISCORD_PUBLIC_KEY, a timestamp
//   more than 5 minutes from now, or an interaction already taken (a replay of a signed request within those
//   5 minutes: interaction-replays.ts). Discord sends badly signed requests on purpose to check this.
// - 400: a verified body that is not an interaction.
// - 413: a body over 1 MiB.
// - 503: the role has not started yet (or is stopping): nothing takes interactions.
// - 200: PING answered with PONG; any other interaction with the bot's first answer to it (a deferral, a reply,
//   a modal…), within 3 s: see discord/kit/http-callbacks.ts.
import { seenInMemory, seenInRedis } from "../interaction-replays.ts";
import { InteractionSignature } from "../interaction-signature.ts";
import { MAX_BODY_BYTES, type RouteGroup } from "../route-group.ts";

const PING = 1;

export const interactionRoutes: RouteGroup = async (app, deps) => {
  const { discord } = deps.ctx.config;
  if (discord.interactionsMode !== "http" || !discord.publicKey) return;
  const signature = new InteractionSignature(discord.publicKey);
  const log = deps.ctx.logger.child({ route: "interactions" });
  const { jobs, config } = deps.ctx;
  const seen = jobs && config.queue ? seenInRedis(jobs.redis, config.queue.prefix, log) : seenInMemory();
  await app.register(async (scope) => {
    // The signature covers the exact bytes sent: this scope keeps the body as a Buffer.
    scope.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
      done(null, body);
    });
    scope.post("/interactions", { bodyLimit: MAX_BODY_BYTES }, async (request, reply) => {
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === "string" ? value : undefined;
      };
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const check = signature.check(
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
        body,
        deps.ctx.clock.now(),
      );
      reply.header("cache-control", "no-store");
      if (!check.ok) {
        log.info({ reason: check.reason }, "interaction refused: bad signature");
        return reply.code(401).send({ error: "invalid request signature" });
      }
      const payload = parseInteraction(body);
      if (!payload) return reply.code(400).send({ error: "not an interaction" });
      if (payload.type === PING) return reply.send({ type: PING });
      const receiver = deps.interactions?.();
      if (!receiver) return reply.code(503).send({ error: "not taking interactions yet" });
      if (!(await seen.firstSight(payload.id, deps.ctx.clock.now()))) {
        log.warn({ interactionId: payload.id }, "interaction refused: already taken (a replayed request)");
        return reply.code(401).send({ error: "interaction already received" });
      }
      return reply.send(await receiver.receive(payload));
    });
  });
};

function parseInteraction(
  body: Buffer,
): { id: string; type: number; token: string; application_id: string } | undefined {
  try {
    const value = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
    if (typeof value.type !== "number") return undefined;
    if (value.type === PING) return { id: "", type: PING, token: "", application_id: "" };
    const ok = [value.id, value.token, value.application_id].every((v) => typeof v === "string");
    return ok ? (value as { id: string; type: number; token: string; application_id: string }) : undefined;
  } catch {
    return undefined;
  }
}
