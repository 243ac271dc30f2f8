// A local Discord-compatible server (REST under /api/v10 and a JSON gateway) that the real discord.js client
// logs into. Tests, the benchmark and sandbox mode drive the bot through it: no Discord account, no network.
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { BodyTooLargeError, parseBody, readBody, type UploadedFile } from "./body.ts";
import { isOwnHost, originAllowed } from "./request-guard.ts";
import { snowflake } from "./snowflake.ts";
import { type BodyKind, validateBody } from "./validation.ts";

export const PERMISSIONS = {
  SEND_MESSAGES: 1n << 11n,
  EMBED_LINKS: 1n << 14n,
  ATTACH_FILES: 1n << 15n,
  MANAGE_MESSAGES: 1n << 13n,
  MANAGE_GUILD: 1n << 5n,
  VIEW_CHANNEL: 1n << 10n,
  USE_APPLICATION_COMMANDS: 1n << 31n,
} as const;

/** What an ordinary member may do in the sandbox guild. */
export const MEMBER_PERMISSIONS =
  PERMISSIONS.VIEW_CHANNEL |
  PERMISSIONS.SEND_MESSAGES |
  PERMISSIONS.EMBED_LINKS |
  PERMISSIONS.ATTACH_FILES |
  PERMISSIONS.USE_APPLICATION_COMMANDS;
export const MODERATOR_PERMISSIONS = MEMBER_PERMISSIONS | PERMISSIONS.MANAGE_MESSAGES;

const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;
const HEARTBEAT_INTERVAL = 41_250;
/** Room for the largest upload an interaction allows by default (10 MiB) twice over, plus the form around it. */
const DEFAULT_MAX_BODY = 32 * 1024 * 1024;
/** Gateway frames from a bot are small (IDENTIFY is the largest); Discord itself allows 4 KiB. */
const MAX_GATEWAY_FRAME = 64 * 1024;
const MESSAGE_FLAG_EPHEMERAL = 64;
const MESSAGE_FLAG_LOADING = 128;

export interface SandboxUser {
  id: string;
  username: string;
  global_name?: string;
}

export interface SandboxChannel {
  id: string;
  name: string;
}

export interface SandboxGuild {
  id: string;
  name: string;
  channels: SandboxChannel[];
}

export interface StoredAttachment {
  id: string;
  filename: string;
  size: number;
  content_type: string | undefined;
  url: string;
  data: Buffer;
}

export interface StoredMessage {
  id: string;
  channel_id: string;
  guild_id: string | undefined;
  author: SandboxUser & { bot: boolean };
  content: string;
  components: unknown[];
  embeds: unknown[];
  attachments: StoredAttachment[];
  flags: number;
  timestamp: string;
  edited_timestamp: string | null;
  /** Set on ephemeral messages: only this user sees them. */
  visible_to: string | undefined;
  interaction_id: string | undefined;
  /** Every version of the message, oldest first: how edits arrived. */
  revisions: number;
}

export interface Violation {
  method: string;
  route: string;
  problems: string[];
}

export interface Fault {
  method: string;
  /** Matched against the path after /api/v10. */
  path: RegExp;
  status: 429 | 500 | 502 | 503;
  retryAfterSeconds?: number;
  /** How many requests the fault answers; 1 by default. */
  times?: number;
}

export interface SandboxInteraction {
  id: string;
  token: string;
  type: 2 | 3 | 4;
  user: SandboxUser;
  channelId: string;
  guildId: string | undefined;
  createdAt: number;
  /** The callback the bot sent, once it has. */
  callback: { type: number; data: unknown } | undefined;
  /** For a button press: the message the button is on. */
  sourceMessageId: string | undefined;
  /** What @original refers to: the reply (after callback 4 or 5), or the button's message (after 6 or 7). */
  originalMessageId: string | undefined;
  followUpIds: string[];
  autocompleteChoices: unknown[] | undefined;
}

