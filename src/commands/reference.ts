// /reference show|info|list: look at stored references. Members see their own; moderators see their guild's.
import {
  type ChatInputCommandInteraction,
  type Interaction,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
} from "discord.js";
import type { AppContext } from "../app.ts";
import { fitImage, perImageBudget } from "../discord/attachments.ts";
import { LIST_PAGE_SIZE, NO_PINGS, renderImageInfo, renderImageList } from "../discord/render.ts";
import { UserFacingError } from "../errors.ts";
import type { ImageLookup, Viewer } from "../services/generation.ts";
import type { Command } from "./types.ts";

export function viewerOf(interaction: Interaction): Viewer {
  return {
    userId: interaction.user.id,
    guildId: interaction.guildId,
    canModerate:
      interaction.inGuild() &&
      (interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false),
  };
}

/** The error for an id the user typed that names no image they may see; unknown and foreign ids read alike. */
export function imageLookupError(
  reason: Extract<ImageLookup, { ok: false }>["reason"],
  rawId: string,
): UserFacingError {
  const shown = rawId.slice(0, 40).replace(/`/g, "'");
  if (reason === "invalid_id") {
    return new UserFacingError(
      `\`${shown}\` is not a reference id. Ids look like \`1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed\`; /reference list shows yours.`,
    );
  }
  return new UserFacingError(`No reference \`${shown}\` that you can see. /reference list shows yours.`);
}

export const reference: Command = {
  data: new SlashCommandBuilder()
    .setName("reference")
    .setDescription("Look at stored character references")
    .addSubcommand((s) =>
      s
        .setName("show")
        .setDescription("Show a reference image by id")
        .addStringOption((o) =>
          o.setName("id").setDescription("The reference id").setRequired(true).setMaxLength(64),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName("info")
        .setDescription("Show a reference's prompt, model, size and whether it is your pick")
        .addStringOption((o) =>
          o.setName("id").setDescription("The reference id").setRequired(true).setMaxLength(64),
        ),
    )
    .addSubcommand((s) => s.setName("list").setDescription("List your references, newest first"))
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext) {
    const sub = interaction.options.getSubcommand(true);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const viewer = viewerOf(interaction);
    if (sub === "list") {
      const page = ctx.generation.listImages(viewer.userId, viewer.guildId, 1, LIST_PAGE_SIZE);
      await interaction.editReply({ ...renderImageList(page, viewer.userId), allowedMentions: NO_PINGS });
      return;
    }
    const rawId = interaction.options.getString("id", true).trim();
    const lookup = ctx.generation.getImage(rawId, viewer);
    if (!lookup.ok) throw imageLookupError(lookup.reason, rawId);
    const { image, isCurrentPick } = lookup;
    const content = renderImageInfo(image, isCurrentPick, ctx.video.forImage(image.id));
    if (sub === "info") {
      await interaction.editReply({ content, allowedMentions: NO_PINGS });
      return;
    }
    const original = await ctx.generation.readImageFile(image);
    const ext = image.fileName?.split(".").pop() ?? "png";
    const upload = await fitImage(
      original,
      image.id,
      ext,
      perImageBudget(interaction.attachmentSizeLimit, 1),
    );
    await interaction.editReply({
      content: upload.preview
        ? `${content}\n(Shown as a preview: the original is over the upload limit.)`
        : content,
      files: [{ attachment: upload.data, name: upload.name }],
      allowedMentions: NO_PINGS,
    });
  },
};
