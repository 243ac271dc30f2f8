// A local Discord-compatible server (REST under /api/v10 and a JSON gateway) that the real discord.js client
// logs into. Tests, the benchmark and sandbox mode drive the bot through it: no Discord account, no network.
// This file is the server and the API its callers use; the parts live beside it: gateway.ts, rest.ts (the
// checks every request passes) with rest-routes.ts (the routes), state.ts (what it remembers), snowflake.ts
// (its ids), interactions.ts, body.ts (reading and multipart) and types.ts.
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { GatewayDispatchEvents, InteractionType } from "discord-api-types/v10";
import { guildPayload, SandboxGateway } from "./gateway.ts";
import { channelPayload, withRoles } from "./guild.ts";
import { HttpDelivery } from "./http-delivery.ts";
import {
  buttonData,
  commandData,
  type InteractionContext,
  type InteractionInput,
  newInteraction,
} from "./interactions.ts";
import { modalSubmitData } from "./modals.ts";
import { isOwnHost, originAllowed } from "./request-guard.ts";
import { type RequestLogEntry, RestApi, sendAttachment, sendJson } from "./rest.ts";
import { detachedSnowflakes, SnowflakeSource, shardOf } from "./snowflake.ts";
import { SandboxState } from "./state.ts";
import type {
  CommandInput,
  Fault,
  PermissionOverwrite,
  RegisteredCommand,
  SandboxChannel,
  SandboxGuild,
  SandboxInteraction,
  SandboxOptions,
  SandboxRole,
  SandboxUser,
  StoredMessage,
  Violation,
} from "./types.ts";

export { shardOf, snowflakeOnShard } from "./snowflake.ts";
export * from "./types.ts";

/** A guild with one text channel whose id lands on `shard` of `shardCount`: its events go to that shard. */
export function guildOnShard(shard: number, shardCount: number, name = `Shard ${shard} Guild`): SandboxGuild {
  const ids = detachedSnowflakes();
  return { id: ids.onShard(shard, shardCount), name, channels: [{ id: ids.next(), name: "general" }] };
}

/** Room for the largest upload an interaction allows by default (10 MiB) twice over, plus the form around it. */
const DEFAULT_MAX_BODY = 32 * 1024 * 1024;

