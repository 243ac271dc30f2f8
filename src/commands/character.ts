// /character: describe a character, get 1–4 reference images in a grid, pick one.
import {
  type ChatInputCommandInteraction,
  SlashCommandBuilder,
  type SlashCommandStringOption,
} from "discord.js";
import type { AppContext } from "../app.ts";
import { generateAndReply } from "../discord/generation-reply.ts";
import { UserFacingError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { MAX_IMAGES, MAX_PROMPT_LENGTH } from "../services/generation.ts";
import { ASPECT_RATIOS, type AspectRatio } from "../services/providers/image-models.ts";
import type { Command } from "./types.ts";

const ASPECT_LABELS: Record<AspectRatio, string> = {
  "1:1": "1:1 square",
  "9:16": "9:16 portrait (tall)",
  "16:9": "16:9 landscape (wide)",
  "3:4": "3:4 portrait",
  "4:3": "4:3 landscape",
};

/** Zero-width characters removed, control characters made spaces, runs of white space folded, ends trimmed. */
export function cleanDescription(raw: string): string {
  return raw
    .replace(/\p{Cf}/gu, "") // zero-width and other invisible format characters: gone, not turned into spaces
    .replace(/\p{Cc}/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** A required free-text option of up to MAX_PROMPT_LENGTH characters, as /character and /video take. */
export function promptOption(name: string, description: string) {
  return (o: SlashCommandStringOption) =>
    o
      .setName(name)
      .setDescription(description)
      .setRequired(true)
      .setMinLength(1)
      .setMaxLength(MAX_PROMPT_LENGTH);
}

/** A prompt option cleaned and checked: 1–1000 characters once control characters are gone. */
export function parsePrompt(raw: string, label: string, hint: string): string {
  const text = cleanDescription(raw);
  if (text.length === 0) throw new UserFacingError(`The ${label} is empty. ${hint}`);
  if (text.length > MAX_PROMPT_LENGTH) {
    throw new UserFacingError(
      `The ${label} is ${text.length} characters; the limit is ${MAX_PROMPT_LENGTH}.`,
    );
  }
  return text;
}

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
    const prompt = parsePrompt(
      interaction.options.getString("description", true),
      "description",
      "Describe the character you want.",
    );
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
