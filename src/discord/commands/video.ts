// /video: turn your picked reference (or one named by id) into a short video, optionally ending on a second
// reference, with a chosen model, length and aspect ratio, or with more references as reference images.
import {
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  SlashCommandBuilder,
  type SlashCommandStringOption,
} from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { VIDEO_ASPECT_RATIOS, VIDEO_DURATIONS, VIDEO_MODEL_IDS } from "../../providers/video-models.ts";
import { videoFromReference } from "../flows/video.ts";
import type { Command } from "../kit/command.ts";
import { viewerOf } from "../kit/guards.ts";
import { promptFrom, promptOption } from "../kit/options.ts";
import { autocompleteReference } from "../kit/reference-autocomplete.ts";

/** The options naming more references; the models take at most three beside the start one. */
const REFERENCE_OPTIONS = ["ref1", "ref2", "ref3"] as const;

const referenceOption = (name: string, description: string) => (o: SlashCommandStringOption) =>
  o.setName(name).setDescription(description).setAutocomplete(true).setMaxLength(64);

const builder = new SlashCommandBuilder()
  .setName("video")
  .setDescription("Turn your picked character reference into a short video")
  .addStringOption(promptOption("prompt", "What happens in the video"))
  .addStringOption(
    referenceOption("reference", "A reference id or a library name (default: your current pick)"),
  )
  .addStringOption(
    referenceOption("end_frame", "The last frame: a reference id or a library name (models with end frames)"),
  )
  .addStringOption((o) =>
    o
      .setName("model")
      .setDescription("The video model (default: the bot's)")
      .addChoices(...VIDEO_MODEL_IDS.map((id) => ({ name: id, value: id }))),
  )
  .addIntegerOption((o) =>
    o
      .setName("duration")
      .setDescription("Length in seconds, as the model allows (default: the model's)")
      .addChoices(...VIDEO_DURATIONS.map((s) => ({ name: `${s} s`, value: s }))),
  )
  .addStringOption((o) =>
    o
      .setName("aspect_ratio")
      .setDescription("Aspect ratio, where the model takes one (default: the model's or the image's)")
      .addChoices(...VIDEO_ASPECT_RATIOS.map((r) => ({ name: r, value: r }))),
  );
for (const name of REFERENCE_OPTIONS) {
  builder.addStringOption(
    referenceOption(name, "Another reference, sent with yours as reference images (models that take them)"),
  );
}

export const video: Command = {
  data: builder.toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger) {
    const prompt = promptFrom(interaction, "prompt", t("video:promptHint"));
    const typed = (name: string) => interaction.options.getString(name)?.trim() || undefined;
    await videoFromReference(
      interaction,
      ctx,
      {
        prompt,
        rawId: typed("reference"),
        rawEndId: typed("end_frame"),
        rawReferenceIds: REFERENCE_OPTIONS.map(typed).filter((v): v is string => v !== undefined),
        model: typed("model"),
        durationSeconds: interaction.options.getInteger("duration") ?? undefined,
        aspectRatio: typed("aspect_ratio"),
        viewer: await viewerOf(interaction, ctx),
      },
      log,
    );
  },

  /** The member's recent references and the server library's names, for every reference option. */
  autocomplete(interaction: AutocompleteInteraction, ctx: AppContext) {
    return autocompleteReference(interaction, ctx);
  },
};
