// The acknowledgement of a request whose job is already recorded (rows written, allowance reserved).
import type { ButtonInteraction, ChatInputCommandInteraction } from "discord.js";

export const NOT_ACKNOWLEDGED = "Discord refused the acknowledgement (too late, or a server error)";

/**
 * Defers the reply. When Discord refuses it (the 3 s window passed, or a server error), nothing can be shown
 * to the member, so the recorded job is given up at once: `abandon` marks it failed and refunds it, and the
 * member is not left with "a request running" that would only start (and be charged) after a restart.
 */
export async function deferOrAbandon(
  interaction: ChatInputCommandInteraction | ButtonInteraction,
  abandon: (reason: string) => void,
): Promise<void> {
  try {
    await interaction.deferReply();
  } catch (err) {
    abandon(NOT_ACKNOWLEDGED);
    throw err;
  }
}
