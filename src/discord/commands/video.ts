// /video: turn your picked reference (or one named by id) into a short video.
import {
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  SlashCommandBuilder,
} from "discord.js";
import type { AppContext } from "../../features/context.ts";
import type { Logger } from "../../kit/logger.ts";
import { videoFromReference } from "../flows/video.ts";
import type { Command } from "../kit/command.ts";
import { viewerOf } from "../kit/guards.ts";
import { promptFrom, promptOption } from "../kit/options.ts";
import { autocompleteReference } from "../kit/reference-autocomplete.ts";

export const video: Command = {
  data: new SlashCommandBuilder()
    .setName("video")
    .setDescription("Turn your picked character reference into a short video")
    .addStringOption(promptOption("prompt", "What happens in the video"))
    .addStringOption((o) =>
      o
        .setName("reference")
        .setDescription("A reference id or a library name (default: your current pick)")
        .setAutocomplete(true)
        .setMaxLength(64),
    )
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger) {
    const prompt = promptFrom(interaction, "prompt", "Say what should happen.");
    const rawId = interaction.options.getString("reference")?.trim() || undefined;
    await videoFromReference(
      interaction,
      ctx,
      { prompt, rawId, viewer: await viewerOf(interaction, ctx) },
      log,
    );
  },

  /** The member's recent references and the server library's names. */
  autocomplete(interaction: AutocompleteInteraction, ctx: AppContext) {
    return autocompleteReference(interaction, ctx);
  },
};
