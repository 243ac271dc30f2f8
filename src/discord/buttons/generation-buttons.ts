// The grid's buttons: pick an image, Vary one (a new grid drawn from it), Regenerate and Remix (its modal), each
// for the requester only and honoured only on the generation's own message.
import { type ButtonInteraction, MessageFlags } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { type GenerationView, referencesOf } from "../../features/generation/generation-view.ts";
import { studioOf } from "../../features/generation/studio.ts";
import type { SelectResult } from "../../features/references/reference-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { inLocales, rowLocales, t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import type { AspectRatio } from "../../providers/types.ts";
import { generateAndReply } from "../flows/character.ts";
import { refusePrivately } from "../kit/acknowledge.ts";
import type { CustomId } from "../kit/custom-id.ts";
import { settingsGuildOf } from "../kit/delivery.ts";
import { originalLinks } from "../replies/generation-reply.ts";
import { renderGrid } from "../views/grid.ts";
import { imagePanelHint, imagePanelRow } from "../views/image-panel.ts";
import { NO_PINGS } from "../views/message.ts";
import { renderRemixModal } from "../views/remix.ts";

type GenId = Extract<CustomId, { handler: "gen" }>;

/** How long a press waits for its grid's message id to be recorded (see requireOwnMessage). */
const MESSAGE_ID_WAIT_MS = 3_000;

export const notYours = (ownerId: string) =>
  new UserFacingError(t("generation:buttons.notYours", { ownerId }));

/** A grid's button pressed on another message (its custom_id copied there). */
const wrongMessage = () => new UserFacingError(t("generation:buttons.wrongMessage"));

/**
 * A custom_id can be copied onto any message (a webhook, another bot, an edited export); the buttons count only
 * on the message the bot stored for the generation.
 */
async function requireOwnMessage(
  interaction: ButtonInteraction,
  ctx: AppContext,
  generationId: string,
): Promise<void> {
  // A grid is on Discord a moment before the bot has recorded its message id (the edit's answer is on its
  // way): a press in that moment waits for it, a little.
  const generation = (
    await ctx.generation.viewOnce(generationId, (v) => v.generation.messageId !== null, MESSAGE_ID_WAIT_MS)
  )?.generation;
  if (generation && generation.messageId !== interaction.message.id) {
    throw wrongMessage();
  }
}

/**
 * Every press is acknowledged before the database is read (it may be across a network, and Discord allows
 * 3 s): a pick by deferring the grid's update, Regenerate by deferring its new reply. Refusals stay private.
 */
export async function handleGenerationButton(
  interaction: ButtonInteraction,
  id: GenId,
  ctx: AppContext,
  log: Logger,
) {
  if (id.action === "pick") await pickImage(interaction, id, ctx, log);
  else if (id.action === "remix") await showRemixModal(interaction, id.generationId, ctx);
  else await drawAgain(interaction, id, ctx, log);
}

/** A select press: the pick is recorded, the grid marks it and the requester is told its id. */
async function pickImage(
  interaction: ButtonInteraction,
  id: { generationId: string; slot: number },
  ctx: AppContext,
  log: Logger,
): Promise<void> {
  // Refusals after this are sent by the router as ephemeral follow-ups.
  await interaction.deferUpdate();
  await requireOwnMessage(interaction, ctx, id.generationId);
  const pick = () => ctx.references.select(id.generationId, id.slot, interaction.user.id, interaction.id);
  let result = await pick();
  if (!result.ok && result.reason === "not_stored_yet") {
    // Pressed as the grid appeared, while its last image was still being stored: picked once it is.
    await ctx.generation.whenStored(id.generationId);
    result = await pick();
  }
  if (!result.ok) {
    if (result.reason === "already_recorded") {
      // This press was handled already (its pick is recorded, and that handling answers it).
      log.info({ generationId: id.generationId }, "pick already recorded for this press");
      return;
    }
    throw await pickRefusal(ctx, id, result.reason);
  }
  // The grid as it will stand: a slot still being stored (the grid went out just before its row) is waited for.
  const view = await ctx.generation.whenStored(id.generationId);
  if (view) {
    // The images the grid shows as previews keep their links to the originals.
    const shrunk = view.images.filter((i) =>
      interaction.message.attachments.some(
        (a) => a.name.startsWith(`character-${i.slot}`) && a.name.includes("-preview"),
      ),
    );
    const originals = await originalLinks(ctx, shrunk, log);
    // The grid keeps the language it was made in.
    const grid = inLocales(rowLocales(view.generation), () =>
      renderGrid(view, { pickedSlot: id.slot, previews: shrunk.length > 0, originals }),
    );
    await interaction.editReply({ ...grid, allowedMentions: NO_PINGS });
  }
  // The private confirmation carries the image panel: what can be done with the picked image.
  await interaction.followUp({
    content: t("generation:buttons.picked", {
      slot: id.slot,
      imageId: result.image.id,
      hint: imagePanelHint(),
    }),
    components: [imagePanelRow(result.image.id)],
    flags: MessageFlags.Ephemeral,
  });
  log.info({ generationId: id.generationId, imageId: result.image.id }, "reference picked");
}

