// The local server's REST API under /api/v10: the routes discord.js calls, as a table, each body checked
// against Discord's official schemas, with faults (429, 5xx) injected on demand and every answer recorded.
import type { IncomingMessage, ServerResponse } from "node:http";
import { RESTJSONErrorCodes as Codes, InteractionResponseType, MessageFlags } from "discord-api-types/v10";
import { BodyTooLargeError, parseBody, readBody, type UploadedFile } from "./body.ts";
import { type SandboxState, userPayload } from "./state.ts";
import type { Fault, RegisteredCommand, SandboxGuild, SandboxUser, Violation } from "./types.ts";
import { type BodyKind, validateBody } from "./validation.ts";

/** What the routes need from the server they belong to. */
export interface RestHost {
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: SandboxUser;
  readonly guilds: SandboxGuild[];
  readonly shardCount: number;
  readonly state: SandboxState;
  gatewayUrl(): string;
  /** Told "interaction-callback" when the bot answers an interaction. */
  emit(event: "interaction-callback", ...args: unknown[]): boolean;
}

/** One request on its way through a route. */
interface Call {
  host: RestHost;
  method: string;
  route: string;
  url: URL;
  /** The route pattern's captures. */
  params: string[];
  body: unknown;
  files: UploadedFile[];
  reply(status: number, body?: unknown, headers?: Record<string, string>): void;
  /** Answers 400 and records a violation when the body does not match the official schema for `kind`. */
  invalid(kind: BodyKind): boolean;
}

interface Route {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Matched against the path after /api/v10, decoded (`%40original` is `@original`). */
  path: RegExp;
  handle(call: Call): void;
}

/** An error body as Discord sends it; code 0 where Discord gives none (401, 404 of a route). */
const error = (message: string, code: Codes | 0) => ({ message, code });

const COMMANDS = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/;
const WEBHOOK = /^\/webhooks\/(\d+)\/([^/]+)$/;
const WEBHOOK_MESSAGE = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/;
const CHANNEL_MESSAGES = /^\/channels\/(\d+)\/messages$/;
const CHANNEL_MESSAGE = /^\/channels\/(\d+)\/messages\/(\d+)$/;

const ROUTES: Route[] = [
  {
    method: "GET",
    path: /^\/gateway\/bot$/,
    handle: ({ host, reply }) =>
      reply(200, {
        url: host.gatewayUrl(),
        shards: host.shardCount,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      }),
  },
  { method: "GET", path: /^\/gateway$/, handle: ({ host, reply }) => reply(200, { url: host.gatewayUrl() }) },
  {
    method: "GET",
    path: /^\/users\/@me$/,
    handle: ({ host, reply }) => reply(200, userPayload(host.botUser, true)),
  },
  {
    method: "GET",
    path: /^\/(?:oauth2\/)?applications\/@me$/,
    handle: ({ host, reply }) =>
      reply(200, { id: host.applicationId, name: host.botUser.username, flags: 0, bot_public: true }),
  },
  {
    method: "GET",
    path: COMMANDS,
    handle: ({ host, params: [applicationId, guildId], reply }) => {
      if (applicationId !== host.applicationId)
        return reply(404, error("Unknown Application", Codes.UnknownApplication));
      const { globalCommands, guildCommands } = host.state;
      reply(200, guildId ? (guildCommands.get(guildId) ?? []) : globalCommands);
    },
  },
  {
    method: "PUT",
    path: COMMANDS,
    handle: ({ host, params: [applicationId, guildId], body, reply, invalid }) => {
      if (applicationId !== host.applicationId)
        return reply(404, error("Unknown Application", Codes.UnknownApplication));
      if (invalid("commands_overwrite")) return;
      reply(200, host.state.overwriteCommands(guildId, body as Array<Omit<RegisteredCommand, "id">>));
    },
  },
  { method: "POST", path: /^\/interactions\/(\d+)\/([^/]+)\/callback$/, handle: interactionCallback },
  {
    method: "POST",
    path: WEBHOOK,
    handle: (call) => {
      const interaction = webhookInteraction(call);
      if (!interaction || call.invalid("webhook_create")) return;
      const original = interaction.originalMessageId
        ? call.host.state.messages.get(interaction.originalMessageId)
        : undefined;
      if (original && (original.flags & MessageFlags.Loading) !== 0) {
        // As Discord does: the first follow-up of a deferred reply still "thinking" becomes that reply, with the
        // deferral's visibility whatever flags it asks for (an "ephemeral" follow-up of a public defer is public).
        const { flags: _ignored, ...data } = call.body as Record<string, unknown>;
        return call.reply(
          200,
          call.host.state.messagePayload(call.host.state.editMessage(original.id, data, call.files)),
        );
      }
      const message = call.host.state.createMessage(
        interaction.channelId,
        interaction.guildId,
        call.body as Record<string, unknown>,
        call.files,
        interaction,
      );
      interaction.followUpIds.push(message.id);
      call.reply(200, call.host.state.messagePayload(message));
    },
  },
  { method: "GET", path: WEBHOOK_MESSAGE, handle: (call) => webhookMessage(call) },
  { method: "DELETE", path: WEBHOOK_MESSAGE, handle: (call) => webhookMessage(call) },
  { method: "PATCH", path: WEBHOOK_MESSAGE, handle: (call) => webhookMessage(call) },
  {
    method: "POST",
    path: CHANNEL_MESSAGES,
    handle: ({ host, params: [channelId], body, files, reply, invalid }) => {
      const guild = guildOf(host, channelId);
      if (!guild) return reply(404, error("Unknown Channel", Codes.UnknownChannel));
      if (invalid("message_create")) return;
      const message = host.state.createMessage(
        channelId as string,
        guild.id,
        body as Record<string, unknown>,
        files,
      );
      reply(200, host.state.messagePayload(message));
    },
  },
  { method: "GET", path: CHANNEL_MESSAGE, handle: (call) => channelMessage(call) },
  { method: "PATCH", path: CHANNEL_MESSAGE, handle: (call) => channelMessage(call) },
];

