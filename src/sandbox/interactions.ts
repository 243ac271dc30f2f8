// Interactions as Discord sends them in INTERACTION_CREATE: a slash command or autocomplete request typed
// from a registered command's definition, or a button press on a stored message.
import { randomBytes } from "node:crypto";
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
  ComponentType,
  InteractionContextType,
  InteractionType,
} from "discord-api-types/v10";
import { channelPermissions, rolePayload, rolesGranting } from "./guild.ts";
import type { SnowflakeSource } from "./snowflake.ts";
import { type SandboxState, userPayload } from "./state.ts";
import {
  type CommandInput,
  type CommandOption,
  DEFAULT_ATTACHMENT_LIMIT,
  MEMBER_PERMISSIONS,
  PERMISSIONS,
  type RegisteredCommand,
  type SandboxGuild,
  type SandboxInteraction,
  type StoredMessage,
} from "./types.ts";

/** Who sends an interaction, and where: a command's input without the command. */
export type InteractionInput = Omit<CommandInput, "command"> & { guildId?: string | undefined };

/** The `data` of a slash command (or autocomplete request) built from the command's registered definition. */
export function commandData(
  state: SandboxState,
  guilds: SandboxGuild[],
  input: CommandInput,
  guildId: string | undefined,
): { type: SandboxInteraction["type"]; data: Record<string, unknown> } {
  const [name, sub] = input.command.split(" ") as [string, string | undefined];
  const command = state.commandsFor(guildId).find((c) => c.name === name);
  if (!command) throw new Error(`command /${name} is not registered`);
  refuseUndeclaredPlace(command, input, guildId);
  const definitions = sub ? command.options?.find((o) => o.name === sub)?.options : command.options;
  if (sub && !command.options?.some((o) => o.name === sub))
    throw new Error(`/${name} has no subcommand ${sub}`);
  const values = optionValues(input, definitions);
  const options = sub
    ? [{ type: ApplicationCommandOptionType.Subcommand, name: sub, options: values }]
    : values;
  return {
    type: input.focused ? InteractionType.ApplicationCommandAutocomplete : InteractionType.ApplicationCommand,
    data: {
      id: command.id,
      name,
      type: ApplicationCommandType.ChatInput,
      options,
      ...resolvedOptions(state, guilds, values, guildId),
      ...(guildId ? { guild_id: guildId } : {}),
    },
  };
}

/**
 * As the Discord client does, a command is offered only where its registration allows: a member's own install
 * needs integration type 1, and the place its context (servers 0, the bot's DM 1, other DMs and group DMs 2).
 */
function refuseUndeclaredPlace(command: RegisteredCommand, input: CommandInput, guildId: string | undefined) {
  const userInstall = input.userInstall === true || input.privateChannel === true;
  const installs = command.integration_types ?? [ApplicationIntegrationType.GuildInstall];
  const needed = userInstall
    ? ApplicationIntegrationType.UserInstall
    : ApplicationIntegrationType.GuildInstall;
  if (!installs.includes(needed)) {
    throw new Error(`/${command.name} is not installable ${userInstall ? "by a member" : "in a server"}`);
  }
  const context = input.privateChannel
    ? InteractionContextType.PrivateChannel
    : guildId
      ? InteractionContextType.Guild
      : InteractionContextType.BotDM;
  if (command.contexts && !command.contexts.includes(context)) {
    throw new Error(`/${command.name} is not offered in interaction context ${context}`);
  }
}

interface OptionValue {
  type: ApplicationCommandOptionType;
  name: string;
  value: string | number | boolean;
  focused?: true;
}

/** The input's options as Discord sends them, each checked against the command's definitions. */
function optionValues(input: CommandInput, definitions: CommandOption[] | undefined): OptionValue[] {
  return Object.entries(input.options ?? {}).map(([key, value]) => {
    const definition = definitions?.find((o) => o.name === key);
    if (!definition) throw new Error(`/${input.command} has no option ${key}`);
    return {
      type: definition.type,
      name: key,
      value: typedValue(definition.type, value),
      ...(input.focused === key ? { focused: true as const } : {}),
    };
  });
}

/** As Discord does, a value arrives typed by the option's definition: integers and numbers as numbers. */
function typedValue(type: ApplicationCommandOptionType, value: string | number | boolean) {
  const O = ApplicationCommandOptionType;
  if (type === O.Integer || type === O.Number) return Number(value);
  if (type === O.Boolean) return value === true || value === "true";
  return value;
}

/** User, channel and role options come with their objects, as Discord sends them under `resolved`. */
function resolvedOptions(
  state: SandboxState,
  guilds: SandboxGuild[],
  values: OptionValue[],
  guildId: string | undefined,
) {
  const idsOf = (type: ApplicationCommandOptionType) =>
    values.filter((v) => v.type === type).map((v) => String(v.value));
  const userIds = idsOf(ApplicationCommandOptionType.User);
  const channelIds = idsOf(ApplicationCommandOptionType.Channel);
  const roleIds = idsOf(ApplicationCommandOptionType.Role);
  if (!userIds.length && !channelIds.length && !roleIds.length) return {};
  return {
    resolved: {
      users: Object.fromEntries(
        userIds.map((id) => [
          id,
          userPayload(state.knownUsers.get(id) ?? { id, username: `user${id.slice(-4)}` }),
        ]),
      ),
      channels: Object.fromEntries(channelIds.map((id) => [id, resolvedChannel(guilds, id, guildId)])),
      roles: Object.fromEntries(
        roleIds.map((id, position) => [
          id,
          resolvedRole(
            guilds.find((g) => g.id === guildId),
            id,
            position,
          ),
        ]),
      ),
    },
  };
}

