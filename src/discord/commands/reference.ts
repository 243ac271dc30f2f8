// /reference show|info|list: look at stored references. Members see their own; moderators see their guild's.
import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from "discord.js";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import type { AppContext } from "../../features/context.ts";
import type { ImageLookup, Viewer } from "../../features/references/reference-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t, tPublic } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { postToModLog } from "../flows/moderation-log.ts";
import { showRemovals } from "../flows/removals.ts";
import type { Command } from "../kit/command.ts";
import { imageLookupError, viewerOf } from "../kit/guards.ts";
import { altText, fitImage, perImageBudget } from "../replies/attachments.ts";
import { imagePanelRow } from "../views/image-panel.ts";
import { linkButtonRow, NO_PINGS } from "../views/message.ts";
import { LIST_PAGE_SIZE, renderImageInfo, renderImageList } from "../views/references.ts";

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
        .setDescription("Show a reference's prompt, model, size, pick, lineage and library names")
        .addStringOption((o) =>
          o.setName("id").setDescription("The reference id").setRequired(true).setMaxLength(64),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName("list")
        .setDescription("List your references, newest first (moderators: anyone's)")
        .addUserOption((o) => o.setName("user").setDescription("Whose references (moderators only)")),
    )
    .addSubcommand((s) =>
      s
        .setName("delete")
        .setDescription("Delete a reference: its file is removed (your own, or any as a moderator)")
        .addStringOption((o) =>
          o.setName("id").setDescription("The reference id").setRequired(true).setMaxLength(64),
        ),
    )
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger) {
    const sub = interaction.options.getSubcommand(true);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const viewer = await viewerOf(interaction, ctx);
    if (sub === "list") {
      await listReferences(interaction, ctx, viewer);
      return;
    }
    const rawId = interaction.options.getString("id", true).trim();
    const lookup = await ctx.references.getImage(rawId, viewer);
    if (!lookup.ok) throw imageLookupError(lookup.reason, rawId);
    if (sub === "delete") await deleteReference(interaction, ctx, viewer, lookup.image, rawId, log);
    else await showReference(interaction, ctx, lookup, viewer, sub !== "info", log);
  },
};

/** /reference list: the member's own references, or (moderators) another member's. */
async function listReferences(
  interaction: ChatInputCommandInteraction,
  ctx: AppContext,
  viewer: Viewer,
): Promise<void> {
  const whose = interaction.options.getUser("user")?.id ?? viewer.userId;
  if (whose !== viewer.userId && !viewer.canModerate) {
    throw new UserFacingError(t("references:list.othersForbidden"));
  }
  const page = await ctx.references.listImages(whose, viewer.guildId, 1, LIST_PAGE_SIZE);
  const later = await ctx.lateResults.lateGenerations(page.items.map((i) => i.generationId));
  await interaction.editReply({
    ...renderImageList(page, whose, viewer.userId, (i) => ctx.retention.expiresAt(i), later),
    allowedMentions: NO_PINGS,
  });
}

/** /reference delete: the reference and the videos made from it go, and the messages that showed them say so. */
async function deleteReference(
  interaction: ChatInputCommandInteraction,
  ctx: AppContext,
  viewer: Viewer,
  image: ImageWithOwner,
  rawId: string,
  log: Logger,
): Promise<void> {
  const removal = await ctx.moderation.deleteReference(image, viewer);
  if (!removal) throw imageLookupError("not_found", rawId); // deleted by someone else a moment ago
  const videos = removal.videos.length;
  const names = removal.libraryEntries.map((e) => `\`${e.name}\``).join(", ");
  // The mod log is read in the server's language, the reply in the member's.
  const leftLibrary = (tr: typeof t) => (names ? tr("references:delete.leftLibrary", { names }) : "");
  await postToModLog(
    ctx,
    interaction.client.rest,
    viewer.guildId,
    tPublic("references:delete.modLog", {
      actorId: viewer.userId,
      id: image.id,
      ownerId: image.userId,
      videos,
      library: leftLibrary(tPublic),
    }),
    log,
  );
  await showRemovals(ctx, interaction.client.rest, [removal], log);
  await interaction.editReply({
    content: t("references:delete.done", { id: image.id, videos, library: leftLibrary(t) }),
  });
}

/** /reference info (the details) and /reference show (the details and the image). */
async function showReference(
  interaction: ChatInputCommandInteraction,
  ctx: AppContext,
  { image, isCurrentPick }: Extract<ImageLookup, { ok: true }>,
  viewer: Viewer,
  withImage: boolean,
  log: Logger,
): Promise<void> {
  // What was made from it, as this viewer may see it: their own, or everything when they moderate.
  const [lineage, entries] = await Promise.all([
    ctx.references.lineage(image, viewer),
    ctx.library.forImage(image.id),
  ]);
  const names = entries.map((e) => e.name);
  // With PUBLIC_URL, an "Open original" button: the full file in the browser, whatever Discord shows.
  const link = await ctx.links.sign(image.id, ctx.clock.now()).catch((err: unknown) => {
    log.warn({ err, imageId: image.id }, "could not sign a link to the reference");
    return undefined;
  });
  const components = link ? [linkButtonRow(t("references:info.openOriginalLabel"), link.url)] : [];
  // The image panel for the member's own image (only the owner may spend on it, so only they see it).
  if (withImage && image.userId === viewer.userId) components.push(imagePanelRow(image.id));
  if (!withImage) {
    const content = renderImageInfo(image, isCurrentPick, lineage, names);
    await interaction.editReply({ content, components, allowedMentions: NO_PINGS });
    return;
  }
  const original = await ctx.references.readImageFile(image);
  const ext = image.fileName?.split(".").pop() ?? "png";
  const upload = await fitImage(original, image.id, ext, perImageBudget(interaction.attachmentSizeLimit, 1));
  await interaction.editReply({
    content: renderImageInfo(image, isCurrentPick, lineage, names, { preview: upload.preview }),
    files: [
      {
        attachment: upload.data,
        name: upload.name,
        description: altText(
          t(upload.preview ? "references:info.previewAlt" : "references:info.imageAlt"),
          image.prompt,
        ),
      },
    ],
    components,
    allowedMentions: NO_PINGS,
  });
}
