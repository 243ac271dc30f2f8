// The grid's buttons: pick an image (requester only) and Regenerate (requester only), each honoured only on
// the generation's own message.
import { type ButtonInteraction, MessageFlags } from "discord.js";
import type { CustomId } from "../discord/custom-id.ts";
import { generateAndReply } from "../discord/generation-reply.ts";
import { NO_PINGS, renderGrid } from "../discord/render.ts";
import { UserFacingError } from "../domain/errors.ts";
import type { Logger } from "../domain/logger.ts";
import type { AppContext } from "../services/context.ts";
import type { AspectRatio } from "../services/providers/image-models.ts";

type GenId = Extract<CustomId, { handler: "gen" }>;

const notYours = (ownerId: string) =>
  new UserFacingError(`Only <@${ownerId}> can use these buttons. Make your own with /character.`);

/**
 * A custom_id can be copied onto any message (a webhook, another bot, an edited export); the buttons count only
 * on the message the bot stored for the generation.
 */
function requireOwnMessage(interaction: ButtonInteraction, ctx: AppContext, generationId: string): void {
  const generation = ctx.generation.view(generationId)?.generation;
  if (generation && generation.messageId !== interaction.message.id) {
    throw new UserFacingError(
      "That button is not on the grid it belongs to, so it does nothing. Use the buttons on the grid itself.",
    );
  }
}

export async function handleGenerationButton(
  interaction: ButtonInteraction,
  id: GenId,
  ctx: AppContext,
  log: Logger,
) {
  requireOwnMessage(interaction, ctx, id.generationId);
  if (id.action === "pick") {
    const result = ctx.references.select(id.generationId, id.slot, interaction.user.id);
    if (!result.ok) {
      if (result.reason === "not_owner") {
        throw notYours(ctx.generation.view(id.generationId)?.generation.userId ?? "the requester");
      }
      throw new UserFacingError(
        result.reason === "not_found"
          ? "That generation no longer exists."
          : `Image ${id.slot} is not available to pick.`,
      );
    }
    const view = ctx.generation.view(id.generationId);
    if (view) {
      const previews = interaction.message.attachments.some((a) => a.name.includes("-preview"));
      await interaction.update({
        ...renderGrid(view, { pickedSlot: id.slot, previews }),
        allowedMentions: NO_PINGS,
      });
    } else {
      await interaction.deferUpdate();
    }
    await interaction.followUp({
      content: `✅ Picked image ${id.slot} as your reference: \`${result.image.id}\`.\nNow run /video with a prompt to animate it.`,
      flags: MessageFlags.Ephemeral,
    });
    log.info({ generationId: id.generationId, imageId: result.image.id }, "reference picked");
    return;
  }

  const view = ctx.generation.view(id.generationId);
  if (!view) throw new UserFacingError("That generation no longer exists.");
  if (view.generation.userId !== interaction.user.id) throw notYours(view.generation.userId);
  const { generation } = view;
  await generateAndReply(
    interaction,
    ctx,
    {
      prompt: generation.prompt,
      count: generation.requested,
      aspectRatio: generation.params.aspectRatio as AspectRatio,
    },
    log,
  );
}
