// The purge confirmation's buttons (only a moderator's press deletes anything) and /moderation log's ◀ ▶.
import { type ButtonInteraction, PermissionFlagsBits } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { t, tPublic } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { auditLogPage, postToModLog } from "../flows/moderation-log.ts";
import { showRemovals } from "../flows/removals.ts";
import type { CustomId } from "../kit/custom-id.ts";
import { requireModerator } from "../kit/guards.ts";
import { NO_PINGS } from "../views/message.ts";

export async function handleModerationButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { handler: "mod" }>,
  ctx: AppContext,
  log: Logger,
) {
  if (id.action === "log") {
    await requireModerator(interaction, ctx, PermissionFlagsBits.ManageMessages, "/moderation log");
    // Acknowledged before the database is read: it may be across a network, and Discord allows 3 s.
    await interaction.deferUpdate();
    if (!interaction.guildId) return;
    const page = await auditLogPage(ctx, interaction.guildId, id);
    await interaction.editReply({ ...page, allowedMentions: NO_PINGS });
    return;
  }
  await requireModerator(interaction, ctx, PermissionFlagsBits.ManageMessages, t("moderation:purge.what"));
  if (id.action === "cancel") {
    await interaction.update({
      content: t("moderation:purge.cancelled"),
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
  const names = removals.flatMap((r) => r.libraryEntries.map((e) => `\`${e.name}\``));
  // Posted in the server's language; the confirmation is the moderator's.
  const library = names.length ? tPublic("moderation:purge.modLogLibrary", { names: names.join(", ") }) : "";
  await postToModLog(
    ctx,
    interaction.client.rest,
    guildId,
    tPublic("moderation:purge.modLog", {
      actorId: interaction.user.id,
      count: deleted,
      userId: id.userId,
      videos,
      library,
    }),
    log,
  );
  await showRemovals(ctx, interaction.client.rest, removals, log);
  await interaction.editReply({
    content: t("moderation:purge.done", { count: deleted, userId: id.userId, videos }),
    components: [],
    allowedMentions: NO_PINGS,
  });
}
