// Acknowledging a request before anything else: Discord allows 3 s, and with a network database a query before
// the acknowledgement could take that long. A refusal found after a public acknowledgement is still private.
import {
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  MessageFlags,
  type ModalSubmitInteraction,
} from "discord.js";
import type { UserFacingError } from "../../kit/errors.ts";
import { tPublic } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";

/**
 * Tells only the member that their request was refused, after a public deferred reply. Discord turns the first
 * follow-up of a deferred reply into that reply, whatever its flags, so the "thinking…" reply is first edited
 * to a neutral line; the refusal then goes out as an ephemeral follow-up, and the neutral reply is deleted so
 * the channel keeps nothing. If the neutral edit fails the refusal is not sent (it would be public): the error
 * goes to the router like any other.
 */
export async function refusePrivately(
  interaction: ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction,
  refusal: UserFacingError,
  log: Logger,
): Promise<void> {
  log.info({ reason: refusal.message }, "request refused");
  // The neutral line is on the public reply, for a moment: in the channel's language.
  await interaction.editReply({ content: tPublic("kit:refused.notStarted"), components: [], files: [] });
  await interaction.followUp({
    content: `⚠️ ${refusal.message}`,
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
  try {
    await interaction.deleteReply();
  } catch (err) {
    log.warn({ err }, "could not delete the withdrawn reply of a refused request");
  }
}
