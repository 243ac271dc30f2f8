// Who is asking, and whether they may: the checks commands and buttons share.
import { type Interaction, PermissionFlagsBits } from "discord.js";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import type { AppContext } from "../../features/context.ts";
import type { ImageLookup, Viewer } from "../../features/references/reference-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import { settingsGuildOf } from "./delivery.ts";
import { memberServerPermissions } from "./server-permissions.ts";

/**
 * The member as the services see them; Manage Messages in the server (through a role, not a channel's
 * overwrite) makes them a moderator there, whose reach is the whole server.
 */
export async function viewerOf(interaction: Interaction, ctx: AppContext): Promise<Viewer> {
  // In a server where only the member installed the app, the bot knows nothing of the server: it is as if
  // outside one (their own references, the bot-wide rules).
  const guildId = settingsGuildOf(interaction);
  return {
    userId: interaction.user.id,
    guildId,
    canModerate:
      guildId !== null && (await holdsInServer(interaction, ctx, PermissionFlagsBits.ManageMessages)),
  };
}

/** Whether the member holds `permission` in the whole server (a channel's overwrites do not count). */
async function holdsInServer(
  interaction: Interaction,
  ctx: AppContext,
  permission: bigint,
): Promise<boolean> {
  if (!interaction.inGuild()) return false;
  return ((await memberServerPermissions(interaction, ctx)) & permission) === permission;
}

/** The error for an id the user typed that names no image they may see; unknown and foreign ids read alike. */
export function imageLookupError(
  reason: Extract<ImageLookup, { ok: false }>["reason"],
  rawId: string,
): UserFacingError {
  const shown = rawId.slice(0, 40).replace(/`/g, "'");
  if (reason === "invalid_id") {
    return new UserFacingError(t("kit:lookup.invalidId", { shown }));
  }
  return new UserFacingError(t("kit:lookup.notFound", { shown }));
}

/**
 * Moderator commands check the permission themselves too: default_member_permissions can be changed by admins,
 * and Discord lets a member use a command with a permission they hold only in the channel. What they do reaches
 * the whole server, so the permission must be theirs in the server.
 */
export async function requireModerator(
  interaction: Interaction,
  ctx: AppContext,
  permission: bigint,
  what: string,
): Promise<void> {
  if (!interaction.inGuild()) throw new UserFacingError(t("kit:moderator.serverOnly", { what }));
  if (!(await holdsInServer(interaction, ctx, permission))) {
    const name = permission === PermissionFlagsBits.ManageGuild ? "manageGuild" : "manageMessages";
    throw new UserFacingError(t("kit:moderator.needsPermission", { what, permission: name }));
  }
}

/**
 * The stored image an image-panel button acts on. Only its owner may press them: each press spends their
 * allowance, so nobody else may, a moderator included. Checked on every press (the panel may be anywhere).
 */
export async function requireOwnImage(
  interaction: Interaction,
  ctx: AppContext,
  imageId: string,
): Promise<ImageWithOwner> {
  const image = await ctx.references.imageRow(imageId);
  if (image && image.userId !== interaction.user.id) {
    throw new UserFacingError(t("generation:buttons.notYours", { ownerId: image.userId }));
  }
  if (!image || image.deletedAt !== null || image.status !== "succeeded") {
    throw new UserFacingError(t("generation:panel.imageGone"));
  }
  return image;
}