export interface RegisteredCommand {
  id: string;
  name: string;
  description: string;
  options?: CommandOption[];
  default_member_permissions?: string | null;
  guild_id?: string;
}

export interface CommandOption {
  type: number;
  name: string;
  description?: string;
  required?: boolean;
  autocomplete?: boolean;
  choices?: Array<{ name: string; value: string | number }>;
  options?: CommandOption[];
}

export interface SandboxOptions {
  /** The bot token the server accepts; random for this run when not given. */
  token?: string;
  /** Larger REST bodies are answered with 413; 32 MiB by default. */
  maxBodyBytes?: number;
  port?: number;
  applicationId?: string;
  botUser?: SandboxUser;
  guilds?: SandboxGuild[];
}

interface GatewaySession {
  id: string;
  seq: number;
  events: Array<{ s: number; t: string; d: unknown }>;
  socket: WebSocket | undefined;
}

export interface CommandInput {
  /** "character", or "reference show" for a subcommand. */
  command: string;
  options?: Record<string, string | number | boolean>;
  user: SandboxUser;
  guildId?: string | undefined;
  channelId?: string;
  permissions?: bigint;
  attachmentSizeLimit?: number;
  /** For autocomplete: the option being typed. */
  focused?: string;
}

export class DiscordSandbox extends EventEmitter {
  readonly applicationId: string;
  /** The one bot token this server accepts on REST and the gateway. */
  readonly token: string;
  readonly botUser: SandboxUser;
  readonly guilds: SandboxGuild[];
  readonly messages = new Map<string, StoredMessage>();
  readonly interactions = new Map<string, SandboxInteraction>();
  readonly violations: Violation[] = [];
  readonly globalCommands: RegisteredCommand[] = [];
  readonly guildCommands = new Map<string, RegisteredCommand[]>();
  /** Count of REST bodies checked against the official schemas. */
  validatedRequests = 0;
  readonly requestLog: Array<{ method: string; route: string; status: number }> = [];
  private readonly faults: Fault[] = [];
  private readonly expiredTokens = new Set<string>();
  /** Every member that has sent an interaction, for resolving user options. */
  private readonly knownUsers = new Map<string, SandboxUser>();
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly sockets = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_GATEWAY_FRAME });
  private origin = "";
  private boundPort = 0;
  /** Serves whatever is not the API or an attachment (sandbox mode's web page); returns true if it answered. */
  pageHandler:
    | ((req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean)
    | undefined;

  private constructor(
    private readonly server: Server,
    private readonly options: SandboxOptions,
  ) {
    super();
    this.token = options.token ?? randomBytes(32).toString("base64url");
    this.applicationId = options.applicationId ?? snowflake();
    this.botUser = options.botUser ?? { id: this.applicationId, username: "Character Bot" };
    const guildId = snowflake();
    this.guilds = options.guilds ?? [
      { id: guildId, name: "Sandbox Guild", channels: [{ id: snowflake(), name: "general" }] },
    ];
  }

  static async start(options: SandboxOptions): Promise<DiscordSandbox> {
    const server = createServer();
    const sandbox = new DiscordSandbox(server, options);
    server.on("request", (req, res) => {
      sandbox.handleHttp(req, res).catch((err: unknown) => {
        // A bug in a handler answers 500 and is reported; it never takes the process down.
        if (sandbox.listenerCount("error") > 0) sandbox.emit("error", err);
        else console.error("sandbox: request failed", err);
        if (!res.headersSent) sendJson(res, 500, { message: "sandbox error", code: 0 });
        else res.end();
      });
    });
    server.on("upgrade", (req, socket, head) => {
      socket.on("error", () => socket.destroy());
      const refusal = !req.url?.startsWith("/gateway")
        ? "404 Not Found"
        : !isOwnHost(req, sandbox.boundPort) || !originAllowed(req, sandbox.boundPort)
          ? "403 Forbidden"
          : undefined;
      if (refusal) {
        socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      sandbox.wss.handleUpgrade(req, socket, head, (ws) => sandbox.handleGateway(ws));
    });
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
    sandbox.boundPort = (server.address() as AddressInfo).port;
    sandbox.origin = `http://127.0.0.1:${sandbox.boundPort}`;
    return sandbox;
  }

  /** The REST base to hand the bot as DISCORD_API_URL. */
  get apiUrl(): string {
    return `${this.origin}/api`;
  }

  get url(): string {
    return this.origin;
  }

  /** The port the server listens on (127.0.0.1 only). */
  get port(): number {
    return this.boundPort;
  }

  get guild(): SandboxGuild {
    return this.guilds[0] as SandboxGuild;
  }

  get channel(): SandboxChannel {
    return this.guild.channels[0] as SandboxChannel;
  }

  /** Whether a bot is connected and identified on the gateway. */
  get connected(): boolean {
    return [...this.sessions.values()].some((s) => s.socket?.readyState === 1);
  }

  /** Makes an interaction's token invalid, as Discord does after 15 minutes: its webhook answers 50027. */
  expireInteraction(interaction: SandboxInteraction): void {
    this.expiredTokens.add(interaction.token);
  }

  injectFault(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Messages in a channel, oldest first, as `viewer` sees them (ephemeral ones only for their user). */
  channelMessages(channelId = this.channel.id, viewer?: string): StoredMessage[] {
    return [...this.messages.values()].filter(
      (m) => m.channel_id === channelId && (m.visible_to === undefined || m.visible_to === viewer),
    );
  }

  /** The message an interaction's @original points at. */
  original(interaction: SandboxInteraction): StoredMessage | undefined {
    return interaction.originalMessageId ? this.messages.get(interaction.originalMessageId) : undefined;
  }

  followUps(interaction: SandboxInteraction): StoredMessage[] {
    return interaction.followUpIds.map((id) => this.messages.get(id)).filter((m): m is StoredMessage => !!m);
  }

  commandsFor(guildId: string | undefined): RegisteredCommand[] {
    return [...this.globalCommands, ...((guildId && this.guildCommands.get(guildId)) || [])];
  }

  /** Sends a slash command (or, with `focused`, an autocomplete request) as `user`. */
  runCommand(input: CommandInput): SandboxInteraction {
    const [name, sub] = input.command.split(" ") as [string, string | undefined];
    const guildId = "guildId" in input ? input.guildId : this.guild.id;
    const command = this.commandsFor(guildId).find((c) => c.name === name);
    if (!command) throw new Error(`command /${name} is not registered`);
    const definitions = sub ? command.options?.find((o) => o.name === sub)?.options : command.options;
    if (sub && !command.options?.some((o) => o.name === sub))
      throw new Error(`/${name} has no subcommand ${sub}`);
    const values = Object.entries(input.options ?? {}).map(([key, value]) => {
      const definition = definitions?.find((o) => o.name === key);
      if (!definition) throw new Error(`/${input.command} has no option ${key}`);
      // As Discord does, the value arrives typed by the option's definition: integers and numbers as numbers.
      const typed =
        definition.type === 4 || definition.type === 10
          ? Number(value)
          : definition.type === 5
            ? value === true || value === "true"
            : value;
      return {
        type: definition.type,
        name: key,
        value: typed,
        ...(input.focused === key ? { focused: true } : {}),
      };
    });
    const options = sub ? [{ type: 1, name: sub, options: values }] : values;
    const type = input.focused ? 4 : 2;
    // User options come with the user objects, as Discord sends them under `resolved`.
    const userIds = values.filter((v) => v.type === 6).map((v) => String(v.value));
    const channelIds = values.filter((v) => v.type === 7).map((v) => String(v.value));
    const resolved =
      userIds.length || channelIds.length
        ? {
            resolved: {
              users: Object.fromEntries(
                userIds.map((id) => [
                  id,
                  this.userPayload(this.knownUsers.get(id) ?? { id, username: `user${id.slice(-4)}` }),
                ]),
              ),
              channels: Object.fromEntries(
                channelIds.map((id) => [
                  id,
                  {
                    id,
                    type: 0,
                    name: this.guilds.flatMap((g) => g.channels).find((c) => c.id === id)?.name ?? "unknown",
                    guild_id: guildId,
                    permissions: MEMBER_PERMISSIONS.toString(),
                  },
                ]),
              ),
            },
          }
        : {};
    return this.dispatchInteraction(type, input, {
      id: command.id,
      name,
      type: 1,
      options,
      ...resolved,
      ...(guildId ? { guild_id: guildId } : {}),
    });
  }

  /** Presses a button on a stored message as `user`. */
  pressButton(input: {
    message: StoredMessage;
    customId: string;
    user: SandboxUser;
    permissions?: bigint;
  }): SandboxInteraction {
    return this.dispatchInteraction(
      3,
      { ...input, guildId: input.message.guild_id, channelId: input.message.channel_id },
      { custom_id: input.customId, component_type: 2 },
      input.message,
    );
  }

  /** Closes the bot's gateway connections as a network failure would; the client resumes. */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Asks the bot to reconnect (op 7), as Discord does during maintenance. */
  requestReconnect(): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ op: 7, d: null }));
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Polls until `check` returns a value that is not undefined/false, or throws after `timeoutMs`. */
  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = "condition"): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private dispatchInteraction(
    type: 2 | 3 | 4,
    input: Omit<CommandInput, "command"> & { guildId?: string | undefined },
    data: Record<string, unknown>,
    message?: StoredMessage,
  ): SandboxInteraction {
    const guildId = "guildId" in input ? input.guildId : this.guild.id;
    const channelId =
      input.channelId ??
      (guildId ? this.guilds.find((g) => g.id === guildId)?.channels[0]?.id : undefined) ??
      snowflake();
    const interaction: SandboxInteraction = {
      id: snowflake(),
      token: `sandbox-${randomBytes(24).toString("base64url")}`,
      type,
      user: input.user,
      channelId,
      guildId,
      createdAt: Date.now(),
      callback: undefined,
      sourceMessageId: message?.id,
      originalMessageId: undefined,
      followUpIds: [],
      autocompleteChoices: undefined,
    };
    this.interactions.set(interaction.id, interaction);
    const user = { ...this.userPayload(input.user) };
    const permissions = (input.permissions ?? MEMBER_PERMISSIONS).toString();
    const payload = {
      id: interaction.id,
      application_id: this.applicationId,
      type,
      token: interaction.token,
      version: 1,
      data,
      channel_id: channelId,
      channel: {
        id: channelId,
        type: guildId ? 0 : 1,
        ...(guildId ? { guild_id: guildId, name: "general" } : {}),
      },
      ...(guildId
        ? {
            guild_id: guildId,
            guild: { id: guildId, locale: "en-US", features: [] },
            member: {
              user,
              roles: [],
              permissions,
              joined_at: new Date(0).toISOString(),
              deaf: false,
              mute: false,
              flags: 0,
              nick: null,
              avatar: null,
            },
          }
        : { user }),
      app_permissions: (MEMBER_PERMISSIONS | PERMISSIONS.MANAGE_MESSAGES).toString(),
      locale: "en-US",
      guild_locale: "en-US",
      entitlements: [],
      authorizing_integration_owners: guildId ? { "0": guildId } : { "1": input.user.id },
      context: guildId ? 0 : 1,
      attachment_size_limit: input.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_LIMIT,
      ...(message ? { message: this.messagePayload(message) } : {}),
    };
    this.dispatch("INTERACTION_CREATE", payload);
    return interaction;
  }

  private userPayload(user: SandboxUser, bot = false) {
    return {
      id: user.id,
      username: user.username,
      global_name: user.global_name ?? user.username,
      discriminator: "0",
      avatar: null,
      ...(bot ? { bot: true } : {}),
    };
  }

  /** A stored message as the API returns it. */
  messagePayload(m: StoredMessage) {
    return {
      id: m.id,
      channel_id: m.channel_id,
      ...(m.guild_id ? { guild_id: m.guild_id } : {}),
      author: this.userPayload(m.author, m.author.bot),
      content: m.content,
      timestamp: m.timestamp,
      edited_timestamp: m.edited_timestamp,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: m.attachments.map(({ data: _data, ...a }) => a),
      embeds: m.embeds,
      components: m.components,
      pinned: false,
      type: m.interaction_id ? 20 : 0,
      flags: m.flags,
      ...(m.interaction_id ? { application_id: this.applicationId, webhook_id: this.applicationId } : {}),
    };
  }

  // --- gateway -----------------------------------------------------------------------------------------

  private handleGateway(ws: WebSocket): void {
    this.sockets.add(ws);
    let session: GatewaySession | undefined;
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: HEARTBEAT_INTERVAL } }));
    // A bad frame (too large, not WebSocket) closes that connection; the socket reports it here, not to the process.
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      this.sockets.delete(ws);
      if (session?.socket === ws) session.socket = undefined;
    });
    ws.on("message", (raw) => {
      let frame: { op: number; d: Record<string, unknown> | null };
      try {
        frame = JSON.parse(String(raw));
      } catch {
        return ws.close(4002, "Decode error");
      }
      if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
        return ws.close(4002, "Decode error");
      }
      switch (frame.op) {
        case 1:
          ws.send(JSON.stringify({ op: 11, d: null }));
          break;
        case 2: {
          if (frame.d?.token !== this.token) return ws.close(4004, "Authentication failed");
          session = { id: randomBytes(16).toString("hex"), seq: 0, events: [], socket: ws };
          this.sessions.set(session.id, session);
          const gatewayUrl = `${this.origin.replace("http", "ws")}/gateway`;
          this.send(session, "READY", {
            v: 10,
            user: this.userPayload(this.botUser, true),
            guilds: this.guilds.map((g) => ({ id: g.id, unavailable: true })),
            session_id: session.id,
            resume_gateway_url: gatewayUrl,
            application: { id: this.applicationId, flags: 0 },
            shard: [0, 1],
          });
          for (const guild of this.guilds) this.send(session, "GUILD_CREATE", this.guildPayload(guild));
          this.emit("ready");
          break;
        }
        case 6: {
          const d = frame.d as { token?: string; session_id?: string; seq?: number } | null;
          const resumed = d?.session_id ? this.sessions.get(d.session_id) : undefined;
          if (!resumed || d?.token !== this.token) {
            ws.send(JSON.stringify({ op: 9, d: false }));
            return;
          }
          session = resumed;
          session.socket = ws;
          for (const event of session.events.filter((e) => e.s > (d.seq ?? 0))) {
            ws.send(JSON.stringify({ op: 0, ...event }));
          }
          this.send(session, "RESUMED", {});
          break;
        }
        default:
          break;
      }
    });
  }

  private guildPayload(guild: SandboxGuild) {
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      owner_id: snowflake(),
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: [
        {
          id: guild.id,
          name: "@everyone",
          permissions: MEMBER_PERMISSIONS.toString(),
          position: 0,
          color: 0,
        },
      ],
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      system_channel_flags: 0,
      premium_tier: 0,
      preferred_locale: "en-US",
      nsfw_level: 0,
      joined_at: new Date(0).toISOString(),
      large: false,
      unavailable: false,
      member_count: 3,
      members: [],
      voice_states: [],
      presences: [],
      threads: [],
      stage_instances: [],
      guild_scheduled_events: [],
      channels: guild.channels.map((c, position) => ({
        id: c.id,
        type: 0,
        name: c.name,
        guild_id: guild.id,
        position,
        permission_overwrites: [],
      })),
    };
  }

  private send(session: GatewaySession, t: string, d: unknown): void {
    session.seq += 1;
    const event = { s: session.seq, t, d };
    session.events.push(event);
    if (session.events.length > 1000) session.events.shift();
    session.socket?.send(JSON.stringify({ op: 0, ...event }));
  }

  private dispatch(t: string, d: unknown): void {
    const live = [...this.sessions.values()].filter((s) => s.socket);
    const target = live.at(-1) ?? [...this.sessions.values()].at(-1);
    if (!target) throw new Error("no bot has connected to the sandbox gateway");
    this.send(target, t, d); // kept for RESUME when the socket is down
  }

  // --- REST --------------------------------------------------------------------------------------------

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isOwnHost(req, this.boundPort) || !originAllowed(req, this.boundPort)) {
      return sendJson(res, 403, {
        message: "403: Forbidden (not the sandbox's own host or origin)",
        code: 0,
      });
    }
    let url: URL;
    let path: string;
    try {
      url = new URL(req.url ?? "/", this.origin);
      path = decodeURIComponent(url.pathname);
    } catch {
      return sendJson(res, 400, { message: "400: Bad Request (malformed path)", code: 0 });
    }
    if (path.startsWith("/attachments/")) return this.serveAttachment(path, res);
    if (!path.startsWith("/api/v10/")) {
      if (await this.pageHandler?.(req, res, url)) return;
      return sendJson(res, 404, { message: "404: Not Found", code: 0 });
    }
    const route = path.slice("/api/v10".length);
    const method = req.method ?? "GET";
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.requestLog.push({ method, route, status });
      if (body === undefined) {
        res.writeHead(status, headers).end();
      } else {
        sendJson(res, status, body, headers);
      }
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
      return reply(fault.status, { message: "Server error", code: 0 });
    }

    const isInteractionRoute = route.startsWith("/interactions/") || route.startsWith("/webhooks/");
    const auth = req.headers.authorization;
    if ((auth !== undefined || !isInteractionRoute) && auth !== `Bot ${this.token}`) {
      return reply(401, { message: "401: Unauthorized", code: 0 });
    }

    // Only now, with the caller known, is the body read, and only up to the cap.
    let body: unknown;
    let files: UploadedFile[] = [];
    try {
      ({ body, files } = await parseBody(
        req,
        await readBody(req, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY),
      ));
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        return reply(413, { message: "Request entity too large", code: 40005 }, { Connection: "close" });
      }
      return reply(400, { message: `Invalid body: ${(err as Error).message}`, code: 50109 });
    }
    const invalid = (kind: BodyKind) => {
      this.validatedRequests++;
      const problems = validateBody(kind, body);
      if (problems.length === 0) return false;
      this.violations.push({ method, route, problems });
      reply(400, { message: "Invalid Form Body", code: 50035, errors: problems });
      return true;
    };

    if (method === "GET" && route === "/gateway/bot") {
      return reply(200, {
        url: `${this.origin.replace("http", "ws")}/gateway`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
    }
    if (method === "GET" && route === "/gateway")
      return reply(200, { url: `${this.origin.replace("http", "ws")}/gateway` });
    if (method === "GET" && route === "/users/@me") return reply(200, this.userPayload(this.botUser, true));
    if (method === "GET" && (route === "/applications/@me" || route === "/oauth2/applications/@me")) {
      return reply(200, { id: this.applicationId, name: this.botUser.username, flags: 0, bot_public: true });
    }

    const commandsRoute = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(route);
    if (commandsRoute) {
      const m = commandsRoute;
      if (m[1] !== this.applicationId) return reply(404, { message: "Unknown Application", code: 10002 });
      const guildId = m[2];
      if (method === "GET")
        return reply(200, guildId ? (this.guildCommands.get(guildId) ?? []) : this.globalCommands);
      if (method === "PUT") {
        if (invalid("commands_overwrite")) return;
        const commands = (body as Array<Omit<RegisteredCommand, "id">>).map((c) => ({
          ...c,
          id: snowflake(),
          application_id: this.applicationId,
          version: snowflake(),
          ...(guildId ? { guild_id: guildId } : {}),
        }));
        if (guildId) this.guildCommands.set(guildId, commands);
        else this.globalCommands.splice(0, this.globalCommands.length, ...commands);
        this.emit("commands", guildId);
        return reply(200, commands);
      }
    }

    const callbackRoute = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(route);
    if (method === "POST" && callbackRoute) {
      const m = callbackRoute;
      const interaction = this.interactions.get(m[1] as string);
      if (!interaction || interaction.token !== m[2])
        return reply(404, { message: "Unknown interaction", code: 10062 });
      if (interaction.callback) {
        return reply(400, { message: "Interaction has already been acknowledged.", code: 40060 });
      }
      if (invalid("interaction_callback")) return;
      const callback = body as { type: number; data?: Record<string, unknown> };
      interaction.callback = { type: callback.type, data: callback.data };
      if (callback.type === 4 || callback.type === 5) {
        const flags = Number(callback.data?.flags ?? 0) | (callback.type === 5 ? MESSAGE_FLAG_LOADING : 0);
        const message = this.createMessage(
          interaction.channelId,
          interaction.guildId,
          {
            ...(callback.data ?? {}),
            flags,
          },
          files,
          interaction,
        );
        interaction.originalMessageId = message.id;
      } else if ((callback.type === 6 || callback.type === 7) && interaction.sourceMessageId) {
        interaction.originalMessageId = interaction.sourceMessageId;
        if (callback.type === 7) this.editMessage(interaction.sourceMessageId, callback.data ?? {}, files);
      } else if (callback.type === 8) {
        interaction.autocompleteChoices = (callback.data?.choices as unknown[]) ?? [];
      }
      this.emit("interaction-callback", interaction);
      return url.searchParams.get("with_response") === "true"
        ? reply(200, {
            interaction: { id: interaction.id, type: interaction.type },
            resource: { type: callback.type },
          })
        : reply(204);
    }

    const webhookRoute = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|\d+))?$/.exec(route);
    if (webhookRoute) {
      const m = webhookRoute;
      if (this.expiredTokens.has(m[2] as string)) {
        return reply(401, { message: "Invalid Webhook Token", code: 50027 });
      }
      const interaction = [...this.interactions.values()].find((i) => i.token === m[2]);
      if (m[1] !== this.applicationId || !interaction)
        return reply(404, { message: "Unknown Webhook", code: 10015 });
      const target = m[3] === "@original" ? interaction.originalMessageId : m[3];
      if (!m[3] && method === "POST") {
        if (invalid("webhook_create")) return;
        const message = this.createMessage(
          interaction.channelId,
          interaction.guildId,
          body as Record<string, unknown>,
          files,
          interaction,
        );
        interaction.followUpIds.push(message.id);
        return reply(200, this.messagePayload(message));
      }
      const existing = target ? this.messages.get(target) : undefined;
      if (!existing) return reply(404, { message: "Unknown Message", code: 10008 });
      if (method === "GET") return reply(200, this.messagePayload(existing));
      if (method === "DELETE") {
        this.messages.delete(existing.id);
        this.emit("message", existing);
        return reply(204);
      }
      if (method === "PATCH") {
        if (invalid("webhook_update")) return;
        return reply(
          200,
          this.messagePayload(this.editMessage(existing.id, body as Record<string, unknown>, files)),
        );
      }
    }

    const channelRoute = /^\/channels\/(\d+)\/messages(?:\/(\d+))?$/.exec(route);
    if (channelRoute) {
      const m = channelRoute;
      const channelId = m[1] as string;
      const guild = this.guilds.find((g) => g.channels.some((c) => c.id === channelId));
      if (!guild) return reply(404, { message: "Unknown Channel", code: 10003 });
      if (method === "POST" && !m[2]) {
        if (invalid("message_create")) return;
        const message = this.createMessage(channelId, guild.id, body as Record<string, unknown>, files);
        return reply(200, this.messagePayload(message));
      }
      const existing = m[2] ? this.messages.get(m[2]) : undefined;
      if (!existing || existing.channel_id !== channelId)
        return reply(404, { message: "Unknown Message", code: 10008 });
      if (method === "GET") return reply(200, this.messagePayload(existing));
      if (method === "PATCH") {
        if (invalid("message_edit")) return;
        return reply(
          200,
          this.messagePayload(this.editMessage(existing.id, body as Record<string, unknown>, files)),
        );
      }
    }

    reply(404, { message: "404: Not Found", code: 0 });
  }

  private createMessage(
    channelId: string,
    guildId: string | undefined,
    data: Record<string, unknown>,
    files: UploadedFile[],
    interaction?: SandboxInteraction,
  ): StoredMessage {
    const flags = Number(data.flags ?? 0);
    const message: StoredMessage = {
      id: snowflake(),
      channel_id: channelId,
      guild_id: guildId,
      author: { ...this.botUser, bot: true },
      content: String(data.content ?? ""),
      components: (data.components as unknown[]) ?? [],
      embeds: (data.embeds as unknown[]) ?? [],
      attachments: [],
      flags,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      visible_to: flags & MESSAGE_FLAG_EPHEMERAL && interaction ? interaction.user.id : undefined,
      interaction_id: interaction?.id,
      revisions: 1,
    };
    message.attachments = this.attachmentsFrom(message, data, files);
    this.messages.set(message.id, message);
    this.emit("message", message);
    return message;
  }

  private editMessage(id: string, data: Record<string, unknown>, files: UploadedFile[]): StoredMessage {
    const message = this.messages.get(id) as StoredMessage;
    if ("content" in data) message.content = String(data.content ?? "");
    if ("components" in data) message.components = (data.components as unknown[]) ?? [];
    if ("embeds" in data) message.embeds = (data.embeds as unknown[]) ?? [];
    if ("attachments" in data || files.length > 0)
      message.attachments = this.attachmentsFrom(message, data, files);
    message.flags &= ~MESSAGE_FLAG_LOADING;
    message.edited_timestamp = new Date().toISOString();
    message.revisions += 1;
    this.emit("message", message);
    return message;
  }

  /**
   * Discord's rules for `attachments` on create and edit: an entry with the id of an existing attachment keeps
   * it; an entry whose id is a number n refers to the uploaded part `files[n]`; existing attachments not
   * listed are removed. Without an `attachments` field, uploads are added to what is there.
   */
  private attachmentsFrom(
    message: StoredMessage,
    data: Record<string, unknown>,
    files: UploadedFile[],
  ): StoredAttachment[] {
    const store = (file: { filename: string; type: string; data: Buffer }, filename = file.filename) => {
      const id = snowflake();
      return {
        id,
        filename,
        size: file.data.length,
        content_type: file.type || undefined,
        url: `${this.origin}/attachments/${message.channel_id}/${id}/${encodeURIComponent(filename)}`,
        data: file.data,
      };
    };
    const listed = data.attachments as Array<{ id: string | number; filename?: string }> | undefined;
    if (!listed) return [...message.attachments, ...files.map((f) => store(f))];
    return listed.flatMap((entry) => {
      const kept = message.attachments.find((a) => a.id === String(entry.id));
      if (kept) return [kept];
      const upload = files.find((f) => f.field === `files[${entry.id}]`);
      return upload ? [store(upload, entry.filename ?? upload.filename)] : [];
    });
  }

  private serveAttachment(path: string, res: ServerResponse): void {
    const [, , , id] = path.split("/");
    const attachment = [...this.messages.values()].flatMap((m) => m.attachments).find((a) => a.id === id);
    if (!attachment) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, {
        "Content-Type": attachment.content_type ?? "application/octet-stream",
        "Content-Length": attachment.size,
        "Cache-Control": "max-age=3600",
      })
      .end(attachment.data);
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
}
