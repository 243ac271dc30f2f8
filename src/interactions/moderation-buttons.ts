// The purge confirmation's buttons: only a moderator's press deletes anything.
import { type ButtonInteraction, PermissionFlagsBits } from "discord.js";
import type { AppContext } from "../app.ts";
import { requireModerator } from "../commands/moderation.ts";
import { recordModeration } from "../discord/moderation-log.ts";
import { NO_PINGS } from "../discord/render.ts";
import type { Logger } from "../logger.ts";
import type { CustomId } from "./custom-id.ts";

export async function handleModerationButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { handler: "mod" }>,
  ctx: AppContext,
  log: Logger,
) {
  requireModerator(interaction, PermissionFlagsBits.ManageMessages, "Purging references");
  if (id.action === "cancel") {
    await interaction.update({
      content: "Cancelled; nothing was deleted.",
      components: [],
      allowedMentions: NO_PINGS,
    });
    return;
  }
  await interaction.deferUpdate();
  let deleted = 0;
  for (;;) {
    const page = ctx.generation.listImages(id.userId, interaction.guildId, 1, 100);
    if (page.items.length === 0) break;
    for (const image of page.items) {
      if (await ctx.generation.deleteImage(image, interaction.user.id)) deleted++;
    }
  }
  await recordModeration(
    ctx,
    interaction.client.rest,
    {
      guildId: interaction.guildId,
      actorId: interaction.user.id,
      action: "purge",
      targetUserId: id.userId,
      targetId: null,
      details: { deleted },
    },
    `<@${interaction.user.id}> purged ${deleted} references of <@${id.userId}>.`,
    log,
  );
  await interaction.editReply({
    content: `🗑️ Deleted ${deleted} references of <@${id.userId}>.`,
    components: [],
    allowedMentions: NO_PINGS,
  });
}