export class DiscordSandbox extends EventEmitter {
  readonly applicationId: string;
  /** The one bot token this server accepts on REST and the gateway. */
  readonly token: string;
  readonly botUser: SandboxUser;
  readonly guilds: SandboxGuild[];
  /** How many gateway shards the bot must connect: GET /gateway/bot says so, and IDENTIFY must match it. */
  readonly shardCount: number;
  readonly messages: Map<string, StoredMessage>;
  readonly interactions: Map<string, SandboxInteraction>;
  readonly globalCommands: RegisteredCommand[];
  readonly guildCommands: Map<string, RegisteredCommand[]>;
  readonly violations: Violation[];
  readonly requestLog: RequestLogEntry[];
  /** Bot-token requests to channels the bot is not in (a member's own install there), each answered 403. */
  readonly refusedBotRequests: RequestLogEntry[];
  /** Serves whatever is not the API or an attachment (sandbox mode's web page); returns true if it answered. */
  pageHandler:
    | ((req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean)
    | undefined;
  /** Interactions over HTTP: set `http.url` to the bot's /interactions, and give it `http.publicKey`. */
  readonly http: HttpDelivery;
  private readonly state: SandboxState;
  private readonly gateway: SandboxGateway;
  private readonly rest: RestApi;
  private origin = "";
  private boundPort = 0;

  private constructor(
    private readonly server: Server,
    options: SandboxOptions,
  ) {
    super();
    const ids = new SnowflakeSource();
    this.token = options.token ?? randomBytes(32).toString("base64url");
    this.applicationId = options.applicationId ?? ids.next();
    this.botUser = options.botUser ?? { id: this.applicationId, username: "Character Bot" };
    this.shardCount = options.shards ?? 1;
    if (!Number.isInteger(this.shardCount) || this.shardCount < 1)
      throw new RangeError("shards must be a whole number of at least 1");
    const guildId = ids.next();
    this.guilds = (
      options.guilds ?? [
        { id: guildId, name: "Sandbox Guild", channels: [{ id: ids.next(), name: "general" }] },
      ]
    ).map((guild) => withRoles(guild, ids));
    this.state = new SandboxState(this, ids, this.applicationId, this.botUser, () => this.origin);
    this.http = new HttpDelivery(() => this.origin);
    this.messages = this.state.messages;
    this.interactions = this.state.interactions;
    this.globalCommands = this.state.globalCommands;
    this.guildCommands = this.state.guildCommands;
    const identity = { token: this.token, applicationId: this.applicationId, botUser: this.botUser };
    this.gateway = new SandboxGateway({
      ...identity,
      guilds: this.guilds,
      shardCount: this.shardCount,
      port: () => this.boundPort,
      emit: (event) => this.emit(event),
    });
    this.rest = new RestApi(
      {
        ...identity,
        guilds: this.guilds,
        shardCount: this.shardCount,
        state: this.state,
        gatewayUrl: () => this.gateway.url,
        emit: (event, ...args) => this.emit(event, ...args),
      },
      options.maxBodyBytes ?? DEFAULT_MAX_BODY,
    );
    this.violations = this.rest.violations;
    this.requestLog = this.rest.requestLog;
    this.refusedBotRequests = this.rest.refusedBotRequests;
  }

  static async start(options: SandboxOptions = {}): Promise<DiscordSandbox> {
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
    server.on("upgrade", (req, socket, head) => sandbox.gateway.upgrade(req, socket, head));
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

  /** A role of a guild (the first by default) by its name: "@everyone", "Moderators", "Administrators"… */
  role(name: string, guild: SandboxGuild = this.guild): SandboxRole {
    const role = guild.roles?.find((r) => r.name === name);
    if (!role) throw new RangeError(`guild ${guild.id} has no role ${name}`);
    return role;
  }

  /** Whether a bot is connected and identified on the gateway, on every shard. */
  get connected(): boolean {
    return this.gateway.connected;
  }

  /** Whether a bot is connected and identified on shard `id`. */
  shardConnected(id: number): boolean {
    return this.gateway.shardConnected(id);
  }

  /** The shard whose connection gets the events of `guildId`. */
  shardOf(guildId: string): number {
    return shardOf(guildId, this.shardCount);
  }

  /** Count of REST bodies checked against the official schemas. */
  get validatedRequests(): number {
    return this.rest.validatedRequests;
  }

  /** Makes an interaction's token invalid, as Discord does after 15 minutes: its webhook answers 50027. */
  expireInteraction(interaction: SandboxInteraction): void {
    this.state.expiredTokens.add(interaction.token);
  }

  /**
   * Sets a channel's permission overwrites, as a server manager would in the Discord client; the bot is told
   * with CHANNEL_UPDATE. Interactions sent from the channel then carry the member's permissions there.
   */
  setOverwrites(channelId: string, overwrites: PermissionOverwrite[]): void {
    const guild = this.guilds.find((g) => g.channels.some((c) => c.id === channelId));
    const position = guild?.channels.findIndex((c) => c.id === channelId) ?? -1;
    const channel = guild?.channels[position];
    if (!guild || !channel) throw new RangeError(`no channel ${channelId}`);
    channel.overwrites = overwrites;
    const payload = channelPayload(guild.id, channel, position);
    this.gateway.dispatchIfIdentified(GatewayDispatchEvents.ChannelUpdate, payload, guild.id);
  }

  /**
   * Removes the bot from a guild, as a server manager kicking it would: GUILD_DELETE without `unavailable`, and
   * from then on no GUILD_CREATE for it at connect and 403 on its channels. `outage` instead sends the
   * GUILD_DELETE of a Discord outage (`unavailable: true`), which changes nothing else. A bot not connected yet
   * learns of either at its IDENTIFY.
   */
  removeBot(guild: SandboxGuild = this.guild, options: { outage?: boolean } = {}): void {
    if (options.outage) {
      const outage = { id: guild.id, unavailable: true };
      this.gateway.dispatchIfIdentified(GatewayDispatchEvents.GuildDelete, outage, guild.id);
      return;
    }
    guild.botRemoved = true;
    this.gateway.dispatchIfIdentified(GatewayDispatchEvents.GuildDelete, { id: guild.id }, guild.id);
  }

  /** Adds the bot back to a guild it was removed from: GUILD_CREATE, and its channels answer again. */
  addBot(guild: SandboxGuild = this.guild): void {
    guild.botRemoved = false;
    this.gateway.dispatchIfIdentified(GatewayDispatchEvents.GuildCreate, guildPayload(guild), guild.id);
  }

  /** Deletes a message as a member (or a moderator) would in the Discord client. */
  deleteMessage(messageId: string): void {
    const message = this.state.messages.get(messageId);
    if (message) this.state.deleteMessage(message);
  }

  injectFault(fault: Fault): void {
    this.rest.injectFault(fault);
  }

  /** Answers bot-token requests past `perSecond` in any second with a global 429, as Discord does. */
  enforceGlobalLimit(perSecond: number): void {
    this.rest.enforceGlobalLimit(perSecond);
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
    return this.state.commandsFor(guildId);
  }

  /** A stored message as the API returns it. */
  messagePayload(m: StoredMessage) {
    return this.state.messagePayload(m);
  }

  /** Sends a slash command (or, with `focused`, an autocomplete request) as `user`. */
  runCommand(input: CommandInput): SandboxInteraction {
    const guildId = "guildId" in input ? input.guildId : this.guild.id;
    const { type, data } = commandData(this.state, this.guilds, input, guildId);
    return this.dispatchInteraction(type, input, guildId, data);
  }

  /** Presses a button on a stored message as `user`. */
  pressButton(input: {
    message: StoredMessage;
    customId: string;
    user: SandboxUser;
    permissions?: bigint;
    roles?: string[];
    /** The upload limit the interaction carries (Discord's depends on the server's boost level). */
    attachmentSizeLimit?: number;
  }): SandboxInteraction {
    return this.dispatchInteraction(
      InteractionType.MessageComponent,
      { ...input, channelId: input.message.channel_id },
      input.message.guild_id,
      buttonData(input.customId),
      input.message,
    );
  }

  /**
   * Submits the modal the bot answered `to` with (callback type 9) as `to`'s member would: a MODAL_SUBMIT
   * interaction whose text inputs hold `values` (by custom_id; the others keep their prefilled text). Throws
   * when there is no modal, or a value the Discord client would not send. `member`: the submitter's
   * permissions and roles in the server, as for the press that opened it.
   */
  submitModal(
    to: SandboxInteraction,
    values: Record<string, string> = {},
    member: { permissions?: bigint; roles?: string[] } = {},
  ): SandboxInteraction {
    const data = modalSubmitData(to, values);
    const message = to.sourceMessageId ? this.messages.get(to.sourceMessageId) : undefined;
    return this.dispatchInteraction(
      InteractionType.ModalSubmit,
      { user: to.user, channelId: to.channelId, ...member },
      to.guildId,
      data,
      message,
    );
  }

  /** Closes the bot's gateway connections as a network failure would; the client resumes. */
  dropConnections(): void {
    this.gateway.dropConnections();
  }

  /** Asks the bot to reconnect (op 7), as Discord does during maintenance. */
  requestReconnect(): void {
    this.gateway.requestReconnect();
  }

  async close(): Promise<void> {
    this.gateway.close();
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
    type: SandboxInteraction["type"],
    input: InteractionInput,
    guildId: string | undefined,
    data: Record<string, unknown>,
    message?: StoredMessage,
  ): SandboxInteraction {
    const context: InteractionContext = {
      applicationId: this.applicationId,
      ids: this.state.ids,
      guilds: this.guilds,
      messagePayload: (m: StoredMessage) => this.state.messagePayload(m),
      interactionOnlyChannels: this.state.interactionOnlyChannels,
    };
    const { interaction, payload } = newInteraction(context, type, input, guildId, data, message);
    this.interactions.set(interaction.id, interaction);
    if (this.http.url) void this.http.deliver(interaction, payload);
    else this.gateway.dispatch(GatewayDispatchEvents.InteractionCreate, payload, guildId);
    return interaction;
  }

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
    if (path.startsWith("/attachments/")) return sendAttachment(this.state, path, res);
    if (path.startsWith("/api/v10/")) return this.rest.handle(req, res, path.slice("/api/v10".length), url);
    if (await this.pageHandler?.(req, res, url)) return;
    sendJson(res, 404, { message: "404: Not Found", code: 0 });
  }
}
