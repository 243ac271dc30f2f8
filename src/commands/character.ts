// /character: describe a character, get 1–4 reference images in a grid, pick one.
import { type ChatInputCommandInteraction, SlashCommandBuilder } from "discord.js";
import type { Command } from "../discord/command.ts";
import { generateAndReply } from "../discord/generation-reply.ts";
import { promptFrom, promptOption } from "../discord/options.ts";
import { UserFacingError } from "../domain/errors.ts";
import type { Logger } from "../domain/logger.ts";
import type { AppContext } from "../services/context.ts";
import { MAX_IMAGES } from "../services/generation.ts";
import { ASPECT_RATIOS, type AspectRatio } from "../services/providers/image-models.ts";

const ASPECT_LABELS: Record<AspectRatio, string> = {
  "1:1": "1:1 square",
  "9:16": "9:16 portrait (tall)",
  "16:9": "16:9 landscape (wide)",
  "3:4": "3:4 portrait",
  "4:3": "4:3 landscape",
};

export const character: Command = {
  data: new SlashCommandBuilder()
    .setName("character")
    .setDescription("Draw 1–4 reference images of a character and pick one")
    .addStringOption(promptOption("description", "What the character looks like"))
    .addIntegerOption((o) =>
      o.setName("count").setDescription("How many images (default 4)").setMinValue(1).setMaxValue(MAX_IMAGES),
    )
    .addStringOption((o) =>
      o
        .setName("aspect_ratio")
        .setDescription("Image shape (default 1:1)")
        .addChoices(...ASPECT_RATIOS.map((value) => ({ name: ASPECT_LABELS[value], value }))),
    )
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger) {
    const prompt = promptFrom(interaction, "description", "Describe the character you want.");
    const count = interaction.options.getInteger("count") ?? MAX_IMAGES;
    const aspectRatio = (interaction.options.getString("aspect_ratio") ?? "1:1") as AspectRatio;
    if (!Number.isInteger(count) || count < 1 || count > MAX_IMAGES) {
      throw new UserFacingError(`count must be from 1 to ${MAX_IMAGES}.`);
    }
    if (!ASPECT_RATIOS.includes(aspectRatio))
      throw new UserFacingError(`aspect_ratio must be one of ${ASPECT_RATIOS.join(", ")}.`);
    await generateAndReply(interaction, ctx, { prompt, count, aspectRatio }, log);
  },
};
