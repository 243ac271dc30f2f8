// Paging through /reference list: the list's owner, or a moderator paging a member's list.
import type { ButtonInteraction } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import type { CustomId } from "../kit/custom-id.ts";
import { viewerOf } from "../kit/guards.ts";
import { requirePagerTurn } from "../kit/pager-cooldown.ts";
import { NO_PINGS } from "../views/message.ts";
import { LIST_PAGE_SIZE, renderImageList } from "../views/references.ts";

export async function handleReferenceButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { handler: "ref" }>,
  ctx: AppContext,
) {
  requirePagerTurn(ctx, interaction.user.id);
  const viewer = await viewerOf(interaction, ctx);
  if (id.userId !== viewer.userId && !viewer.canModerate)
    throw new UserFacingError(t("references:list.notYours"));
  // Acknowledged before the database is read: it may be across a network, and Discord allows 3 s.
  await interaction.deferUpdate();
  const page = await ctx.references.listImages(id.userId, viewer.guildId, id.page, LIST_PAGE_SIZE);
  const later = await ctx.lateResults.lateGenerations(page.items.map((i) => i.generationId));
  await interaction.editReply({
    ...renderImageList(page, id.userId, viewer.userId, (i) => ctx.retention.expiresAt(i), later),
    allowedMentions: NO_PINGS,
  });
}
