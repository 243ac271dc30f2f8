// What the local Discord-compatible server keeps and hands to its callers (tests, the benchmark, sandbox mode):
// guilds, members, stored messages and interactions, registered commands, injected faults.
import { type InteractionType, PermissionFlagsBits } from "discord-api-types/v10";

export const PERMISSIONS = {
  SEND_MESSAGES: PermissionFlagsBits.SendMessages,
  EMBED_LINKS: PermissionFlagsBits.EmbedLinks,
  ATTACH_FILES: PermissionFlagsBits.AttachFiles,
  MANAGE_MESSAGES: PermissionFlagsBits.ManageMessages,
  MANAGE_GUILD: PermissionFlagsBits.ManageGuild,
  VIEW_CHANNEL: PermissionFlagsBits.ViewChannel,
  USE_APPLICATION_COMMANDS: PermissionFlagsBits.UseApplicationCommands,
  ADMINISTRATOR: PermissionFlagsBits.Administrator,
} as const;

/** Every permission Discord defines: what a guild's owner, or a member with Administrator, has. */
export const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);

/** What an ordinary member may do in the sandbox guild. */
export const MEMBER_PERMISSIONS =
  PERMISSIONS.VIEW_CHANNEL |
  PERMISSIONS.SEND_MESSAGES |
  PERMISSIONS.EMBED_LINKS |
  PERMISSIONS.ATTACH_FILES |
  PERMISSIONS.USE_APPLICATION_COMMANDS;
export const MODERATOR_PERMISSIONS = MEMBER_PERMISSIONS | PERMISSIONS.MANAGE_MESSAGES;

/** The upload limit an interaction carries unless the caller gives one (Discord's default for a server). */
export const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;

export interface SandboxUser {
  id: string;
  username: string;
  global_name?: string;
  /** The language of the member's client, sent as each interaction's `locale` (Discord's default: en-US). */
  locale?: string;
}

export interface SandboxChannel {
  id: string;
  name: string;
  /** What the channel changes of the server's permissions, for a role or a member (none by default). */
  overwrites?: PermissionOverwrite[];
}

export interface PermissionOverwrite {
  /** A role's id (the guild's own for @everyone) or a member's. */
  id: string;
  type: "role" | "member";
  allow?: bigint;
  deny?: bigint;
}

export interface SandboxRole {
  id: string;
  name: string;
  permissions: bigint;
}

export interface SandboxGuild {
  id: string;
  name: string;
  channels: SandboxChannel[];
  /** The guild's owner, who has every permission; a fresh id when not given. */
  ownerId?: string;
  /**
   * Its roles, @everyone (whose id is the guild's) included. When not given: @everyone with the permissions of
   * an ordinary member, and Moderators (Manage Messages), Managers (Manage Server) and Administrators.
   */
  roles?: SandboxRole[];
  /** The server's language (`preferred_locale`, each interaction's `guild_locale`); en-US when not given. */
  locale?: string;
  /** The bot was removed from the guild (DiscordSandbox.removeBot): no GUILD_CREATE for it, its REST answers 403. */
  botRemoved?: boolean;
}

export interface StoredAttachment {
  id: string;
  filename: string;
  size: number;
  content_type: string | undefined;
  url: string;
  /** The alt text the sender gave (Discord's `description`, at most 1,024 characters). */
  description?: string;
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
  /** The `nonce` the message was created with, returned as Discord does. */
  nonce?: string | number;
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
  /** 403 answers as Discord does to a bot without access (code 50001, "Missing Access"). */
  status: 403 | 429 | 500 | 502 | 503;
  retryAfterSeconds?: number;
  /** How many requests the fault answers; 1 by default. */
  times?: number;
}

export interface SandboxInteraction {
  id: string;
  token: string;
  type:
    | InteractionType.ApplicationCommand
    | InteractionType.MessageComponent
    | InteractionType.ApplicationCommandAutocomplete
    | InteractionType.ModalSubmit;
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
  /** Sent where the bot is not a member (a member's own install): at most 5 follow-ups, as Discord allows. */
  interactionOnly?: boolean;
}

export interface RegisteredCommand {
  id: string;
  name: string;
  description: string;
  options?: CommandOption[];
  default_member_permissions?: string | null;
  guild_id?: string;
  /** Where it may be installed (0 a server, 1 a member); Discord's default: a server only. */
  integration_types?: number[];
  /** Where it may be used (0 servers, 1 the bot's DMs, 2 other DMs and group DMs); absent: everywhere installed. */
  contexts?: number[] | null;
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
  /**
   * Gateway shards, as GET /gateway/bot reports them; 1 by default. Each guild's events go to the connection of
   * shard `(guild_id >> 22) % shards` (guildOnShard makes a guild for a chosen one), direct messages to shard 0.
   */
  shards?: number;
}

export interface CommandInput {
  /** "character", or "reference show" for a subcommand. */
  command: string;
  options?: Record<string, string | number | boolean>;
  user: SandboxUser;
  guildId?: string | undefined;
  channelId?: string;
  /**
   * The member's permissions in the server: they get the guild's roles that grant them (Moderators for Manage
   * Messages…), besides `roles`. Their permissions in the channel, which the interaction carries, follow from
   * those and the channel's overwrites.
   */
  permissions?: bigint;
  /** The ids of the member's roles (none by default). */
  roles?: string[];
  attachmentSizeLimit?: number;
  /**
   * The member installed the app for themselves and uses it here: `authorizing_integration_owners` names only
   * them. In a guild (one the bot is not in: `botRemoved`), context 0 without the guild's install.
   */
  userInstall?: boolean;
  /**
   * From a DM between the member and someone else, or a group DM (context 2): the bot is not a member, no guild;
   * implies userInstall. Buttons pressed on messages there (and modals) carry the same context.
   */
  privateChannel?: boolean;
  /** For autocomplete: the option being typed. */
  focused?: string;
}
