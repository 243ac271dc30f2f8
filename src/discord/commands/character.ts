// /character: describe a character, get 1–4 reference images in a grid, pick one. With references (up to three),
// the images draw those characters (IMAGE_REFERENCE_MODEL, all of them as its image inputs, in order) doing what
// the description says.
import {
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  SlashCommandBuilder,
} from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { MAX_IMAGES } from "../../features/generation/generation-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { ASPECT_RATIOS, type AspectRatio } from "../../providers/types.ts";
import { generateAndReply } from "../flows/character.ts";
import { refusePrivately } from "../kit/acknowledge.ts";
import type { Command } from "../kit/command.ts";
import { imageLookupError, viewerOf } from "../kit/guards.ts";
import { promptFrom, promptOption } from "../kit/options.ts";
import { autocompleteReference } from "../kit/reference-autocomplete.ts";

/** The reference options, in the order their images reach the model. */
const REFERENCE_OPTIONS = ["reference", "reference2", "reference3"] as const;

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
    .addStringOption((o) =>
      o
        .setName("reference")
        .setDescription(
          "Draw this character (a reference id or library name); the description says doing what",
        )
        .setAutocomplete(true)
        .setMaxLength(64),
    )
    .addStringOption((o) =>
      o
        .setName("reference2")
        .setDescription("A second character (or thing) to draw with it: a reference id or library name")
        .setAutocomplete(true)
        .setMaxLength(64),
    )
    .addStringOption((o) =>
      o
        .setName("reference3")
        .setDescription("A third one: a reference id or library name")
        .setAutocomplete(true)
        .setMaxLength(64),
    )
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger) {
    const prompt = promptFrom(interaction, "description", t("generation:character.emptyHint"));
    const count = interaction.options.getInteger("count") ?? MAX_IMAGES;
    const aspectRatio = (interaction.options.getString("aspect_ratio") ?? "1:1") as AspectRatio;
    if (!Number.isInteger(count) || count < 1 || count > MAX_IMAGES) {
      throw new UserFacingError(t("generation:character.countRange", { max: MAX_IMAGES }));
    }
    if (!ASPECT_RATIOS.includes(aspectRatio))
      throw new UserFacingError(
        t("generation:character.aspectRatioInvalid", { ratios: ASPECT_RATIOS.join(", ") }),
      );
    const rawRefs = REFERENCE_OPTIONS.map((name) => interaction.options.getString(name)?.trim()).filter(
      (raw): raw is string => !!raw,
    );
    if (rawRefs.length === 0) {
      await generateAndReply(interaction, ctx, { prompt, count, aspectRatio }, log);
      return;
    }
    // Acknowledged before the references are looked up (the database may be across a network); a reference the
    // member may not use is refused privately, with nothing recorded.
    await interaction.deferReply();
    const viewer = await viewerOf(interaction, ctx);
    const referenceImageIds: string[] = [];
    for (const rawRef of rawRefs) {
      const choice = await ctx.references.choose(rawRef, viewer);
      if (!choice.ok) {
        const reason = choice.reason === "no_pick" ? "not_found" : choice.reason;
        await refusePrivately(interaction, imageLookupError(reason, rawRef), log);
        return;
      }
      referenceImageIds.push(choice.image.id);
    }
    await generateAndReply(interaction, ctx, { prompt, count, aspectRatio, referenceImageIds }, log);
  },

  /** The member's recent references and the server library's names. */
  autocomplete(interaction: AutocompleteInteraction, ctx: AppContext) {
    return autocompleteReference(interaction, ctx);
  },
};
