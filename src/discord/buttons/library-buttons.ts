// Paging through /library list: anyone in the server may browse its library.
import type { ButtonInteraction } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import { libraryGallery } from "../flows/library-gallery.ts";
import type { CustomId } from "../kit/custom-id.ts";
import { requirePagerTurn } from "../kit/pager-cooldown.ts";
import { NO_PINGS } from "../views/message.ts";

export async function handleLibraryButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { handler: "lib" }>,
  ctx: AppContext,
) {
  const guildId = interaction.guildId;
  if (!guildId) throw new UserFacingError(t("library:belongsToServer"));
  requirePagerTurn(ctx, interaction.user.id);
  // Acknowledged before the database is read: it may be across a network, and Discord allows 3 s.
  await interaction.deferUpdate();
  const gallery = await libraryGallery(ctx, guildId, id.page);
  await interaction.editReply({ ...gallery, attachments: [], allowedMentions: NO_PINGS });
}
