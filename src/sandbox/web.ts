// The sandbox's web page and the small API behind it: the channel as a chosen member sees it, live updates by
// server-sent events, and slash commands, button presses and modal submissions sent as that member.
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { MessageFlags } from "discord-api-types/v10";
import { BodyTooLargeError, readBody } from "./body.ts";
import { modalOf } from "./modals.ts";
import { hasOwnOrigin, isJson } from "./request-guard.ts";
import {
  type DiscordSandbox,
  MEMBER_PERMISSIONS,
  MODERATOR_PERMISSIONS,
  type SandboxUser,
  type StoredMessage,
} from "./server.ts";

export interface SandboxPerson extends SandboxUser {
  label: string;
  permissions: bigint;
}

/** The people a visitor can switch between: two members and a moderator (Manage Messages). */
export const SANDBOX_PEOPLE: SandboxPerson[] = [
  { id: "900000000000000101", username: "alice", label: "Alice (member)", permissions: MEMBER_PERMISSIONS },
  { id: "900000000000000102", username: "bob", label: "Bob (member)", permissions: MEMBER_PERMISSIONS },
  {
    id: "900000000000000103",
    username: "mona",
    label: "Mona (moderator)",
    permissions: MODERATOR_PERMISSIONS,
  },
];

const PAGE = new URL("./web/index.html", import.meta.url);
const MAX_BODY = 64 * 1024;

function messageView(sandbox: DiscordSandbox, m: StoredMessage) {
  return {
    id: m.id,
    content: m.content,
    components: m.components,
    embeds: m.embeds,
    attachments: m.attachments.map(({ data: _data, url, ...a }) => ({ ...a, url: new URL(url).pathname })),
    ephemeral: m.visible_to !== undefined,
    loading: (m.flags & MessageFlags.Loading) !== 0,
    timestamp: m.timestamp,
    edited: m.edited_timestamp !== null,
    author: m.author.username,
    deleted: !sandbox.messages.has(m.id),
  };
}

const person = (id: string | null) => SANDBOX_PEOPLE.find((p) => p.id === id);

/** The guild a visitor looks at (`guild` in the query or body); the first one unless another is named. */
const guildOf = (sandbox: DiscordSandbox, id: unknown) =>
  sandbox.guilds.find((g) => g.id === id) ?? sandbox.guild;

function send(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  return true;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, MAX_BODY);
  const parsed = JSON.parse(raw.toString("utf8") || "{}") as unknown;
  if (typeof parsed !== "object" || parsed === null) throw new Error("expected a JSON object");
  return parsed as Record<string, unknown>;
}

/** One request to the page's API. */
interface UiCall {
  sandbox: DiscordSandbox;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

/** A request to act as a member, once its guard and body passed: what it asks, and who asks it. */
interface MemberRequest {
  body: Record<string, unknown>;
  actor: SandboxPerson;
}

interface UiRoute {
  method: "GET" | "POST";
  path: string;
  handle(call: UiCall): Promise<true> | true;
}

/** The page's API: reading the channel as a member, and acting as one. */
const UI_ROUTES: UiRoute[] = [
  { method: "GET", path: "/ui/state", handle: channelState },
  { method: "GET", path: "/ui/events", handle: channelEvents },
  { method: "POST", path: "/ui/command", handle: asMember(sendCommand) },
  { method: "POST", path: "/ui/button", handle: asMember(pressButton) },
  { method: "POST", path: "/ui/autocomplete", handle: asMember(autocomplete) },
  { method: "POST", path: "/ui/modal", handle: asMember(submitModal) },
];

export function attachWebUi(sandbox: DiscordSandbox): void {
  const page = readFileSync(PAGE);
  sandbox.setMaxListeners(0);
  sandbox.pageHandler = (req, res, url) => {
    const method = req.method ?? "GET";
    if (method === "GET" && url.pathname === "/") {
      res
        .writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" })
        .end(page);
      return true;
    }
    const route = UI_ROUTES.find((r) => r.method === method && r.path === url.pathname);
    return route ? route.handle({ sandbox, req, res, url }) : false;
  };
}

/** The channel a visitor looks at (`guild` and `user` in the query), as that member sees it. */
function viewOf({ sandbox, url }: UiCall) {
  const viewer = person(url.searchParams.get("user"));
  const guild = guildOf(sandbox, url.searchParams.get("guild"));
  const channel = guild.channels[0] ?? sandbox.channel;
  return { viewer, guild, channel };
}

/** GET /ui/state: the guild, its channel's messages, the people and the commands, for the page to draw. */
function channelState(call: UiCall): true {
  const { sandbox, res } = call;
  const { viewer, guild, channel } = viewOf(call);
  return send(res, 200, {
    guild: { id: guild.id, name: guild.name },
    // With several gateway shards (SANDBOX_SHARDS) there is a guild on each, and the page can switch.
    guilds: sandbox.guilds.map((g) => ({ id: g.id, name: g.name, shard: sandbox.shardOf(g.id) })),
    channel,
    people: SANDBOX_PEOPLE.map(({ permissions, ...p }) => ({
      ...p,
      moderator: permissions === MODERATOR_PERMISSIONS,
    })),
    commands: sandbox.commandsFor(guild.id),
    messages: sandbox.channelMessages(channel.id, viewer?.id).map((m) => messageView(sandbox, m)),
  });
}

/** GET /ui/events: server-sent events for the messages the viewer sees in the channel, and new commands. */
function channelEvents(call: UiCall): true {
  const { sandbox, req, res } = call;
  const { viewer, channel } = viewOf(call);
  if (!viewer) return send(res, 400, { error: "unknown user" });
  res.writeHead(200, {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-store",
    Connection: "keep-alive",
  });
  res.write(": connected\n\n");
  const onMessage = (m: StoredMessage) => {
    if (m.channel_id !== channel.id || (m.visible_to !== undefined && m.visible_to !== viewer.id)) return;
    res.write(`event: message\ndata: ${JSON.stringify(messageView(sandbox, m))}\n\n`);
  };
  const onCommands = () => res.write("event: commands\ndata: {}\n\n");
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
  sandbox.on("message", onMessage);
  sandbox.on("commands", onCommands);
  req.on("close", () => {
    clearInterval(keepAlive);
    sandbox.off("message", onMessage);
    sandbox.off("commands", onCommands);
  });
  return true;
}

/**
 * A route that acts as a member: only from the sandbox's own page, with a JSON body naming one of the people.
 * A bot-side refusal (no such command, no bot connected) is the page's 400.
 */
function asMember(act: (call: UiCall, request: MemberRequest) => Promise<true> | true) {
  return async (call: UiCall): Promise<true> => {
    const request = await memberRequest(call);
    if (!request) return true;
    try {
      return await act(call, request);
    } catch (err) {
      return send(call.res, 400, { error: (err as Error).message });
    }
  };
}

/** The request's body and actor, or undefined once a refusal (403, 415, 413, 400) is sent. */
async function memberRequest({ sandbox, req, res }: UiCall): Promise<MemberRequest | undefined> {
  // Acting as a member needs the sandbox's own page: a form or a fetch from another site either carries a
  // foreign Origin or cannot send application/json without a preflight that this server never allows.
  if (!hasOwnOrigin(req, sandbox.port)) return refused(res, 403, "only the sandbox's own page");
  if (!isJson(req)) return refused(res, 415, "the body must be application/json");
  let body: Record<string, unknown>;
  try {
    body = await readJson(req);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      res.writeHead(413, { "Content-Type": "application/json", Connection: "close" });
      res.end(JSON.stringify({ error: err.message }));
      return undefined;
    }
    return refused(res, 400, (err as Error).message);
  }
  const actor = person(typeof body.user === "string" ? body.user : null);
  if (!actor) return refused(res, 400, "unknown user");
  return { body, actor };
}

