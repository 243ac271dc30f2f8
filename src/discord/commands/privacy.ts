// /privacy delete: erase everything the bot keeps about you, in every server and DM, after a confirmation.
import { type ChatInputCommandInteraction, SlashCommandBuilder } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { askToErase } from "../flows/privacy-delete.ts";
import type { Command } from "../kit/command.ts";

export const privacy: Command = {
  data: new SlashCommandBuilder()
    .setName("privacy")
    .setDescription("What the bot keeps about you")
    .addSubcommand((s) =>
      s
        .setName("delete")
        .setDescription("Erase everything the bot keeps about you, in every server and DM (asks to confirm)"),
    )
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext) {
    const sub = interaction.options.getSubcommand(true);
    if (sub === "delete") await askToErase(interaction, ctx);
  },
};
