// /video: turn your picked reference (or one named by id) into a short video.
import {
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  SlashCommandBuilder,
} from "discord.js";
import { refusePrivately } from "../discord/acknowledge.ts";
import type { Command } from "../discord/command.ts";
import { imageLookupError, viewerOf } from "../discord/guards.ts";
import { refusalError } from "../discord/moderation-log.ts";
import { promptFrom, promptOption } from "../discord/options.ts";
import { autocompleteReference } from "../discord/reference-autocomplete.ts";
import { DurableReply, interactionRef } from "../discord/reply-target.ts";
import { makeAndDeliverVideo, VideoReply } from "../discord/video-reply.ts";
import { UserFacingError } from "../domain/errors.ts";
import type { Logger } from "../domain/logger.ts";
import type { AppContext } from "../services/context.ts";

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
