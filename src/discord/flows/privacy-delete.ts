// /privacy delete: the confirmation (only the member who asked may press it), the erasure itself, the edits of
// every message of the bot's that showed the member's images or prompts, the mod-log lines of the libraries that
// lost entries, and at start the erasures a crash left unfinished.
import {
  type ButtonInteraction,
  ButtonStyle,
  type ChatInputCommandInteraction,
  ComponentType,
  MessageFlags,
  type REST,
} from "discord.js";
import type { ErasureCounts } from "../../db/repositories/erasures-repo.ts";
import type { AppContext } from "../../features/context.ts";
import type { ErasurePreview } from "../../features/privacy/erasure-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import type { Logger } from "../../kit/logger.ts";
import { type CustomId, encodeCustomId } from "../kit/custom-id.ts";
import { NO_PINGS } from "../views/message.ts";
import { postToModLog } from "./moderation-log.ts";
import { applyEdits } from "./removals.ts";

const when = (ms: number) => `<t:${Math.floor(ms / 1000)}:R>`;
const tooSoon = (retryAt: number) =>
  `You can erase your data once an hour; you can do it again ${when(retryAt)}.`;

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
      "**Erase everything the bot keeps about you, in every server and in DMs?** This cannot be undone.",
      describePreview(preview),
      "Requests of yours still running are cancelled, the bot's messages that showed your images or prompts are edited, and your uploads to the image service are deleted. Today's usage stays counted against your allowances until midnight UTC, under a pseudonym; moderators' records of blocked prompts stay without their text.",
    ].join("\n"),
    allowedMentions: NO_PINGS,
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.Button,
            style: ButtonStyle.Danger,
            label: "Erase my data",
            custom_id: encodeCustomId({ handler: "priv", action: "erase", userId }),
          },
          {
            type: ComponentType.Button,
            style: ButtonStyle.Secondary,
            label: "Cancel",
            custom_id: encodeCustomId({ handler: "priv", action: "keep", userId }),
          },
        ],
      },
    ],
  });
}

function describePreview(p: ErasurePreview): string {
  return `It removes ${p.images} images from ${p.generations} requests, ${p.videos} videos, ${p.picks} picks, ${p.libraryEntries} server-library entries of your images, and the text of ${p.blockedPrompts} blocked prompts.`;
}

/** The confirmation's buttons. */
export async function handlePrivacyButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { handler: "priv" }>,
  ctx: AppContext,
  log: Logger,
): Promise<void> {
  if (interaction.user.id !== id.userId) {
    throw new UserFacingError("Only the member who asked for this erasure can confirm or cancel it.");
  }
  if (id.action === "keep") {
    await interaction.update({ content: "Cancelled; nothing was removed.", components: [] });
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
    await postToModLog(
      ctx,
      rest,
      guildId,
      `Library entries ${names.map((n) => `\`${n}\``).join(", ")} were removed at the owner's request.`,
      log,
    );
  }
  await applyEdits(ctx, rest, outcome.edits, log);
  // Work that could not be done now (an upload delete, a cancel) keeps the erasure unfinished: the next start
  // does it and completes the erasure then.
  if (outcome.workDone) await ctx.privacy.complete(outcome.id);
  const pending = outcome.workDone
    ? ""
    : "\nSome of it (uploads at the image service, or requests to cancel) could not be finished now: the bot finishes it when it next starts.";
  await interaction.editReply({ content: describeErased(outcome.counts) + pending, components: [] });
}

export function describeErased(c: ErasureCounts): string {
  return [
    "🗑️ Your data was erased. Removed:",
    `· ${c.images} images from ${c.generations} requests, ${c.videos} videos, ${c.picks} picks`,
    `· ${c.libraryEntries} server-library entries, ${c.uploads} uploads to the image service, ${c.cancelled} requests still running (cancelled)`,
    `· the text of ${c.blockedPrompts} blocked prompts; ${c.ledgerRowsDeleted} usage records of past days`,
    `Kept until midnight UTC under a pseudonym: ${c.ledgerRowsKept} usage records of today, so today's allowances still count.`,
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
