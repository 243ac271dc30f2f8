// The local server's gateway: plain JSON frames over a WebSocket, as discord.js speaks them without zlib-sync.
// HELLO, IDENTIFY → READY and GUILD_CREATE, heartbeats, RESUME with replay, and dispatches to the bot. Sharded
// as Discord is: each IDENTIFY names its shard, and a guild's events go only to its shard's connection.
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { GatewayCloseCodes, GatewayDispatchEvents, GatewayOpcodes } from "discord-api-types/v10";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { channelPayload, guildObject } from "./guild.ts";
import { isOwnHost, originAllowed } from "./request-guard.ts";
import { shardOf } from "./snowflake.ts";
import { userPayload } from "./state.ts";
import type { SandboxGuild, SandboxUser } from "./types.ts";

const HEARTBEAT_INTERVAL = 41_250;
/** Gateway frames from a bot are small (IDENTIFY is the largest); Discord itself allows 4 KiB. */
const MAX_GATEWAY_FRAME = 64 * 1024;
/** Events kept per session for a RESUME to replay. */
const REPLAY_EVENTS = 1000;

interface GatewaySession {
  id: string;
  /** The shard this session was identified for: [id, count]. */
  shard: [number, number];
  seq: number;
  events: Array<{ s: number; t: string; d: unknown }>;
  socket: WebSocket | undefined;
}

/** One bot connection, and the session it identified or resumed as, once it has. */
interface GatewayConnection {
  ws: WebSocket;
  session: GatewaySession | undefined;
}

interface ResumeFrame {
  token?: string;
  session_id?: string;
  seq?: number;
}

/** A frame as JSON, or undefined when it is not a JSON object (the connection is then closed with 4002). */
function decodeFrame(raw: RawData): { op: number; d: Record<string, unknown> | null } | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(String(raw));
  } catch {
    return undefined;
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return undefined;
  return frame as { op: number; d: Record<string, unknown> | null };
}

/** What the gateway needs from the server it belongs to. */
export interface GatewayHost {
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: SandboxUser;
  readonly guilds: SandboxGuild[];
  /** How many shards the bot must connect (GET /gateway/bot says so); 1 unless the server was started with more. */
  readonly shardCount: number;
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

  /** Whether a bot is connected and identified on every shard. */
  get connected(): boolean {
    return Array.from({ length: this.host.shardCount }, (_, id) => id).every((id) => this.shardConnected(id));
  }

  /** Whether a bot is connected and identified on shard `id`. */
  shardConnected(id: number): boolean {
    return [...this.sessions.values()].some((s) => s.shard[0] === id && s.socket?.readyState === 1);
  }

