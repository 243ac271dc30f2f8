// The routes of the local server's REST API, as a table: what discord.js calls, and what each one answers.
import {
  RESTJSONErrorCodes as Codes,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
} from "discord-api-types/v10";
import type { UploadedFile } from "./body.ts";
import { guildObject } from "./guild.ts";
import { type SandboxState, userPayload } from "./state.ts";
import type { RegisteredCommand, SandboxGuild, SandboxUser } from "./types.ts";
import type { BodyKind } from "./validation.ts";

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
export const error = (message: string, code: Codes | 0) => ({ message, code });

/** Follow-ups an interaction may have where the app answers without being a member (user installs). */
export const MAX_USER_INSTALL_FOLLOW_UPS = 5;

const COMMANDS = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/;
const WEBHOOK = /^\/webhooks\/(\d+)\/([^/]+)$/;
const WEBHOOK_MESSAGE = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/;
const CHANNEL_MESSAGES = /^\/channels\/(\d+)\/messages$/;
const CHANNEL_MESSAGE = /^\/channels\/(\d+)\/messages\/(\d+)$/;

export const ROUTES: Route[] = [
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
  { method: "POST", path: WEBHOOK, handle: webhookFollowUp },
  { method: "GET", path: WEBHOOK_MESSAGE, handle: (call) => webhookMessage(call) },
  { method: "DELETE", path: WEBHOOK_MESSAGE, handle: (call) => webhookMessage(call) },
  { method: "PATCH", path: WEBHOOK_MESSAGE, handle: (call) => webhookMessage(call) },
  {
    method: "POST",
    path: CHANNEL_MESSAGES,
    handle: ({ host, params: [channelId], body, files, reply, invalid }) => {
      const guild = guildOf(host, channelId);
      if (!guild) return reply(404, error("Unknown Channel", Codes.UnknownChannel));
      if (guild.botRemoved) return reply(403, error("Missing Access", Codes.MissingAccess));
      if (invalid("message_create")) return;
      // With enforce_nonce, a repeated nonce answers the message it created first (state.createOnce).
      const message = host.state.createOnce(
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
  {
    method: "GET",
    path: /^\/guilds\/(\d+)$/,
    handle: ({ host, params: [guildId], reply }) => {
      const guild = host.guilds.find((g) => g.id === guildId);
      if (!guild) return reply(404, error("Unknown Guild", Codes.UnknownGuild));
      if (guild.botRemoved) return reply(403, error("Missing Access", Codes.MissingAccess));
      reply(200, guildObject(guild));
    },
  },
  {
    method: "GET",
    path: /^\/guilds\/(\d+)\/roles$/,
    handle: ({ host, params: [guildId], reply }) => {
      const guild = host.guilds.find((g) => g.id === guildId);
      if (!guild) return reply(404, error("Unknown Guild", Codes.UnknownGuild));
      if (guild.botRemoved) return reply(403, error("Missing Access", Codes.MissingAccess));
      reply(200, guildObject(guild).roles);
    },
  },
];

/**
 * Interaction callbacks (types 4–9): the reply, a deferral, a button's update, autocomplete choices, a modal
 * (kept on the interaction's callback until the member submits it; see modals.ts).
 */
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
  if (
    callback.type === InteractionResponseType.Modal &&
    (interaction.type === InteractionType.ModalSubmit ||
      interaction.type === InteractionType.ApplicationCommandAutocomplete)
  ) {
    // Discord opens no modal in answer to a modal's submission or to autocomplete.
    return reply(
      400,
      error("Interaction callback type 9 is not allowed here", Codes.InvalidFormBodyOrContentType),
    );
  }
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

/** A follow-up through the interaction's webhook (or, for a deferral still "thinking", the reply itself). */
function webhookFollowUp(call: Call) {
  const interaction = webhookInteraction(call);
  if (!interaction || call.invalid("webhook_create")) return;
  const { host, body, files, reply } = call;
  const original = interaction.originalMessageId
    ? host.state.messages.get(interaction.originalMessageId)
    : undefined;
  if (original && (original.flags & MessageFlags.Loading) !== 0) {
    // As Discord does: the first follow-up of a deferred reply still "thinking" becomes that reply, with the
    // deferral's visibility whatever flags it asks for (an "ephemeral" follow-up of a public defer is public).
    const { flags: _ignored, ...data } = body as Record<string, unknown>;
    return reply(200, host.state.messagePayload(host.state.editMessage(original.id, data, files)));
  }
  if (interaction.interactionOnly && interaction.followUpIds.length >= MAX_USER_INSTALL_FOLLOW_UPS) {
    // Discord's limit for an app answering where it is not a member (a member's own install).
    return reply(
      400,
      error(
        "This interaction has hit the maximum number of follow up messages",
        Codes.ThisInteractionHasHitTheMaximumNumberOfFollowUpMessages,
      ),
    );
  }
  const message = host.state.createMessage(
    interaction.channelId,
    interaction.guildId,
    body as Record<string, unknown>,
    files,
    interaction,
  );
  interaction.followUpIds.push(message.id);
  reply(200, host.state.messagePayload(message));
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
  const guild = guildOf(host, channelId);
  if (!guild) return reply(404, error("Unknown Channel", Codes.UnknownChannel));
  if (guild.botRemoved) return reply(403, error("Missing Access", Codes.MissingAccess));
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
