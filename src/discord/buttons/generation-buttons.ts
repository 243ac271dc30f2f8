// The grid's buttons: pick an image, Vary one (a new grid drawn from it) and Regenerate, each for the requester
// only and honoured only on the generation's own message.
import { type ButtonInteraction, MessageFlags } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import type { GenerationView } from "../../features/generation/generation-view.ts";
import { UserFacingError } from "../../kit/errors.ts";
import type { Logger } from "../../kit/logger.ts";
import type { AspectRatio } from "../../providers/types.ts";
import { generateAndReply } from "../flows/character.ts";
import { refusePrivately } from "../kit/acknowledge.ts";
import type { CustomId } from "../kit/custom-id.ts";
import { NO_PINGS, renderGrid } from "../views/render.ts";

type GenId = Extract<CustomId, { handler: "gen" }>;

/** How long a press waits for its grid's message id to be recorded (see requireOwnMessage). */
const MESSAGE_ID_WAIT_MS = 3_000;

const notYours = (ownerId: string) =>
  new UserFacingError(`Only <@${ownerId}> can use these buttons. Make your own with /character.`);

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
    throw new UserFacingError(
      "That button is not on the grid it belongs to, so it does nothing. Use the buttons on the grid itself.",
    );
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
  if (id.action === "pick") {
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
      if (result.reason === "not_owner") {
        throw notYours((await ctx.generation.view(id.generationId))?.generation.userId ?? "the requester");
      }
      throw new UserFacingError(
        result.reason === "not_found"
          ? "That generation no longer exists."
          : result.reason === "not_stored_yet"
            ? `Image ${id.slot} is still being saved. Press it again in a moment.`
            : `Image ${id.slot} is not available to pick.`,
      );
    }
    // The grid as it will stand: a slot still being stored (the grid went out just before its row) is waited for.
    const view = await ctx.generation.whenStored(id.generationId);
    if (view) {
      const previews = interaction.message.attachments.some((a) => a.name.includes("-preview"));
      await interaction.editReply({
        ...renderGrid(view, { pickedSlot: id.slot, previews }),
        allowedMentions: NO_PINGS,
      });
    }
    await interaction.followUp({
      content: `✅ Picked image ${id.slot} as your reference: \`${result.image.id}\`.\nNow run /video with a prompt to animate it.`,
      flags: MessageFlags.Ephemeral,
    });
    log.info({ generationId: id.generationId, imageId: result.image.id }, "reference picked");
    return;
  }

  // Regenerate and Vary answer with a new public message; a refusal deletes it and is told privately.
  await interaction.deferReply();
  let view: GenerationView | undefined;
  let parentImageId: string | undefined;
  try {
    await requireOwnMessage(interaction, ctx, id.generationId);
    view = await ctx.generation.view(id.generationId);
    if (!view) throw new UserFacingError("That generation no longer exists.");
    if (view.generation.userId !== interaction.user.id) throw notYours(view.generation.userId);
    // A press as the grid appeared waits for its last image to be recorded: the new generation draws from it,
    // and the member's running generation must have ended to let the new one in.
    if (view.images.some((i) => i.status === "pending" || i.status === "running"))
      view = (await ctx.generation.whenStored(id.generationId)) ?? view;
    if (id.action === "vary") {
      const slot = id.slot;
      const image = view.images.find((i) => i.slot === slot);
      if (image?.deletedAt === null && (image.status === "pending" || image.status === "running"))
        throw new UserFacingError(
          `Image ${slot} is still being saved. Press Vary ${slot} again in a moment.`,
        );
      if (image?.status !== "succeeded" || image.deletedAt !== null)
        throw new UserFacingError(`Image ${slot} is no longer there to make variations of.`);
      parentImageId = image.id;
    } else if (view.generation.parentImageId) {
      // Regenerating a grid drawn from a reference draws from that reference again: the member's own, or
      // another member's only while this server's library still offers it (a curator may have taken it out).
      parentImageId = view.generation.parentImageId;
      const parent = await ctx.repos.images.get(parentImageId);
      const offered =
        parent?.userId === interaction.user.id ||
        (await ctx.repos.library.forImage(parentImageId)).some((e) => e.guildId === interaction.guildId);
      if (!parent || parent.deletedAt !== null || !offered) {
        throw new UserFacingError(
          "The reference this grid was drawn from is no longer available here, so it cannot be drawn from again.",
        );
      }
    }
  } catch (err) {
    if (!(err instanceof UserFacingError)) throw err;
    await refusePrivately(interaction, err, log);
    return;
  }
  const { generation } = view;
  // A variation keeps the original prompt, count and shape, and is drawn from the chosen image.
  await generateAndReply(
    interaction,
    ctx,
    {
      prompt: generation.prompt,
      count: generation.requested,
      aspectRatio: generation.params.aspectRatio as AspectRatio,
      ...(parentImageId ? { parentImageId } : {}),
    },
    log,
  );
}