/** Interaction callbacks (types 4–8): the reply, a deferral, a button's update, autocomplete choices. */
function interactionCallback({ host, params: [id, token], url, body, files, reply, invalid }: Call) {
  const interaction = host.state.interactions.get(id as string);
  if (!interaction || interaction.token !== token)
    return reply(404, error("Unknown interaction", Codes.UnknownInteraction));
  if (interaction.callback) {
    return reply(
      400,
      error("Interaction has already been acknowledged.", Codes.InteractionHasAlreadyBeenAcknowledged),
    );
  }
  if (invalid("interaction_callback")) return;
  const callback = body as { type: InteractionResponseType; data?: Record<string, unknown> };
  interaction.callback = { type: callback.type, data: callback.data };
  const T = InteractionResponseType;
  if (callback.type === T.ChannelMessageWithSource || callback.type === T.DeferredChannelMessageWithSource) {
    const deferred = callback.type === T.DeferredChannelMessageWithSource;
    const flags = Number(callback.data?.flags ?? 0) | (deferred ? MessageFlags.Loading : 0);
    const message = host.state.createMessage(
      interaction.channelId,
      interaction.guildId,
      { ...(callback.data ?? {}), flags },
      files,
      interaction,
    );
    interaction.originalMessageId = message.id;
  } else if (
    (callback.type === T.DeferredMessageUpdate || callback.type === T.UpdateMessage) &&
    interaction.sourceMessageId
  ) {
    interaction.originalMessageId = interaction.sourceMessageId;
    if (callback.type === T.UpdateMessage)
      host.state.editMessage(interaction.sourceMessageId, callback.data ?? {}, files);
  } else if (callback.type === T.ApplicationCommandAutocompleteResult) {
    interaction.autocompleteChoices = (callback.data?.choices as unknown[]) ?? [];
  }
  host.emit("interaction-callback", interaction);
  if (url.searchParams.get("with_response") !== "true") return reply(204);
  reply(200, {
    interaction: { id: interaction.id, type: interaction.type },
    resource: { type: callback.type },
  });
}

/** The interaction behind a webhook route, or undefined once the answer (expired, unknown) is sent. */
function webhookInteraction({ host, params: [applicationId, token], reply }: Call) {
  if (host.state.expiredTokens.has(token as string)) {
    reply(401, error("Invalid Webhook Token", Codes.InvalidWebhookToken));
    return undefined;
  }
  const interaction = host.state.interactionByToken(token as string);
  if (applicationId !== host.applicationId || !interaction) {
    reply(404, error("Unknown Webhook", Codes.UnknownWebhook));
    return undefined;
  }
  return interaction;
}

/** GET, PATCH or DELETE of an interaction's message: @original (the reply or the button's message) or a follow-up. */
function webhookMessage(call: Call) {
  const interaction = webhookInteraction(call);
  if (!interaction) return;
  const { host, method, params, body, files, reply, invalid } = call;
  const target = params[2] === "@original" ? interaction.originalMessageId : params[2];
  const existing = target ? host.state.messages.get(target) : undefined;
  if (!existing) return reply(404, error("Unknown Message", Codes.UnknownMessage));
  if (method === "GET") return reply(200, host.state.messagePayload(existing));
  if (method === "DELETE") {
    host.state.deleteMessage(existing);
    return reply(204);
  }
  if (invalid("webhook_update")) return;
  reply(
    200,
    host.state.messagePayload(host.state.editMessage(existing.id, body as Record<string, unknown>, files)),
  );
}

