// Acknowledging a request before anything else: Discord allows 3 s, and with a network database a query before
// the acknowledgement could take that long. A refusal found after a public acknowledgement is still private.
import { type ButtonInteraction, type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import type { UserFacingError } from "../domain/errors.ts";
import type { Logger } from "../domain/logger.ts";

/**
 * Tells only the member that their request was refused, after a public deferred reply: the "thinking…" reply
 * is deleted (so the channel shows nothing) and the refusal is sent as an ephemeral follow-up, in the words the
 * router would use.
 */
export async function refusePrivately(
  interaction: ChatInputCommandInteraction | ButtonInteraction,
  refusal: UserFacingError,
  log: Logger,
): Promise<void> {
  log.info({ reason: refusal.message }, "request refused");
  try {
    await interaction.deleteReply();
  } catch (err) {
    log.warn({ err }, "could not delete the deferred reply of a refused request");
  }
  await interaction.followUp({
    content: `⚠️ ${refusal.message}`,
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}
