// /privacy delete: the confirmation (only the member who asked may press it), the erasure itself, the edits of
// every message of the bot's that showed the member's images or prompts, the mod-log lines of the libraries that
// lost entries, and at start the erasures a crash left unfinished.
import {
  type APIGuild,
  type ButtonInteraction,
  ButtonStyle,
  type ChatInputCommandInteraction,
  ComponentType,
  MessageFlags,
  type REST,
  Routes,
} from "discord.js";
import type { ErasureCounts } from "../../db/repositories/erasures-repo.ts";
import type { AppContext } from "../../features/context.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { type Locale, t, tIn, toLocale } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { type CustomId, encodeCustomId } from "../kit/custom-id.ts";
import { NO_PINGS } from "../views/message.ts";
import { postToModLog } from "./moderation-log.ts";
import { applyEdits } from "./removals.ts";

const tooSoon = (retryAt: number) => t("privacy:erase.tooSoon", { retryAt: Math.floor(retryAt / 1000) });

/** The confirmation: what will be removed, and the two buttons (only the asking member's press counts). */
export async function askToErase(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const userId = interaction.user.id;
  const retryAt = await ctx.privacy.nextAllowed(userId);
  if (retryAt) {
    await interaction.editReply({ content: tooSoon(retryAt), allowedMentions: NO_PINGS });
    return;
  }
  const preview = await ctx.privacy.preview(userId);
  await interaction.editReply({
    content: [
      t("privacy:erase.confirmTitle"),
      t("privacy:erase.preview", { ...preview }),
      t("privacy:erase.consequences"),
    ].join("\n"),
    allowedMentions: NO_PINGS,
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.Button,
            style: ButtonStyle.Danger,
            label: t("privacy:erase.confirmLabel"),
            custom_id: encodeCustomId({ handler: "priv", action: "erase", userId }),
          },
          {
            type: ComponentType.Button,
            style: ButtonStyle.Secondary,
            label: t("privacy:erase.cancelLabel"),
            custom_id: encodeCustomId({ handler: "priv", action: "keep", userId }),
          },
        ],
      },
    ],
  });
}

/** The confirmation's buttons. */
export async function handlePrivacyButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { handler: "priv" }>,
  ctx: AppContext,
  log: Logger,
): Promise<void> {
  if (interaction.user.id !== id.userId) {
    throw new UserFacingError(t("privacy:erase.notYours"));
  }
  if (id.action === "keep") {
    await interaction.update({ content: t("privacy:erase.cancelled"), components: [] });
    return;
  }
  await interaction.deferUpdate();
  const outcome = await ctx.privacy.erase(id.userId);
  if (!outcome.ok) {
    await interaction.editReply({ content: tooSoon(outcome.retryAt), components: [] });
    return;
  }
  const rest = interaction.client.rest;
  for (const [guildId, names] of outcome.libraryByGuild) {
    const shown = names.map((n) => `\`${n}\``).join(", ");
    const locale = await serverLocale(interaction, guildId, log);
    const text = tIn(locale, "privacy:erase.modLogLibrary", { names: shown });
    await postToModLog(ctx, rest, guildId, text, log);
  }
  await applyEdits(ctx, rest, outcome.edits, log);
  // Work that could not be done now (an upload delete, a cancel) keeps the erasure unfinished: the next start
  // does it and completes the erasure then.
  if (outcome.workDone) await ctx.privacy.complete(outcome.id);
  const pending = outcome.workDone ? "" : `\n${t("privacy:erase.pending")}`;
  await interaction.editReply({ content: describeErased(outcome.counts) + pending, components: [] });
}

/**
 * The language of a server the erasure touched, for its mod log: the interaction's own server's, else the one
 * the gateway's cache knows (an erasure asked for elsewhere reaches every server with the member's entries),
 * else the server's own record over REST (HTTP interactions keep no servers); the default when unreadable.
 */
async function serverLocale(interaction: ButtonInteraction, guildId: string, log: Logger): Promise<Locale> {
  if (guildId === interaction.guildId) return toLocale(interaction.guildLocale);
  const cached = interaction.client.guilds.cache.get(guildId);
  if (cached) return toLocale(cached.preferredLocale);
  try {
    const guild = (await interaction.client.rest.get(Routes.guild(guildId))) as APIGuild;
    return toLocale(guild.preferred_locale);
  } catch (err) {
    log.debug({ err, guildId }, "server unreadable; its mod-log line is in the default language");
    return toLocale(undefined);
  }
}

export function describeErased(c: ErasureCounts): string {
  return [
    t("privacy:erase.done.title"),
    t("privacy:erase.done.media", {
      images: c.images,
      generations: c.generations,
      videos: c.videos,
      picks: c.picks,
    }),
    t("privacy:erase.done.library", {
      libraryEntries: c.libraryEntries,
      uploads: c.uploads,
      cancelled: c.cancelled,
    }),
    t("privacy:erase.done.prompts", {
      blockedPrompts: c.blockedPrompts,
      ledgerRowsDeleted: c.ledgerRowsDeleted,
    }),
    t("privacy:erase.done.kept", { ledgerRowsKept: c.ledgerRowsKept }),
  ].join("\n");
}

/** At start (and after any failure): the erasures a crash or an outage left unfinished are finished. */
export async function finishUnfinishedErasures(ctx: AppContext, rest: REST): Promise<void> {
  try {
    const ids = await ctx.privacy.unfinished();
    if (ids.length === 0) return;
    const log = ctx.logger.child({ erasures: ids.length });
    log.info("finishing the erasures the last run did not finish");
    for (const id of ids) {
      if (!(await ctx.privacy.finishWork(id))) continue;
      await applyEdits(ctx, rest, await ctx.references.pendingEdits(), log);
      await ctx.privacy.complete(id);
    }
  } catch (err) {
    ctx.logger.warn({ err }, "could not finish the unfinished erasures; the next start tries again");
  }
}
