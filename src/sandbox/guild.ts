// A sandbox guild's roles, owner and channel overwrites, and the permissions Discord computes from them: a
// member's in the server (roles, ownership) and in a channel (those, then the channel's overwrites), which is
// what an interaction's member.permissions carries.
import {
  ChannelType,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildVerificationLevel,
  OverwriteType,
} from "discord-api-types/v10";
import type { SnowflakeSource } from "./snowflake.ts";
import {
  ALL_PERMISSIONS,
  MEMBER_PERMISSIONS,
  PERMISSIONS,
  type SandboxChannel,
  type SandboxGuild,
  type SandboxRole,
} from "./types.ts";

/** The roles a guild has unless its definition names them: @everyone (the guild's id) and three that grant. */
export const DEFAULT_ROLES = [
  { name: "Moderators", permissions: PERMISSIONS.MANAGE_MESSAGES },
  { name: "Managers", permissions: PERMISSIONS.MANAGE_GUILD },
  { name: "Administrators", permissions: PERMISSIONS.ADMINISTRATOR },
] as const;

/** The guild with its roles and owner filled in where its definition leaves them out. */
export function withRoles(
  guild: SandboxGuild,
  ids: SnowflakeSource,
): Required<Pick<SandboxGuild, "ownerId" | "roles">> & SandboxGuild {
  return {
    ...guild,
    ownerId: guild.ownerId ?? ids.next(),
    roles: guild.roles ?? [
      { id: guild.id, name: "@everyone", permissions: MEMBER_PERMISSIONS },
      ...DEFAULT_ROLES.map((role) => ({ id: ids.next(), ...role })),
    ],
  };
}

const everyoneOf = (guild: SandboxGuild) => guild.roles?.find((r) => r.id === guild.id)?.permissions ?? 0n;

/**
 * The roles (besides @everyone) a member holds so that their permissions in the server are `permissions`:
 * every role that grants nothing more. A set no combination of the guild's roles makes is a mistake in a test.
 */
export function rolesGranting(guild: SandboxGuild, permissions: bigint): string[] {
  const roles = (guild.roles ?? []).filter((r) => r.id !== guild.id && (r.permissions & ~permissions) === 0n);
  const made = roles.reduce((bits, r) => bits | r.permissions, everyoneOf(guild));
  if (made !== (permissions | everyoneOf(guild))) {
    throw new RangeError(
      `no roles of guild ${guild.id} grant exactly ${permissions}: define roles that do, and give the member them`,
    );
  }
  return roles.map((r) => r.id);
}

/** A member's permissions in the server: @everyone's and their roles' OR-ed; the owner and Administrator have all. */
export function serverPermissions(guild: SandboxGuild, userId: string, roleIds: string[]): bigint {
  if (userId === guild.ownerId) return ALL_PERMISSIONS;
  const held = new Set(roleIds);
  const bits = (guild.roles ?? []).reduce(
    (acc, r) => (held.has(r.id) ? acc | r.permissions : acc),
    everyoneOf(guild),
  );
  return bits & PERMISSIONS.ADMINISTRATOR ? ALL_PERMISSIONS : bits;
}

/** Discord's order: the server's, then the channel's @everyone overwrite, its roles' (denies, then allows), its member's. */
export function channelPermissions(
  guild: SandboxGuild,
  channelId: string,
  userId: string,
  roleIds: string[],
): bigint {
  let bits = serverPermissions(guild, userId, roleIds);
  if (bits === ALL_PERMISSIONS) return bits;
  const overwrites = guild.channels.find((c) => c.id === channelId)?.overwrites ?? [];
  const apply = (o: { allow?: bigint; deny?: bigint } | undefined) => {
    if (o) bits = (bits & ~(o.deny ?? 0n)) | (o.allow ?? 0n);
  };
  apply(overwrites.find((o) => o.type === "role" && o.id === guild.id));
  const roles = overwrites.filter((o) => o.type === "role" && o.id !== guild.id && roleIds.includes(o.id));
  apply({
    deny: roles.reduce((d, o) => d | (o.deny ?? 0n), 0n),
    allow: roles.reduce((a, o) => a | (o.allow ?? 0n), 0n),
  });
  apply(overwrites.find((o) => o.type === "member" && o.id === userId));
  return bits;
}

/** A role as the API describes it. */
export function rolePayload(role: SandboxRole, position: number) {
  return {
    id: role.id,
    name: role.name,
    permissions: role.permissions.toString(),
    position,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    managed: false,
    mentionable: false,
    icon: null,
    unicode_emoji: null,
    flags: 0,
  };
}

/** A text channel as the API describes it, with its permission overwrites. */
export function channelPayload(guildId: string, channel: SandboxChannel, position: number) {
  return {
    id: channel.id,
    type: ChannelType.GuildText,
    name: channel.name,
    guild_id: guildId,
    position,
    permission_overwrites: (channel.overwrites ?? []).map((o) => ({
      id: o.id,
      type: o.type === "role" ? OverwriteType.Role : OverwriteType.Member,
      allow: (o.allow ?? 0n).toString(),
      deny: (o.deny ?? 0n).toString(),
    })),
  };
}

/** The guild as GET /guilds/{id} answers (GUILD_CREATE adds its channels and the bot's membership). */
export function guildObject(guild: SandboxGuild) {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    description: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    owner_id: guild.ownerId,
    application_id: null,
    region: "",
    afk_channel_id: null,
    afk_timeout: 300,
    system_channel_id: null,
    system_channel_flags: 0,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: GuildVerificationLevel.None,
    default_message_notifications: GuildDefaultMessageNotifications.AllMessages,
    explicit_content_filter: GuildExplicitContentFilter.Disabled,
    mfa_level: GuildMFALevel.None,
    roles: (guild.roles ?? []).map(rolePayload),
    emojis: [],
    stickers: [],
    features: [],
    premium_tier: GuildPremiumTier.None,
    premium_subscription_count: 0,
    preferred_locale: guild.locale ?? "en-US",
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    vanity_url_code: null,
    nsfw: false,
    nsfw_level: GuildNSFWLevel.Default,
    premium_progress_bar_enabled: false,
  };
}
