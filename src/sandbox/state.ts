// What the local server remembers: messages with their attachments, interactions, registered commands, and
// how each is rendered as Discord's API returns it. REST routes, the gateway and the test API all share it.
import type { EventEmitter } from "node:events";
import { MessageFlags, MessageType } from "discord-api-types/v10";
import type { UploadedFile } from "./body.ts";
import type { SnowflakeSource } from "./snowflake.ts";
import type {
  RegisteredCommand,
  SandboxInteraction,
  SandboxUser,
  StoredAttachment,
  StoredMessage,
} from "./types.ts";

/**
 * How long a nonce sent with `enforce_nonce` is remembered. Discord says "the past few minutes" and gives no
 * figure; five minutes is within what clients observe, and no test depends on the edge.
 */
export const NONCE_WINDOW_MS = 5 * 60 * 1000;

export class SandboxState {
  readonly messages = new Map<string, StoredMessage>();
  readonly interactions = new Map<string, SandboxInteraction>();
  readonly globalCommands: RegisteredCommand[] = [];
  readonly guildCommands = new Map<string, RegisteredCommand[]>();
  /** Interaction tokens made invalid, as Discord does after 15 minutes. */
  readonly expiredTokens = new Set<string>();
  /**
   * Channels interactions came from where the bot is not a member (a DM between others, a group DM, a server
   * where only the member installed the app): the bot's token gets 403 there, and each such request is kept.
   */
  readonly interactionOnlyChannels = new Set<string>();
  /** Every member that has sent an interaction, for resolving user options. */
  readonly knownUsers = new Map<string, SandboxUser>();
  /** Messages created with `enforce_nonce`, by channel, author and nonce: which message, and when. */
  private readonly nonces = new Map<string, { messageId: string; at: number }>();

  constructor(
    /** Told "message" on every create, edit and delete, and "commands" when commands are registered. */
    private readonly events: EventEmitter,
    /** The server's own ids: every message, attachment, interaction and command it makes takes one. */
    readonly ids: SnowflakeSource,
    private readonly applicationId: string,
    private readonly botUser: SandboxUser,
    /** The server's http://127.0.0.1:port, known once it listens. */
    private readonly origin: () => string,
  ) {}

  commandsFor(guildId: string | undefined): RegisteredCommand[] {
    return [...this.globalCommands, ...((guildId && this.guildCommands.get(guildId)) || [])];
  }

  /** Replaces the global commands, or a guild's, as a bulk overwrite does; returns them with their new ids. */
  overwriteCommands(
    guildId: string | undefined,
    definitions: Array<Omit<RegisteredCommand, "id">>,
  ): RegisteredCommand[] {
    const commands = definitions.map((c) => ({
      ...c,
      id: this.ids.next(),
      application_id: this.applicationId,
      version: this.ids.next(),
      ...(guildId ? { guild_id: guildId } : {}),
    }));
    if (guildId) this.guildCommands.set(guildId, commands);
    else this.globalCommands.splice(0, this.globalCommands.length, ...commands);
    this.events.emit("commands", guildId);
    return commands;
  }

  interactionByToken(token: string): SandboxInteraction | undefined {
    return [...this.interactions.values()].find((i) => i.token === token);
  }

  createMessage(
    channelId: string,
    guildId: string | undefined,
    data: Record<string, unknown>,
    files: UploadedFile[],
    interaction?: SandboxInteraction,
  ): StoredMessage {
    const flags = Number(data.flags ?? 0);
    const message: StoredMessage = {
      id: this.ids.next(),
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
      visible_to: flags & MessageFlags.Ephemeral && interaction ? interaction.user.id : undefined,
      interaction_id: interaction?.id,
      revisions: 1,
      ...(data.nonce === undefined || data.nonce === null ? {} : { nonce: data.nonce as string | number }),
    };
    message.attachments = this.attachmentsFrom(message, data, files);
    this.messages.set(message.id, message);
    this.events.emit("message", message);
    return message;
  }

