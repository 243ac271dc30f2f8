// On a member's next use of the bot: a private note of their results that finished after their interaction's
// 15 minutes, where the bot could not post them (interaction-only delivery). They are kept: /reference has them.
import { MessageFlags, type RepliableInteraction } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import type { LateResult } from "../../features/references/late-results.ts";
import { t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { MAX_CONTENT, quotePrompt } from "../views/message.ts";

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
 * A failure here never fails the interaction; what was not told is marked told only when it was sent.
 */
export async function tellLateResults(
  interaction: RepliableInteraction,
  ctx: AppContext,
  log: Logger,
): Promise<void> {
  if (!interaction.deferred && !interaction.replied) return;
  try {
    const results = await ctx.lateResults.untold(interaction.user.id);
    if (results.length === 0) return;
    await interaction.followUp({
      content: renderLateNotice(results),
      flags: MessageFlags.Ephemeral,
      allowedMentions: { parse: [] },
    });
    await ctx.lateResults.markTold(results);
  } catch (err) {
    log.warn({ err }, "could not tell the member of results delivered later");
  }
}
