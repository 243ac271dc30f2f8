// /video: turn your picked reference (or one named by id) into a short video.
import {
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  SlashCommandBuilder,
} from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { UserFacingError } from "../../kit/errors.ts";
import type { Logger } from "../../kit/logger.ts";
import { refusalError } from "../flows/moderation-log.ts";
import { makeAndDeliverVideo, VideoReply } from "../flows/video.ts";
import { refusePrivately } from "../kit/acknowledge.ts";
import type { Command } from "../kit/command.ts";
import { imageLookupError, viewerOf } from "../kit/guards.ts";
import { promptFrom, promptOption } from "../kit/options.ts";
import { autocompleteReference } from "../kit/reference-autocomplete.ts";
import { DurableReply, interactionRef } from "../replies/reply-target.ts";

const NO_PICK =
  "You have not picked a reference in this server yet. Run /character, press the number under the image you like, " +
  "then run /video again; or name one with the reference option (/reference list shows yours).";

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
    const viewer = viewerOf(interaction);
    // Acknowledged before anything is looked up (the database may be across a network, and Discord allows
    // 3 s); a refusal is still shown only to the member. Nothing is recorded before the defer, so a refused
    // acknowledgement leaves nothing to give up.
    await interaction.deferReply();
    const choice = await ctx.references.choose(rawId, viewer);
    if (!choice.ok) {
      const refusal =
        choice.reason === "no_pick"
          ? new UserFacingError(NO_PICK)
          : imageLookupError(choice.reason, rawId ?? "");
      await refusePrivately(interaction, refusal, log);
      return;
    }
    const created = await ctx.video.create(
      {
        viewer,
        channelId: interaction.channelId,
        prompt,
        image: choice.image,
        interaction: interactionRef(interaction),
      },
      ctx.admission.admitter({
        guildId: viewer.guildId,
        userId: viewer.userId,
        prompt,
        kind: "video",
        units: 1,
      }),
    );
    if (!created.ok) {
      await refusePrivately(
        interaction,
        await refusalError(ctx, interaction, created, "/video prompt", log),
        log,
      );
      return;
    }
    const job = created.video;
    const origin = { ...job, createdAt: interaction.createdTimestamp, acknowledged: true };
    const reply = new VideoReply(
      new DurableReply(interaction.client.rest, origin, ctx.clock, log),
      ctx,
      interaction.attachmentSizeLimit,
      log,
    );
    await makeAndDeliverVideo(ctx, job, reply, interaction.attachmentSizeLimit);
  },

  /** The member's recent references and the server library's names. */
  autocomplete(interaction: AutocompleteInteraction, ctx: AppContext) {
    return autocompleteReference(interaction, ctx);
  },
};
