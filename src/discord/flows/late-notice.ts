// On a member's next use of the bot: a private note of their results that finished after their interaction's
// 15 minutes, where the bot could not post them (interaction-only delivery). They are kept: /reference has them.
import { MessageFlags, type RepliableInteraction } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import type { LateResult } from "../../features/references/late-results.ts";
import { t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { INTERACTION_TOKEN_TTL_MS } from "../replies/reply-target.ts";
import { MAX_CONTENT, quotePrompt } from "../views/message.ts";

/** A token this close to its end is not used for the note: the follow-up could arrive after it. */
const TOKEN_MARGIN_MS = 60_000;

/** The note's lines, one per result. */
export function renderLateNotice(results: readonly LateResult[]): string {
  const lines = results.map((r) =>
    t(r.kind === "generation" ? "common:late.grid" : "common:late.video", {
      prompt: quotePrompt(r.prompt, 120),
    }),
  );
  return [t("common:late.title"), ...lines].join("\n").slice(0, MAX_CONTENT);
}

/**
 * Tells the member of results delivered later, once: an ephemeral follow-up of the interaction just answered.
 * The results are claimed (marked told) before the note goes, so two uses at once send it once; a note that
 * could not be sent hands them back for the next use. Nothing is told through a token about to expire (a
 * /character whose own result finished late ends past it): its note could not go. A failure here never fails
 * the interaction.
 */
export async function tellLateResults(
  interaction: RepliableInteraction,
  ctx: AppContext,
  log: Logger,
  receivedAt: number,
): Promise<void> {
  if (!interaction.deferred && !interaction.replied) return;
  if (ctx.clock.now() - receivedAt > INTERACTION_TOKEN_TTL_MS - TOKEN_MARGIN_MS) return;
  try {
    const { results, release } = await ctx.lateResults.claimUntold(interaction.user.id);
    if (results.length === 0) return;
    try {
      await interaction.followUp({
        content: renderLateNotice(results),
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
    } catch (err) {
      await release();
      throw err;
    }
  } catch (err) {
    log.warn({ err }, "could not tell the member of results delivered later");
  }
}