function resolvedChannel(guilds: SandboxGuild[], id: string, guildId: string | undefined) {
  return {
    id,
    type: ChannelType.GuildText,
    name: guilds.flatMap((g) => g.channels).find((c) => c.id === id)?.name ?? "unknown",
    guild_id: guildId,
    permissions: MEMBER_PERMISSIONS.toString(),
  };
}

function resolvedRole(guild: SandboxGuild | undefined, id: string, position: number) {
  const index = guild?.roles?.findIndex((r) => r.id === id) ?? -1;
  const known = guild?.roles?.[index];
  if (known) return rolePayload(known, index);
  return {
    id,
    name: `role${id.slice(-4)}`,
    color: 0,
    hoist: false,
    position: position + 1,
    permissions: "0",
    managed: false,
    mentionable: false,
    flags: 0,
  };
}

/** The `data` of a button press. */
export const buttonData = (customId: string) => ({
  custom_id: customId,
  component_type: ComponentType.Button,
});

/** What a new interaction needs from the server it arrives on. */
export interface InteractionContext {
  applicationId: string;
  ids: SnowflakeSource;
  guilds: SandboxGuild[];
  messagePayload(m: StoredMessage): unknown;
  /** Channels where the bot is not a member (see SandboxState.interactionOnlyChannels). */
  interactionOnlyChannels: Set<string>;
}

/**
 * A new interaction as the server tracks it, and its INTERACTION_CREATE payload. `guildId` undefined is a
 * direct message; the channel defaults to the guild's first.
 */
export function newInteraction(
  context: InteractionContext,
  type: SandboxInteraction["type"],
  input: InteractionInput,
  guildId: string | undefined,
  data: Record<string, unknown>,
  message?: StoredMessage,
): { interaction: SandboxInteraction; payload: Record<string, unknown> } {
  const channelId =
    input.channelId ??
    (guildId ? context.guilds.find((g) => g.id === guildId)?.channels[0]?.id : undefined) ??
    context.ids.next();
  const where = placeOf(context, input, guildId, channelId);
  const interaction: SandboxInteraction = {
    id: context.ids.next(),
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
    interactionOnly: where.interactionOnly,
  };
  const payload = {
    id: interaction.id,
    application_id: context.applicationId,
    type,
    token: interaction.token,
    version: 1,
    data,
    channel_id: channelId,
    channel: {
      id: channelId,
      type: guildId ? ChannelType.GuildText : where.channelType,
      ...(guildId ? { guild_id: guildId, name: "general" } : {}),
    },
    ...whoAndWhere(
      input,
      context.guilds.find((g) => g.id === guildId),
      channelId,
    ),
    app_permissions: where.appPermissions,
    locale: input.user.locale ?? "en-US",
    // Only in a server, as Discord sends it.
    ...(guildId ? { guild_locale: context.guilds.find((g) => g.id === guildId)?.locale ?? "en-US" } : {}),
    entitlements: [],
    authorizing_integration_owners: where.owners,
    context: where.context,
    attachment_size_limit: input.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_LIMIT,
    ...(message ? { message: context.messagePayload(message) } : {}),
  };
  return { interaction, payload };
}

/**
 * Where an interaction comes from, as Discord describes it: its context (a server, the bot's DM, another DM or
 * group DM), who installed the app that answers it, and what the app may do there. Where the bot is not a
 * member, Discord grants it only what an interaction's responses need (the channel is recorded so the bot's
 * own requests to it are refused).
 */
function placeOf(
  context: InteractionContext,
  input: InteractionInput,
  guildId: string | undefined,
  channelId: string,
) {
  const I = ApplicationIntegrationType;
  const privateChannel = input.privateChannel === true || context.interactionOnlyChannels.has(channelId);
  const userInstall = privateChannel || input.userInstall === true;
  const interactionOnly = privateChannel || (userInstall && guildId !== undefined);
  if (interactionOnly) context.interactionOnlyChannels.add(channelId);
  const owners: Record<string, string> =
    guildId && !userInstall ? { [I.GuildInstall]: guildId } : { [I.UserInstall]: input.user.id };
  const contextType = privateChannel
    ? InteractionContextType.PrivateChannel
    : guildId
      ? InteractionContextType.Guild
      : InteractionContextType.BotDM;
  const granted = interactionOnly
    ? PERMISSIONS.SEND_MESSAGES | PERMISSIONS.EMBED_LINKS | PERMISSIONS.ATTACH_FILES
    : MEMBER_PERMISSIONS | PERMISSIONS.MANAGE_MESSAGES;
  return {
    interactionOnly,
    owners,
    context: contextType,
    // A DM between the member and another user: discord.js reads it as any DM channel.
    channelType: ChannelType.DM,
    appPermissions: granted.toString(),
  };
}

/**
 * In a guild, the guild and the sender as its member, with their roles and their permissions in the channel as
 * Discord computes them; in a direct message, the sender as a user.
 */
function whoAndWhere(input: InteractionInput, guild: SandboxGuild | undefined, channelId: string) {
  const user = { ...userPayload(input.user) };
  if (!guild) return { user };
  const granting = input.permissions === undefined ? [] : rolesGranting(guild, input.permissions);
  const roles = [...new Set([...(input.roles ?? []), ...granting])];
  return {
    guild_id: guild.id,
    guild: { id: guild.id, locale: guild.locale ?? "en-US", features: [] },
    member: {
      user,
      roles,
      permissions: channelPermissions(guild, channelId, input.user.id, roles).toString(),
      joined_at: new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
      nick: null,
      avatar: null,
    },
  };
}