  /** Which shard's connection gets the events of `guildId`; direct messages (no guild) go to shard 0. */
  shardFor(guildId: string | undefined): number {
    return guildId ? shardOf(guildId, this.host.shardCount) : 0;
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

  /**
   * Sends an event of `guildId` (undefined: a direct message) to the newest session of that guild's shard; kept
   * for RESUME when its socket is down.
   */
  dispatch(t: string, d: unknown, guildId: string | undefined): void {
    const shard = this.shardFor(guildId);
    const sessions = [...this.sessions.values()].filter((s) => s.shard[0] === shard);
    const target = sessions.filter((s) => s.socket).at(-1) ?? sessions.at(-1);
    if (!target) {
      throw new Error(
        this.host.shardCount === 1
          ? "no bot has connected to the sandbox gateway"
          : `no bot has connected to shard ${shard} of ${this.host.shardCount} on the sandbox gateway`,
      );
    }
    this.send(target, t, d);
  }

  /** Like dispatch, for a change the bot learns from GUILD_CREATE anyway when none has identified yet. */
  dispatchIfIdentified(t: string, d: unknown, guildId: string): void {
    const shard = this.shardFor(guildId);
    if ([...this.sessions.values()].some((s) => s.shard[0] === shard)) this.dispatch(t, d, guildId);
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    this.sockets.add(ws);
    const connection: GatewayConnection = { ws, session: undefined };
    ws.send(JSON.stringify({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: HEARTBEAT_INTERVAL } }));
    // A bad frame (too large, not WebSocket) closes that connection; the socket reports it here, not to the process.
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      this.sockets.delete(ws);
      if (connection.session?.socket === ws) connection.session.socket = undefined;
    });
    ws.on("message", (raw) => this.receive(connection, raw));
  }

  /** One frame from the bot: heartbeats are acknowledged, IDENTIFY and RESUME start or take up a session. */
  private receive(connection: GatewayConnection, raw: RawData): void {
    const frame = decodeFrame(raw);
    if (!frame) {
      connection.ws.close(GatewayCloseCodes.DecodeError, "Decode error");
      return;
    }
    switch (frame.op) {
      case GatewayOpcodes.Heartbeat:
        connection.ws.send(JSON.stringify({ op: GatewayOpcodes.HeartbeatAck, d: null }));
        break;
      case GatewayOpcodes.Identify:
        this.identify(connection, frame.d);
        break;
      case GatewayOpcodes.Resume:
        this.resume(connection, frame.d as ResumeFrame | null);
        break;
      default:
        break;
    }
  }

  /** IDENTIFY: a new session on the shard asked for, with READY and a GUILD_CREATE for each of its guilds. */
  private identify(connection: GatewayConnection, d: Record<string, unknown> | null): void {
    const { ws } = connection;
    if (d?.token !== this.host.token) {
      ws.close(GatewayCloseCodes.AuthenticationFailed, "Authentication failed");
      return;
    }
    const shard = this.identifiedShard(d?.shard);
    if (typeof shard === "number") {
      ws.close(shard, closeReasons[shard]);
      return;
    }
    const session: GatewaySession = {
      id: randomBytes(16).toString("hex"),
      shard,
      seq: 0,
      events: [],
      socket: ws,
    };
    connection.session = session;
    this.sessions.set(session.id, session);
    const guilds = this.host.guilds.filter((g) => !g.botRemoved && this.shardFor(g.id) === shard[0]);
    this.send(session, GatewayDispatchEvents.Ready, {
      v: 10,
      user: userPayload(this.host.botUser, true),
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: this.url,
      application: { id: this.host.applicationId, flags: 0 },
      shard,
    });
    for (const guild of guilds) this.send(session, GatewayDispatchEvents.GuildCreate, guildPayload(guild));
    this.host.emit("ready");
  }

  /** RESUME: the session takes this socket, and the events it missed since `seq` are sent again. */
  private resume(connection: GatewayConnection, d: ResumeFrame | null): void {
    const resumed = d?.session_id ? this.sessions.get(d.session_id) : undefined;
    if (!resumed || d?.token !== this.host.token) {
      connection.ws.send(JSON.stringify({ op: GatewayOpcodes.InvalidSession, d: false }));
      return;
    }
    connection.session = resumed;
    resumed.socket = connection.ws;
    for (const event of resumed.events.filter((e) => e.s > (d.seq ?? 0))) {
      connection.ws.send(JSON.stringify({ op: GatewayOpcodes.Dispatch, ...event }));
    }
    this.send(resumed, GatewayDispatchEvents.Resumed, {});
  }

  /**
   * The shard an IDENTIFY asks for, or the close code Discord answers: 4011 when the server has several shards
   * and none is named, 4010 when the count is not the server's or the id is not one of its shards.
   */
  private identifiedShard(requested: unknown): [number, number] | ShardRefusal {
    const count = this.host.shardCount;
    if (requested === undefined || requested === null) {
      return count === 1 ? [0, 1] : GatewayCloseCodes.ShardingRequired;
    }
    if (
      !Array.isArray(requested) ||
      requested.length !== 2 ||
      !requested.every((n) => Number.isInteger(n)) ||
      requested[1] !== count ||
      requested[0] < 0 ||
      requested[0] >= count
    ) {
      return GatewayCloseCodes.InvalidShard;
    }
    return [requested[0], requested[1]];
  }

  private send(session: GatewaySession, t: string, d: unknown): void {
    session.seq += 1;
    const event = { s: session.seq, t, d };
    session.events.push(event);
    if (session.events.length > REPLAY_EVENTS) session.events.shift();
    session.socket?.send(JSON.stringify({ op: GatewayOpcodes.Dispatch, ...event }));
  }
}

type ShardRefusal = GatewayCloseCodes.InvalidShard | GatewayCloseCodes.ShardingRequired;

const closeReasons: Record<ShardRefusal, string> = {
  [GatewayCloseCodes.InvalidShard]: "Invalid shard",
  [GatewayCloseCodes.ShardingRequired]: "Sharding required",
};

/** A guild as GUILD_CREATE carries it: enough for discord.js to cache the guild, its roles and text channels. */
export function guildPayload(guild: SandboxGuild) {
  return {
    ...guildObject(guild),
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
    channels: guild.channels.map((c, position) => channelPayload(guild.id, c, position)),
  };
}
