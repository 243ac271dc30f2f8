// Paging through /reference list.
import type { ButtonInteraction } from "discord.js";
import type { AppContext } from "../app.ts";
import { LIST_PAGE_SIZE, NO_PINGS, renderImageList } from "../discord/render.ts";
import { UserFacingError } from "../errors.ts";
import type { CustomId } from "./custom-id.ts";

export async function handleReferenceButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { handler: "ref" }>,
  ctx: AppContext,
) {
  if (id.userId !== interaction.user.id)
    throw new UserFacingError("That list belongs to someone else. Use /reference list.");
  const page = ctx.generation.listImages(id.userId, interaction.guildId, id.page, LIST_PAGE_SIZE);
  await interaction.update({ ...renderImageList(page, id.userId), allowedMentions: NO_PINGS });
}
