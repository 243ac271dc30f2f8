// Paging through /library list: anyone in the server may browse its library.
import type { ButtonInteraction } from "discord.js";
import type { CustomId } from "../discord/custom-id.ts";
import { libraryGallery } from "../discord/library-gallery.ts";
import { NO_PINGS } from "../discord/render.ts";
import { UserFacingError } from "../domain/errors.ts";
import type { AppContext } from "../services/context.ts";

export async function handleLibraryButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { handler: "lib" }>,
  ctx: AppContext,
) {
  const guildId = interaction.guildId;
  if (!guildId) throw new UserFacingError("The library belongs to a server.");
  // Acknowledged before the database is read: it may be across a network, and Discord allows 3 s.
  await interaction.deferUpdate();
  const gallery = await libraryGallery(ctx, guildId, id.page);
  await interaction.editReply({ ...gallery, attachments: [], allowedMentions: NO_PINGS });
}
