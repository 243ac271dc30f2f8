// Paging through /reference list: the list's owner, or a moderator paging a member's list.
import type { ButtonInteraction } from "discord.js";
import type { CustomId } from "../discord/custom-id.ts";
import { viewerOf } from "../discord/guards.ts";
import { LIST_PAGE_SIZE, NO_PINGS, renderImageList } from "../discord/render.ts";
import { UserFacingError } from "../domain/errors.ts";
import type { AppContext } from "../services/context.ts";

export async function handleReferenceButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { handler: "ref" }>,
  ctx: AppContext,
) {
  const viewer = viewerOf(interaction);
  if (id.userId !== viewer.userId && !viewer.canModerate)
    throw new UserFacingError("That list belongs to someone else. Use /reference list.");
  // Acknowledged before the database is read: it may be across a network, and Discord allows 3 s.
  await interaction.deferUpdate();
  const page = await ctx.references.listImages(id.userId, viewer.guildId, id.page, LIST_PAGE_SIZE);
  await interaction.editReply({
    ...renderImageList(page, id.userId, viewer.userId),
    allowedMentions: NO_PINGS,
  });
}
