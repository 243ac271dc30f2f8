// /privacy export|delete|info: a copy of everything the bot keeps about you, its erasure everywhere, and what it
// keeps, how long and who processes it. Each subcommand's work lives in its own module.
import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { privacyFacts } from "../../features/privacy/info.ts";
import { askToErase } from "../flows/privacy-delete.ts";
import { runPrivacyExport } from "../flows/privacy-export.ts";
import type { Command } from "../kit/command.ts";
import { NO_PINGS } from "../views/message.ts";
import { renderPrivacyInfo } from "../views/privacy.ts";

export const privacy: Command = {
  data: new SlashCommandBuilder()
    .setName("privacy")
    .setDescription("What the bot keeps about you: a copy of it, or its erasure")
    .addSubcommand((s) =>
      s
        .setName("export")
        .setDescription("Your images, videos, prompts, picks and usage as a ZIP, sent only to you"),
    )
    .addSubcommand((s) =>
      s
        .setName("delete")
        .setDescription("Erase everything the bot keeps about you, in every server and DM (asks to confirm)"),
    )
    .addSubcommand((s) =>
      s.setName("info").setDescription("What the bot keeps about you, for how long, and who processes it"),
    )
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext) {
    const sub = interaction.options.getSubcommand(true);
    if (sub === "export") await runPrivacyExport(interaction, ctx);
    else if (sub === "delete") await askToErase(interaction, ctx);
    else if (sub === "info") await showPrivacyInfo(interaction, ctx);
  },
};

async function showPrivacyInfo(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  await interaction.reply({
    content: renderPrivacyInfo(privacyFacts(ctx.config)),
    flags: MessageFlags.Ephemeral,
    allowedMentions: NO_PINGS,
  });
}
