// Whether the bot may post in the place an interaction came from, or must answer through the interaction alone.
import { ApplicationIntegrationType, type BaseInteraction, InteractionContextType } from "discord.js";

export type Delivery = "channel" | "interaction";

/**
 * 'interaction' where the bot is not a member of the place: a DM between others or a group DM (context 2), or a
 * server where only the member installed the app (no server install among the authorizing owners). There,
 * only the interaction's responses and follow-ups reach Discord; a bot-token message would be refused.
 */
export function deliveryOf(
  interaction: Pick<BaseInteraction, "context" | "authorizingIntegrationOwners" | "guildId">,
): Delivery {
  if (interaction.context === InteractionContextType.PrivateChannel) return "interaction";
  const owners = interaction.authorizingIntegrationOwners ?? {};
  const serverInstalled = owners[ApplicationIntegrationType.GuildInstall] !== undefined;
  if (interaction.guildId && !serverInstalled && interaction.context === InteractionContextType.Guild) {
    return "interaction";
  }
  return "channel";
}

/** The server whose settings apply: none where the bot is not installed (bot-wide defaults hold there). */
export function settingsGuildOf(
  interaction: Pick<BaseInteraction, "context" | "authorizingIntegrationOwners" | "guildId">,
): string | null {
  return deliveryOf(interaction) === "interaction" ? null : interaction.guildId;
}
