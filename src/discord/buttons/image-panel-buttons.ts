// The image panel's buttons (Upscale, Vary (Subtle), Vary (Strong), Sheet): each a new generation drawn from
// the member's own image, answered with a new public message as Vary is, through the same flow.
import type { ButtonInteraction } from "discord.js";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import type { AppContext } from "../../features/context.ts";
import {
  SHEET_ASPECT_RATIO,
  SHEET_VIEWS,
  type StudioAction,
  upscaleFits,
} from "../../features/generation/studio.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { ASPECT_RATIOS, type AspectRatio } from "../../providers/types.ts";
import { generateAndReply } from "../flows/character.ts";
import { refusePrivately } from "../kit/acknowledge.ts";
import type { CustomId, ImageAction } from "../kit/custom-id.ts";
import { requireOwnImage } from "../kit/guards.ts";

type ImgId = Extract<CustomId, { handler: "img" }>;
type PanelRequest = Parameters<typeof generateAndReply>[2];

const STUDIO: Record<ImageAction, StudioAction | undefined> = {
  upscale: "upscale",
  subtle: "subtle",
  strong: undefined,
  sheet: "sheet",
};

/**
 * Acknowledged first with a public "thinking…" (the answer is a new grid); a press by anyone but the image's
 * owner, or on an image gone since, is refused privately and records nothing.
 */
export async function handleImagePanelButton(
  interaction: ButtonInteraction,
  id: ImgId,
  ctx: AppContext,
  log: Logger,
): Promise<void> {
  await interaction.deferReply();
  let request: PanelRequest;
  try {
    const image = await requireOwnImage(interaction, ctx, id.imageId);
    request = await panelRequest(ctx, image, id.action);
  } catch (err) {
    if (!(err instanceof UserFacingError)) throw err;
    await refusePrivately(interaction, err, log);
    return;
  }
  log.info({ imageId: id.imageId, action: id.action }, "image panel pressed");
  await generateAndReply(interaction, ctx, request, log);
}

/**
 * What each button asks for. Upscale: one image, the source's prompt and shape kept for the grid's text.
 * The two variations: as many images as the grid the image came from (the grid's Vary N does the same), in
 * its shape. Sheet: one image per view, tall.
 */
async function panelRequest(
  ctx: AppContext,
  image: ImageWithOwner,
  action: ImageAction,
): Promise<PanelRequest> {
  const source = (await ctx.generation.view(image.generationId))?.generation;
  if (!source) throw new UserFacingError(t("generation:panel.imageGone"));
  const shape = ASPECT_RATIOS.find((r) => r === source.params.aspectRatio) ?? "1:1";
  const studio = STUDIO[action];
  const base = { prompt: source.prompt, parentImageId: image.id, ...(studio ? { studio } : {}) };
  if (action === "upscale") {
    const { scale } = ctx.config.upscale;
    if (!upscaleFits(image, scale)) {
      throw new UserFacingError(
        t("generation:panel.upscaleTooLarge", { width: image.width, height: image.height, scale }),
      );
    }
    return { ...base, count: 1, aspectRatio: shape };
  }
  if (action === "sheet") return { ...base, count: SHEET_VIEWS.length, aspectRatio: SHEET_ASPECT_RATIO };
  return { ...base, count: source.requested, aspectRatio: shape as AspectRatio };
}
