// A member's permissions in the whole server: their roles and ownership, never a channel's overwrites. An
// interaction's memberPermissions are the member's permissions in its channel, so a member given Manage Messages
// in one channel only must not act from there on the whole server.
import {
  type APIGuild,
  DiscordAPIError,
  type Interaction,
  PermissionFlagsBits,
  PermissionsBitField,
  Routes,
} from "discord.js";
import type { AppContext, ServerRoles } from "../../features/context.ts";

/** Discord's rule: @everyone's permissions and the member's roles' OR-ed; Administrator and the owner have all. */
export function serverPermissions(
  server: ServerRoles & { id: string },
  userId: string,
  roleIds: string[],
): bigint {
  if (userId === server.ownerId) return PermissionsBitField.All;
  let bits = server.roles.get(server.id) ?? 0n;
  for (const id of roleIds) bits |= server.roles.get(id) ?? 0n;
  return (bits & PermissionFlagsBits.Administrator) !== 0n ? PermissionsBitField.All : bits;
}

/** The roles of a server as Discord describes it (GET /guilds/{id}, which carries its roles and owner). */
export function serverRolesOf(guild: Pick<APIGuild, "owner_id" | "roles">): ServerRoles {
  return {
    ownerId: guild.owner_id,
    roles: new Map(guild.roles.map((role) => [role.id, BigInt(role.permissions)])),
  };
}

/**
 * The interaction's member's permissions in its server. The gateway's cache has the server's roles; without it
 * (no cached server, as with HTTP interactions) they are read over REST and kept a short while by the context.
 */
export async function memberServerPermissions(interaction: Interaction, ctx: AppContext): Promise<bigint> {
  const guildId = interaction.guildId;
  const member = interaction.member;
  if (!guildId || !member) return 0n;
  const roleIds = memberRoleIds(interaction);
  const cached = interaction.guild;
  const server: ServerRoles | undefined = cached
    ? {
        ownerId: cached.ownerId,
        roles: new Map([...cached.roles.cache].map(([id, role]) => [id, role.permissions.bitfield])),
      }
    : await readServerRoles(interaction, ctx, guildId);
  if (!server) return 0n;
  return serverPermissions({ ...server, id: guildId }, interaction.user.id, roleIds);
}

/**
 * The server's roles over REST, kept a short while. A server the bot cannot read (it is not a member where it
 * was installed by a user) grants nothing server-wide: the member is then treated as no moderator.
 */
async function readServerRoles(
  interaction: Interaction,
  ctx: AppContext,
  guildId: string,
): Promise<ServerRoles | undefined> {
  try {
    return await ctx.serverRoles.get(guildId, async () => {
      try {
        return serverRolesOf((await interaction.client.rest.get(Routes.guild(guildId))) as APIGuild);
      } catch (err) {
        // A refusal (the bot is not in that server) is remembered for the cache's while: each refused read
        // counts toward Discord's invalid-request limit, and a member pressing buttons must not spend it. A
        // server error or a lost connection is not kept: the next press reads again.
        if (!(err instanceof DiscordAPIError && err.status >= 400 && err.status < 500)) throw err;
        ctx.logger.warn({ err, guildId }, "server roles refused; no server-wide permissions for a while");
        return undefined;
      }
    });
  } catch (err) {
    ctx.logger.warn({ err, guildId }, "server roles unreadable; no server-wide permissions");
    return undefined;
  }
}

/**
 * The ids of the roles the member holds: the interaction's member data lists them; a member discord.js cached
 * has them through the guild's roles, which the gateway's GUILD_CREATE (and any role option) fills in.
 */
export function memberRoleIds(interaction: Interaction): string[] {
  const member = interaction.member;
  if (!member) return [];
  if (Array.isArray(member.roles)) return member.roles;
  return [...member.roles.cache.keys()];
}
