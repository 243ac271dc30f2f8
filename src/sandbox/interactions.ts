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
import type { SnowflakeSource } from "./snowflake.ts";
import { type SandboxState, userPayload } from "./state.ts";
import {
  type CommandInput,
  DEFAULT_ATTACHMENT_LIMIT,
  MEMBER_PERMISSIONS,
  PERMISSIONS,
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
  const definitions = sub ? command.options?.find((o) => o.name === sub)?.options : command.options;
  if (sub && !command.options?.some((o) => o.name === sub))
    throw new Error(`/${name} has no subcommand ${sub}`);
  const O = ApplicationCommandOptionType;
  const values = Object.entries(input.options ?? {}).map(([key, value]) => {
    const definition = definitions?.find((o) => o.name === key);
    if (!definition) throw new Error(`/${input.command} has no option ${key}`);
    // As Discord does, the value arrives typed by the option's definition: integers and numbers as numbers.
    const typed =
      definition.type === O.Integer || definition.type === O.Number
        ? Number(value)
        : definition.type === O.Boolean
          ? value === true || value === "true"
          : value;
    return {
      type: definition.type,
      name: key,
      value: typed,
      ...(input.focused === key ? { focused: true } : {}),
    };
  });
  const options = sub ? [{ type: O.Subcommand, name: sub, options: values }] : values;
  // User and channel options come with their objects, as Discord sends them under `resolved`.
  const userIds = values.filter((v) => v.type === O.User).map((v) => String(v.value));
  const channelIds = values.filter((v) => v.type === O.Channel).map((v) => String(v.value));
  const roleIds = values.filter((v) => v.type === O.Role).map((v) => String(v.value));
  const resolved =
    userIds.length || channelIds.length || roleIds.length
      ? {
          resolved: {
            users: Object.fromEntries(
              userIds.map((id) => [
                id,
                userPayload(state.knownUsers.get(id) ?? { id, username: `user${id.slice(-4)}` }),
              ]),
            ),
            channels: Object.fromEntries(
              channelIds.map((id) => [
                id,
                {
                  id,
                  type: ChannelType.GuildText,
                  name: guilds.flatMap((g) => g.channels).find((c) => c.id === id)?.name ?? "unknown",
                  guild_id: guildId,
                  permissions: MEMBER_PERMISSIONS.toString(),
                },
              ]),
            ),
            roles: Object.fromEntries(
              roleIds.map((id, position) => [
                id,
                {
                  id,
                  name: `role${id.slice(-4)}`,
                  color: 0,
                  hoist: false,
                  position: position + 1,
                  permissions: "0",
                  managed: false,
                  mentionable: false,
                  flags: 0,
                },
              ]),
            ),
          },
        }
      : {};
  return {
    type: input.focused ? InteractionType.ApplicationCommandAutocomplete : InteractionType.ApplicationCommand,
    data: {
      id: command.id,
      name,
      type: ApplicationCommandType.ChatInput,
      options,
      ...resolved,
      ...(guildId ? { guild_id: guildId } : {}),
    },
  };
}

/** The `data` of a button press. */
export const buttonData = (customId: string) => ({
  custom_id: customId,
  component_type: ComponentType.Button,
});

/**
 * A new interaction as the server tracks it, and its INTERACTION_CREATE payload. `guildId` undefined is a
 * direct message; the channel defaults to the guild's first.
 */
export function newInteraction(
  context: {
    applicationId: string;
    ids: SnowflakeSource;
    guilds: SandboxGuild[];
    messagePayload(m: StoredMessage): unknown;
  },
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
  };
  const user = { ...userPayload(input.user) };
  const permissions = (input.permissions ?? MEMBER_PERMISSIONS).toString();
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
      type: guildId ? ChannelType.GuildText : ChannelType.DM,
      ...(guildId ? { guild_id: guildId, name: "general" } : {}),
    },
    ...(guildId
      ? {
          guild_id: guildId,
          guild: { id: guildId, locale: "en-US", features: [] },
          member: {
            user,
            roles: input.roles ?? [],
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
    authorizing_integration_owners: guildId
      ? { [ApplicationIntegrationType.GuildInstall]: guildId }
      : { [ApplicationIntegrationType.UserInstall]: input.user.id },
    context: guildId ? InteractionContextType.Guild : InteractionContextType.BotDM,
    attachment_size_limit: input.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_LIMIT,
    ...(message ? { message: context.messagePayload(message) } : {}),
  };
  return { interaction, payload };
}
