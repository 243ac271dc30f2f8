// The local server's gateway: plain JSON frames over a WebSocket, as discord.js speaks them without zlib-sync.
// HELLO, IDENTIFY → READY and GUILD_CREATE, heartbeats, RESUME with replay, and dispatches to the bot.
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  ChannelType,
  GatewayCloseCodes,
  GatewayDispatchEvents,
  GatewayOpcodes,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildVerificationLevel,
} from "discord-api-types/v10";
import { type WebSocket, WebSocketServer } from "ws";
import { isOwnHost, originAllowed } from "./request-guard.ts";
import { snowflake } from "./snowflake.ts";
import { userPayload } from "./state.ts";
import { MEMBER_PERMISSIONS, type SandboxGuild, type SandboxUser } from "./types.ts";

const HEARTBEAT_INTERVAL = 41_250;
/** Gateway frames from a bot are small (IDENTIFY is the largest); Discord itself allows 4 KiB. */
const MAX_GATEWAY_FRAME = 64 * 1024;
/** Events kept per session for a RESUME to replay. */
const REPLAY_EVENTS = 1000;

interface GatewaySession {
  id: string;
  seq: number;
  events: Array<{ s: number; t: string; d: unknown }>;
  socket: WebSocket | undefined;
}

/** What the gateway needs from the server it belongs to. */
export interface GatewayHost {
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: SandboxUser;
  readonly guilds: SandboxGuild[];
  /** The port the server listens on, known once it does. */
  port(): number;
  /** Told "ready" when a bot has identified. */
  emit(event: "ready"): boolean;
}

export class SandboxGateway {
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly sockets = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_GATEWAY_FRAME });

  constructor(private readonly host: GatewayHost) {}

  /** The address handed out by GET /gateway/bot and in READY for resuming. */
  get url(): string {
    return `ws://127.0.0.1:${this.host.port()}/gateway`;
  }

  /** Whether a bot is connected and identified. */
  get connected(): boolean {
    return [...this.sessions.values()].some((s) => s.socket?.readyState === 1);
  }

  /**
   * Takes an HTTP upgrade: only on /gateway, only addressed to this server's own host, and with no Origin or
   * its own (the bot sends none; a browser page on another site sends its own and is refused).
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const refusal = !req.url?.startsWith("/gateway")
      ? "404 Not Found"
      : !isOwnHost(req, this.host.port()) || !originAllowed(req, this.host.port())
        ? "403 Forbidden"
        : undefined;
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  /** Closes the bot's connections as a network failure would; the client resumes. */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Asks the bot to reconnect, as Discord does during maintenance. */
  requestReconnect(): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ op: GatewayOpcodes.Reconnect, d: null }));
  }

  /** Sends an event to the newest session; kept for RESUME when its socket is down. */
  dispatch(t: string, d: unknown): void {
    const live = [...this.sessions.values()].filter((s) => s.socket);
    const target = live.at(-1) ?? [...this.sessions.values()].at(-1);
    if (!target) throw new Error("no bot has connected to the sandbox gateway");
    this.send(target, t, d);
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    this.sockets.add(ws);
    let session: GatewaySession | undefined;
    ws.send(JSON.stringify({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: HEARTBEAT_INTERVAL } }));
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
        return ws.close(GatewayCloseCodes.DecodeError, "Decode error");
      }
      if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
        return ws.close(GatewayCloseCodes.DecodeError, "Decode error");
      }
      switch (frame.op) {
        case GatewayOpcodes.Heartbeat:
          ws.send(JSON.stringify({ op: GatewayOpcodes.HeartbeatAck, d: null }));
          break;
        case GatewayOpcodes.Identify: {
          if (frame.d?.token !== this.host.token)
            return ws.close(GatewayCloseCodes.AuthenticationFailed, "Authentication failed");
          session = { id: randomBytes(16).toString("hex"), seq: 0, events: [], socket: ws };
          this.sessions.set(session.id, session);
          this.send(session, GatewayDispatchEvents.Ready, {
            v: 10,
            user: userPayload(this.host.botUser, true),
            guilds: this.host.guilds.map((g) => ({ id: g.id, unavailable: true })),
            session_id: session.id,
            resume_gateway_url: this.url,
            application: { id: this.host.applicationId, flags: 0 },
            shard: [0, 1],
          });
          for (const guild of this.host.guilds)
            this.send(session, GatewayDispatchEvents.GuildCreate, guildPayload(guild));
          this.host.emit("ready");
          break;
        }
        case GatewayOpcodes.Resume: {
          const d = frame.d as { token?: string; session_id?: string; seq?: number } | null;
          const resumed = d?.session_id ? this.sessions.get(d.session_id) : undefined;
          if (!resumed || d?.token !== this.host.token) {
            ws.send(JSON.stringify({ op: GatewayOpcodes.InvalidSession, d: false }));
            return;
          }
          session = resumed;
          session.socket = ws;
          for (const event of session.events.filter((e) => e.s > (d.seq ?? 0))) {
            ws.send(JSON.stringify({ op: GatewayOpcodes.Dispatch, ...event }));
          }
          this.send(session, GatewayDispatchEvents.Resumed, {});
          break;
        }
        default:
          break;
      }
    });
  }

  private send(session: GatewaySession, t: string, d: unknown): void {
    session.seq += 1;
    const event = { s: session.seq, t, d };
    session.events.push(event);
    if (session.events.length > REPLAY_EVENTS) session.events.shift();
    session.socket?.send(JSON.stringify({ op: GatewayOpcodes.Dispatch, ...event }));
  }
}

/** A guild as GUILD_CREATE carries it: enough for discord.js to cache the guild and its text channels. */
function guildPayload(guild: SandboxGuild) {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    owner_id: snowflake(),
    afk_timeout: 300,
    verification_level: GuildVerificationLevel.None,
    default_message_notifications: GuildDefaultMessageNotifications.AllMessages,
    explicit_content_filter: GuildExplicitContentFilter.Disabled,
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
    mfa_level: GuildMFALevel.None,
    system_channel_flags: 0,
    premium_tier: GuildPremiumTier.None,
    preferred_locale: "en-US",
    nsfw_level: GuildNSFWLevel.Default,
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
      type: ChannelType.GuildText,
      name: c.name,
      guild_id: guild.id,
      position,
      permission_overwrites: [],
    })),
  };
}