  /**
   * A channel message create as Discord does it with `enforce_nonce: true` and a `nonce`: when the same author
   * sent the same nonce in this channel within the last few minutes, that message is returned as it stands (the
   * new body is ignored) and nothing is posted; otherwise the message is created and its nonce remembered.
   */
  createOnce(
    channelId: string,
    guildId: string | undefined,
    data: Record<string, unknown>,
    files: UploadedFile[],
  ): StoredMessage {
    const { nonce, enforce_nonce: enforce } = data;
    if (enforce !== true || nonce === undefined || nonce === null) {
      return this.createMessage(channelId, guildId, data, files);
    }
    const key = JSON.stringify([channelId, this.botUser.id, String(nonce)]);
    const now = Date.now();
    for (const [k, seen] of this.nonces) if (now - seen.at > NONCE_WINDOW_MS) this.nonces.delete(k);
    const earlier = this.nonces.get(key);
    const message = earlier && this.messages.get(earlier.messageId);
    if (message) return message;
    const created = this.createMessage(channelId, guildId, data, files);
    this.nonces.set(key, { messageId: created.id, at: now });
    return created;
  }

  editMessage(id: string, data: Record<string, unknown>, files: UploadedFile[]): StoredMessage {
    const message = this.messages.get(id) as StoredMessage;
    if ("content" in data) message.content = String(data.content ?? "");
    if ("components" in data) message.components = (data.components as unknown[]) ?? [];
    if ("embeds" in data) message.embeds = (data.embeds as unknown[]) ?? [];
    if ("attachments" in data || files.length > 0)
      message.attachments = this.attachmentsFrom(message, data, files);
    message.flags &= ~MessageFlags.Loading;
    message.edited_timestamp = new Date().toISOString();
    message.revisions += 1;
    this.events.emit("message", message);
    return message;
  }

  deleteMessage(message: StoredMessage): void {
    this.messages.delete(message.id);
    this.events.emit("message", message);
  }

  attachment(id: string | undefined): StoredAttachment | undefined {
    return [...this.messages.values()].flatMap((m) => m.attachments).find((a) => a.id === id);
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
    const store = (
      file: { filename: string; type: string; data: Buffer },
      filename = file.filename,
      description?: string | null,
    ): StoredAttachment => {
      const id = this.ids.next();
      return {
        id,
        filename,
        size: file.data.length,
        content_type: file.type || undefined,
        url: `${this.origin()}/attachments/${message.channel_id}/${id}/${encodeURIComponent(filename)}`,
        ...(description ? { description } : {}),
        data: file.data,
      };
    };
    const listed = data.attachments as
      | Array<{ id: string | number; filename?: string; description?: string | null }>
      | undefined;
    if (!listed) return [...message.attachments, ...files.map((f) => store(f))];
    return listed.flatMap((entry) => {
      const kept = message.attachments.find((a) => a.id === String(entry.id));
      // A kept attachment's alt text may be changed by listing it with a new one.
      if (kept) return [entry.description ? { ...kept, description: entry.description } : kept];
      const upload = files.find((f) => f.field === `files[${entry.id}]`);
      return upload ? [store(upload, entry.filename ?? upload.filename, entry.description)] : [];
    });
  }

  /** A stored message as the API returns it. */
  messagePayload(m: StoredMessage) {
    return {
      id: m.id,
      channel_id: m.channel_id,
      ...(m.guild_id ? { guild_id: m.guild_id } : {}),
      author: userPayload(m.author, m.author.bot),
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
      type: m.interaction_id ? MessageType.ChatInputCommand : MessageType.Default,
      flags: m.flags,
      ...(m.nonce === undefined ? {} : { nonce: m.nonce }),
      ...(m.interaction_id ? { application_id: this.applicationId, webhook_id: this.applicationId } : {}),
    };
  }
}

/** A user as the API returns it. */
export function userPayload(user: SandboxUser, bot = false) {
  return {
    id: user.id,
    username: user.username,
    global_name: user.global_name ?? user.username,
    discriminator: "0",
    avatar: null,
    ...(bot ? { bot: true } : {}),
  };
}
