// The sandbox's web page and the small API behind it: the channel as a chosen member sees it, live updates by
// server-sent events, and slash commands and button presses sent as that member.
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { MessageFlags } from "discord-api-types/v10";
import { BodyTooLargeError, readBody } from "./body.ts";
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

export function attachWebUi(sandbox: DiscordSandbox): void {
  const page = readFileSync(PAGE);
  sandbox.setMaxListeners(0);
  sandbox.pageHandler = async (req, res, url) => {
    const method = req.method ?? "GET";
    if (method === "GET" && url.pathname === "/") {
      res
        .writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" })
        .end(page);
      return true;
    }
    if (!url.pathname.startsWith("/ui/")) return false;
    const viewer = person(url.searchParams.get("user"));
    const guild = guildOf(sandbox, url.searchParams.get("guild"));
    const channel = guild.channels[0] ?? sandbox.channel;

    if (method === "GET" && url.pathname === "/ui/state") {
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

    if (method === "GET" && url.pathname === "/ui/events") {
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

    if (method === "POST" && ["/ui/command", "/ui/button", "/ui/autocomplete"].includes(url.pathname)) {
      // Acting as a member needs the sandbox's own page: a form or a fetch from another site either carries a
      // foreign Origin or cannot send application/json without a preflight that this server never allows.
      if (!hasOwnOrigin(req, sandbox.port)) return send(res, 403, { error: "only the sandbox's own page" });
      if (!isJson(req)) return send(res, 415, { error: "the body must be application/json" });
      let body: Record<string, unknown>;
      try {
        body = await readJson(req);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          res.writeHead(413, { "Content-Type": "application/json", Connection: "close" });
          res.end(JSON.stringify({ error: err.message }));
          return true;
        }
        return send(res, 400, { error: (err as Error).message });
      }
      const actor = person(typeof body.user === "string" ? body.user : null);
      if (!actor) return send(res, 400, { error: "unknown user" });
      try {
        if (url.pathname === "/ui/button") {
          const message = sandbox.messages.get(String(body.messageId));
          if (!message) return send(res, 404, { error: "no such message" });
          sandbox.pressButton({
            message,
            customId: String(body.customId),
            user: actor,
            permissions: actor.permissions,
          });
          return send(res, 202, {});
        }
        const input = {
          command: String(body.command),
          options: (body.options ?? {}) as Record<string, string | number | boolean>,
          user: actor,
          permissions: actor.permissions,
          guildId: guildOf(sandbox, body.guild).id,
          channelId: guildOf(sandbox, body.guild).channels[0]?.id ?? sandbox.channel.id,
        };
        if (url.pathname === "/ui/command") {
          sandbox.runCommand(input);
          return send(res, 202, {});
        }
        const interaction = sandbox.runCommand({ ...input, focused: String(body.focused) });
        const choices = await sandbox
          .waitFor(() => interaction.autocompleteChoices, 3000, "choices")
          .catch(() => []);
        return send(res, 200, { choices });
      } catch (err) {
        return send(res, 400, { error: (err as Error).message });
      }
    }
    return false;
  };
}
