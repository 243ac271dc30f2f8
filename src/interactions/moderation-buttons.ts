// The purge confirmation's buttons: only a moderator's press deletes anything.
import { type ButtonInteraction, PermissionFlagsBits } from "discord.js";
import type { CustomId } from "../discord/custom-id.ts";
import { requireModerator } from "../discord/guards.ts";
import { postToModLog } from "../discord/moderation-log.ts";
import { showRemovals } from "../discord/removals.ts";
import { NO_PINGS, videosTaken } from "../discord/render.ts";
import type { Logger } from "../domain/logger.ts";
import type { AppContext } from "../services/context.ts";

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
  const guildId = interaction.guildId;
  if (!guildId) return;
  const removals = await ctx.moderation.purge(id.userId, { userId: interaction.user.id, guildId });
  const deleted = removals.length;
  const videos = removals.reduce((n, r) => n + r.videos.length, 0);
  const withVideos = videosTaken(videos, "them");
  const names = removals.flatMap((r) => r.libraryEntries.map((e) => `\`${e.name}\``));
  const fromLibrary = names.length ? `; removed from the server library: ${names.join(", ")}` : "";
  await postToModLog(
    ctx,
    interaction.client.rest,
    guildId,
    `<@${interaction.user.id}> purged ${deleted} references of <@${id.userId}>${withVideos}${fromLibrary}.`,
    log,
  );
  await showRemovals(ctx, interaction.client.rest, removals, log);
  await interaction.editReply({
    content: `🗑️ Deleted ${deleted} references of <@${id.userId}>${withVideos}; the bot's messages that showed them say so.`,
    components: [],
    allowedMentions: NO_PINGS,
  });
}