/** Why a pick was not recorded, as the member is told. */
async function pickRefusal(
  ctx: AppContext,
  id: { generationId: string; slot: number },
  reason: Exclude<Extract<SelectResult, { ok: false }>["reason"], "already_recorded">,
): Promise<UserFacingError> {
  if (reason === "not_owner") {
    return notYours(
      (await ctx.generation.view(id.generationId))?.generation.userId ?? t("generation:buttons.theRequester"),
    );
  }
  return new UserFacingError(
    reason === "not_found"
      ? t("generation:buttons.generationGone")
      : reason === "not_stored_yet"
        ? t("generation:buttons.stillSaving", { slot: id.slot })
        : t("generation:buttons.notPickable", { slot: id.slot }),
  );
}

/** Regenerate and Vary answer with a new public message; a refusal deletes it and is told privately. */
async function drawAgain(
  interaction: ButtonInteraction,
  id: GenId,
  ctx: AppContext,
  log: Logger,
): Promise<void> {
  await interaction.deferReply();
  let source: { view: GenerationView; referenceImageIds: string[] };
  try {
    source = await drawingSource(interaction, id, ctx);
  } catch (err) {
    if (!(err instanceof UserFacingError)) throw err;
    await refusePrivately(interaction, err, log);
    return;
  }
  const { generation } = source.view;
  // Regenerating an upscale, a subtle variation or a sheet does that again; Vary N is always a plain variation.
  const studio =
    id.action === "again" && source.referenceImageIds.length > 0 ? studioOf(generation.params) : undefined;
  // A variation keeps the original prompt, count and shape, and is drawn from the chosen image.
  await generateAndReply(
    interaction,
    ctx,
    {
      prompt: generation.prompt,
      count: generation.requested,
      aspectRatio: generation.params.aspectRatio as AspectRatio,
      referenceImageIds: source.referenceImageIds,
      ...(studio ? { studio } : {}),
    },
    log,
  );
}

/** The grid a Regenerate or Vary press draws again, and the image the new grid is drawn from, if any. */
async function drawingSource(
  interaction: ButtonInteraction,
  id: GenId,
  ctx: AppContext,
): Promise<{ view: GenerationView; referenceImageIds: string[] }> {
  await requireOwnMessage(interaction, ctx, id.generationId);
  let view = await ctx.generation.view(id.generationId);
  if (!view) throw new UserFacingError(t("generation:buttons.generationGone"));
  if (view.generation.userId !== interaction.user.id) throw notYours(view.generation.userId);
  // A press as the grid appeared waits for its last image to be recorded: the new generation draws from it,
  // and the member's running generation must have ended to let the new one in.
  if (view.images.some((i) => i.status === "pending" || i.status === "running"))
    view = (await ctx.generation.whenStored(id.generationId)) ?? view;
  const referenceImageIds =
    id.action === "vary" ? [variedImage(view, id.slot)] : await redrawnReferences(interaction, ctx, view);
  return { view, referenceImageIds };
}

/** The image Vary draws from: it must be stored and not deleted. */
function variedImage(view: GenerationView, slot: number): string {
  const image = view.images.find((i) => i.slot === slot);
  if (image?.deletedAt === null && (image.status === "pending" || image.status === "running"))
    throw new UserFacingError(t("generation:buttons.varyStillSaving", { slot }));
  if (image?.status !== "succeeded" || image.deletedAt !== null)
    throw new UserFacingError(t("generation:buttons.varyGone", { slot }));
  return image.id;
}

/**
 * Regenerating (or remixing) a grid drawn from references draws from those references again, in their order:
 * each the member's own, or another member's only while this server's library still offers it (a curator may
 * have taken it out).
 */
export async function redrawnReferences(
  interaction: Parameters<typeof settingsGuildOf>[0] & { user: { id: string } },
  ctx: AppContext,
  view: GenerationView,
): Promise<string[]> {
  const guildId = settingsGuildOf(interaction);
  const references = referencesOf(view.generation);
  for (const imageId of references) {
    if (!(await ctx.references.mayDrawAgainFrom(imageId, interaction.user.id, guildId))) {
      throw new UserFacingError(
        references.length === 1
          ? t("generation:buttons.referenceUnavailable")
          : t("generation:buttons.referencesUnavailable", { imageId }),
      );
    }
  }
  return references;
}

/**
 * Remix answers with a modal holding the description to edit. A modal must be the press's first answer (it
 * cannot follow a deferral), so one read decides: the requester's, on the generation's own message.
 */
async function showRemixModal(
  interaction: ButtonInteraction,
  generationId: string,
  ctx: AppContext,
): Promise<void> {
  const view = await ctx.generation.view(generationId);
  if (!view) throw new UserFacingError(t("generation:buttons.generationGone"));
  const { generation } = view;
  if (generation.userId !== interaction.user.id) throw notYours(generation.userId);
  if (generation.messageId !== null && generation.messageId !== interaction.message.id) {
    throw wrongMessage();
  }
  await interaction.showModal(renderRemixModal(generation));
}