function refused(res: ServerResponse, status: number, error: string): undefined {
  send(res, status, { error });
  return undefined;
}

/** How long a press waits for the bot's answer, to hand the page a modal the bot opened (Discord's 3 s). */
const MODAL_WAIT_MS = 3000;

/**
 * POST /ui/button: presses a button on a stored message. When the bot answers with a modal, the page gets it
 * (`modal`, with the interaction's id to submit it with); otherwise a plain 202.
 */
async function pressButton({ sandbox, res }: UiCall, { body, actor }: MemberRequest): Promise<true> {
  const message = sandbox.messages.get(String(body.messageId));
  if (!message) return send(res, 404, { error: "no such message" });
  const interaction = sandbox.pressButton({
    message,
    customId: String(body.customId),
    user: actor,
    permissions: actor.permissions,
  });
  await sandbox.waitFor(() => interaction.callback, MODAL_WAIT_MS, "the answer").catch(() => undefined);
  const modal = modalOf(interaction);
  return send(res, 202, modal ? { modal: { ...modal, interactionId: interaction.id } } : {});
}

/** POST /ui/modal: submits the modal a press of this member's opened, with the text inputs' values. */
function submitModal({ sandbox, res }: UiCall, { body, actor }: MemberRequest): true {
  const opened = sandbox.interactions.get(String(body.interactionId));
  if (!opened || opened.user.id !== actor.id) return send(res, 404, { error: "no such modal" });
  const values = (body.values ?? {}) as Record<string, unknown>;
  const texts = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
  sandbox.submitModal(opened, texts, { permissions: actor.permissions });
  return send(res, 202, {});
}

/** The slash command a member sends, in the channel of the guild the body names. */
function commandInput(sandbox: DiscordSandbox, { body, actor }: MemberRequest) {
  const guild = guildOf(sandbox, body.guild);
  return {
    command: String(body.command),
    options: (body.options ?? {}) as Record<string, string | number | boolean>,
    user: actor,
    permissions: actor.permissions,
    guildId: guild.id,
    channelId: guild.channels[0]?.id ?? sandbox.channel.id,
  };
}

/** POST /ui/command: sends a slash command. */
function sendCommand({ sandbox, res }: UiCall, request: MemberRequest): true {
  sandbox.runCommand(commandInput(sandbox, request));
  return send(res, 202, {});
}

/** POST /ui/autocomplete: the choices the bot offers for the focused option (none after 3 s). */
async function autocomplete({ sandbox, res }: UiCall, request: MemberRequest): Promise<true> {
  const input = { ...commandInput(sandbox, request), focused: String(request.body.focused) };
  const interaction = sandbox.runCommand(input);
  const choices = await sandbox
    .waitFor(() => interaction.autocompleteChoices, 3000, "choices")
    .catch(() => []);
  return send(res, 200, { choices });
}
