// The purge confirmation's buttons: only a moderator's press deletes anything.
import { type ButtonInteraction, PermissionFlagsBits } from "discord.js";
import type { AppContext } from "../app.ts";
import { requireModerator } from "../commands/moderation.ts";
import { recordModeration } from "../discord/moderation-log.ts";
import { showRemovals } from "../discord/removals.ts";
import { NO_PINGS, videosTaken } from "../discord/render.ts";
import type { Logger } from "../logger.ts";
import type { Removal } from "../services/generation.ts";
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
  const removals: Removal[] = [];
  for (;;) {
    const page = ctx.generation.listImages(id.userId, interaction.guildId, 1, 100);
    if (page.items.length === 0) break;
    for (const image of page.items) {
      const removal = await ctx.generation.deleteImage(image, interaction.user.id);
      if (removal) removals.push(removal);
    }
  }
  const deleted = removals.length;
  const videos = removals.reduce((n, r) => n + r.videos.length, 0);
  const withVideos = videosTaken(videos, "them");
  await recordModeration(
    ctx,
    interaction.client.rest,
    {
      guildId: interaction.guildId,
      actorId: interaction.user.id,
      action: "purge",
      targetUserId: id.userId,
      targetId: null,
      details: { deleted, videos },
    },
    `<@${interaction.user.id}> purged ${deleted} references of <@${id.userId}>${withVideos}.`,
    log,
  );
  await showRemovals(ctx, interaction.client.rest, removals, log);
  await interaction.editReply({
    content: `🗑️ Deleted ${deleted} references of <@${id.userId}>${withVideos}; the bot's messages that showed them say so.`,
    components: [],
    allowedMentions: NO_PINGS,
  });
}
