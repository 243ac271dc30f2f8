// /library add|remove|list|show: the server's named references. Anyone may look and use them; moderators
// (Manage Messages) and the curator role change them.
import {
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  MessageFlags,
  SlashCommandBuilder,
  type SlashCommandStringOption,
} from "discord.js";
import type { AppContext } from "../../features/context.ts";
import {
  type Curator,
  MAX_LIBRARY_NAME_LENGTH,
  MAX_LIBRARY_NOTE_LENGTH,
} from "../../features/library/library-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t, tPublic } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { libraryGallery } from "../flows/library-gallery.ts";
import { postToModLog } from "../flows/moderation-log.ts";
import type { Command } from "../kit/command.ts";
import { imageLookupError, viewerOf } from "../kit/guards.ts";
import { autocompleteReference } from "../kit/reference-autocomplete.ts";
import { memberRoleIds } from "../kit/server-permissions.ts";
import { altText, fitImage, perImageBudget } from "../replies/attachments.ts";
import { renderLibraryEntry } from "../views/library.ts";
import { NO_PINGS } from "../views/message.ts";

/** The name of an existing entry, as remove and show take it, offered by autocomplete. */
const entryNameOption = (o: SlashCommandStringOption) =>
  o
    .setName("name")
    .setDescription("The entry's name")
    .setRequired(true)
    .setAutocomplete(true)
    .setMaxLength(64);

export const library: Command = {
  data: new SlashCommandBuilder()
    .setName("library")
    .setDescription("This server's library of named character references")
    .addSubcommand((s) =>
      s
        .setName("add")
        .setDescription("Add a reference under a name (moderators and curators)")
        .addStringOption((o) =>
          o
            .setName("reference")
            .setDescription("The reference id (yours; moderators: anyone's here)")
            .setRequired(true)
            .setAutocomplete(true)
            .setMaxLength(64),
        )
        .addStringOption((o) =>
          o
            .setName("name")
            .setDescription("Letters, digits, spaces, - and _")
            .setRequired(true)
            .setMaxLength(MAX_LIBRARY_NAME_LENGTH),
        )
        .addStringOption((o) =>
          o
            .setName("note")
            .setDescription("A short note shown with it")
            .setMaxLength(MAX_LIBRARY_NOTE_LENGTH),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName("remove")
        .setDescription("Remove a name from the library; the image stays (moderators and curators)")
        .addStringOption(entryNameOption),
    )
    .addSubcommand((s) => s.setName("list").setDescription("Browse the library, with previews"))
    .addSubcommand((s) =>
      s.setName("show").setDescription("Show one entry of the library").addStringOption(entryNameOption),
    )
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger) {
    const guildId = interaction.guildId;
    if (!guildId) throw new UserFacingError(t("library:serverOnly"));
    const sub = interaction.options.getSubcommand(true);
    // Acknowledged before anything is read: the database may be across a network, and Discord allows 3 s.
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    if (sub === "list") {
      await interaction.editReply({ ...(await libraryGallery(ctx, guildId, 1)), allowedMentions: NO_PINGS });
      return;
    }
    if (sub === "show") {
      await showEntry(interaction, ctx, guildId);
      return;
    }
    const viewer = await viewerOf(interaction, ctx);
    const curator: Curator = {
      ...viewer,
      guildId,
      curates: await ctx.library.mayCurate(viewer, memberRoleIds(interaction)),
    };
    if (sub === "remove") await removeEntry(interaction, ctx, curator, log);
    else await addEntry(interaction, ctx, curator, log);
  },

  autocomplete(interaction: AutocompleteInteraction, ctx: AppContext) {
    return autocompleteReference(interaction, ctx);
  },
};

/** /library show: one entry, with its image. */
async function showEntry(
  interaction: ChatInputCommandInteraction,
  ctx: AppContext,
  guildId: string,
): Promise<void> {
  const entry = await ctx.library.show(guildId, interaction.options.getString("name", true));
  const ext = entry.fileName?.split(".").pop() ?? "png";
  const upload = await fitImage(
    await ctx.references.readImageFile(entry),
    `library-${entry.imageId}`,
    ext,
    perImageBudget(interaction.attachmentSizeLimit, 1),
  );
  await interaction.editReply({
    content: renderLibraryEntry(entry),
    files: [
      {
        attachment: upload.data,
        name: upload.name,
        description: altText(
          t(upload.preview ? "library:entry.previewAlt" : "library:entry.imageAlt", { name: entry.name }),
          entry.prompt,
        ),
      },
    ],
    allowedMentions: NO_PINGS,
  });
}

/** /library remove: the name goes; the reference stays. */
async function removeEntry(
  interaction: ChatInputCommandInteraction,
  ctx: AppContext,
  curator: Curator,
  log: Logger,
): Promise<void> {
  const removed = await ctx.library.remove(curator, interaction.options.getString("name", true));
  await postToModLog(
    ctx,
    interaction.client.rest,
    curator.guildId,
    tPublic("library:remove.modLog", {
      actorId: curator.userId,
      name: removed.name,
      imageId: removed.imageId,
    }),
    log,
  );
  await interaction.editReply({
    content: t("library:remove.done", { name: removed.name }),
  });
}

/** /library add: a reference under a name, for moderators and curators. */
async function addEntry(
  interaction: ChatInputCommandInteraction,
  ctx: AppContext,
  curator: Curator,
  log: Logger,
): Promise<void> {
  if (!curator.curates) {
    throw new UserFacingError(t("library:curatorsOnly"));
  }
  const rawRef = interaction.options.getString("reference", true).trim();
  // Looked up as a moderator of this server would see it, so that another member's reference gets the
  // library's own refusal (only moderators add those) rather than "not found"; other servers' stay unseen.
  const choice = await ctx.references.choose(rawRef, { ...curator, canModerate: true });
  if (!choice.ok) throw imageLookupError(choice.reason === "no_pick" ? "not_found" : choice.reason, rawRef);
  const entry = await ctx.library.add(
    curator,
    choice.image,
    interaction.options.getString("name", true),
    interaction.options.getString("note"),
  );
  await postToModLog(
    ctx,
    interaction.client.rest,
    curator.guildId,
    tPublic("library:add.modLog", {
      actorId: curator.userId,
      imageId: entry.imageId,
      ownerId: choice.image.userId,
      name: entry.name,
    }),
    log,
  );
  await interaction.editReply({
    content: t("library:add.done", { imageId: entry.imageId, name: entry.name }),
    allowedMentions: NO_PINGS,
  });
}
