// Who is asking, and whether they may: the checks commands and buttons share.
import { type Interaction, PermissionFlagsBits } from "discord.js";
import type { ImageLookup, Viewer } from "../../features/references/reference-service.ts";
import { UserFacingError } from "../../kit/errors.ts";

/** The member as the services see them; Manage Messages in the guild makes them a moderator there. */
export function viewerOf(interaction: Interaction): Viewer {
  return {
    userId: interaction.user.id,
    guildId: interaction.guildId,
    canModerate:
      interaction.inGuild() &&
      (interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false),
  };
}

/** The error for an id the user typed that names no image they may see; unknown and foreign ids read alike. */
export function imageLookupError(
  reason: Extract<ImageLookup, { ok: false }>["reason"],
  rawId: string,
): UserFacingError {
  const shown = rawId.slice(0, 40).replace(/`/g, "'");
  if (reason === "invalid_id") {
    return new UserFacingError(
      `\`${shown}\` is not a reference id or a name in this server's library. Ids look like \`1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed\`; /reference list shows yours.`,
    );
  }
  return new UserFacingError(
    `No reference \`${shown}\` that you can see. /reference list shows yours, /library list the server's.`,
  );
}

/** Moderator commands check the permission themselves too: default_member_permissions can be changed by admins. */
export function requireModerator(
  interaction: { inGuild(): boolean; memberPermissions: { has(p: bigint): boolean } | null },
  permission: bigint,
  what: string,
): void {
  if (!interaction.inGuild()) throw new UserFacingError(`${what} works only in a server.`);
  if (!interaction.memberPermissions?.has(permission)) {
    const name = permission === PermissionFlagsBits.ManageGuild ? "Manage Server" : "Manage Messages";
    throw new UserFacingError(`${what} needs the ${name} permission.`);
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