/** GET or PATCH of a message in a channel. */
function channelMessage({ host, method, params: [channelId, messageId], body, files, reply, invalid }: Call) {
  if (!guildOf(host, channelId)) return reply(404, error("Unknown Channel", Codes.UnknownChannel));
  const existing = host.state.messages.get(messageId as string);
  if (!existing || existing.channel_id !== channelId)
    return reply(404, error("Unknown Message", Codes.UnknownMessage));
  if (method === "GET") return reply(200, host.state.messagePayload(existing));
  if (invalid("message_edit")) return;
  reply(
    200,
    host.state.messagePayload(host.state.editMessage(existing.id, body as Record<string, unknown>, files)),
  );
}

const guildOf = (host: RestHost, channelId: string | undefined) =>
  host.guilds.find((g) => g.channels.some((c) => c.id === channelId));

/** One request as the server answered it: when it arrived, and whether it carried the bot's token. */
export interface RequestLogEntry {
  method: string;
  route: string;
  status: number;
  at: number;
  lane: "bot" | "interaction";
}

/** Serves /api/v10 and keeps what tests look at: the request log, schema violations, injected faults. */
export class RestApi {
  readonly violations: Violation[] = [];
  readonly requestLog: RequestLogEntry[] = [];
  /** Count of REST bodies checked against the official schemas. */
  validatedRequests = 0;
  private readonly faults: Fault[] = [];
  /** Discord's global limit on bot-token requests per second, when a test asks for it to be enforced. */
  private globalLimit: number | undefined;
  /** When the bot-token requests of the last second arrived (for the global limit). */
  private readonly botRequestTimes: number[] = [];

  constructor(
    private readonly host: RestHost,
    /** Larger bodies are answered with 413 without being read. */
    private readonly maxBodyBytes: number,
  ) {}

  injectFault(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /**
   * Answers bot-token requests beyond `perSecond` in any second with a global 429, as Discord does past its
   * 50 a second; interaction-token requests are not counted, as Discord does not count them.
   */
  enforceGlobalLimit(perSecond: number): void {
    this.globalLimit = perSecond;
  }

  /** Answers one request; `route` is its decoded path after /api/v10. */
  async handle(req: IncomingMessage, res: ServerResponse, route: string, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    const arrived = Date.now();
    const lane = req.headers.authorization === undefined ? "interaction" : "bot";
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.requestLog.push({ method, route, status, at: arrived, lane });
      if (body === undefined) res.writeHead(status, headers).end();
      else sendJson(res, status, body, headers);
    };

    const fault = this.faults.find((f) => f.method === method && f.path.test(route));
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      if (fault.status === 429) {
        const retryAfter = fault.retryAfterSeconds ?? 0.2;
        return reply(
          429,
          { message: "You are being rate limited.", retry_after: retryAfter, global: false },
          { "Retry-After": String(Math.ceil(retryAfter)), "X-RateLimit-Scope": "user" },
        );
      }
      return reply(fault.status, error("Server error", 0));
    }

    // Interaction routes are authorised by the token in their path and come without a header; a header that
    // is sent must still be the bot's. Everything else needs the bot token.
    const isInteractionRoute = route.startsWith("/interactions/") || route.startsWith("/webhooks/");
    const auth = req.headers.authorization;
    if ((auth !== undefined || !isInteractionRoute) && auth !== `Bot ${this.host.token}`) {
      return reply(401, error("401: Unauthorized", 0));
    }

    if (lane === "bot" && this.globalLimit !== undefined) {
      while (this.botRequestTimes.length > 0 && (this.botRequestTimes[0] as number) <= arrived - 1000) {
        this.botRequestTimes.shift();
      }
      if (this.botRequestTimes.length >= this.globalLimit) {
        const retryAfter = ((this.botRequestTimes[0] as number) + 1000 - arrived) / 1000;
        return reply(
          429,
          { message: "You are being rate limited.", retry_after: retryAfter, global: true },
          {
            "Retry-After": String(Math.ceil(retryAfter)),
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
          },
        );
      }
      this.botRequestTimes.push(arrived);
    }

    // Only now, with the caller known, is the body read, and only up to the cap.
    let body: unknown;
    let files: UploadedFile[] = [];
    try {
      ({ body, files } = await parseBody(req, await readBody(req, this.maxBodyBytes)));
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        return reply(413, error("Request entity too large", Codes.RequestEntityTooLarge), {
          Connection: "close",
        });
      }
      return reply(
        400,
        error(`Invalid body: ${(err as Error).message}`, Codes.RequestBodyContainsInvalidJSON),
      );
    }

    for (const r of ROUTES) {
      const match = r.method === method ? r.path.exec(route) : null;
      if (!match) continue;
      const invalid = (kind: BodyKind) => {
        this.validatedRequests++;
        const problems = validateBody(kind, body);
        if (problems.length === 0) return false;
        this.violations.push({ method, route, problems });
        reply(400, { ...error("Invalid Form Body", Codes.InvalidFormBodyOrContentType), errors: problems });
        return true;
      };
      return r.handle({
        host: this.host,
        method,
        route,
        url,
        params: match.slice(1),
        body,
        files,
        reply,
        invalid,
      });
    }
    reply(404, error("404: Not Found", 0));
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
}
