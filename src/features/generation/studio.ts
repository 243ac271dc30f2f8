// The image panel's work on a picked image: an upscale, a subtle variation and a turnaround sheet, each a
// generation drawn from that image (its parent), recorded in the generation's params so a restart, a worker
// of the fleet and Regenerate all send what the first run sent.
import type { GenerationParams } from "../../db/repositories/generations-repo.ts";
import { MAX_IMAGE_PIXELS } from "../../files/file-store.ts";
import type { AspectRatio } from "../../providers/types.ts";

/**
 * What a generation drawn from an image does with it. No mark (a plain variation: the grid's Vary N and the
 * panel's Vary (Strong)) draws the original prompt again from the image.
 */
export const STUDIO_ACTIONS = ["upscale", "subtle", "sheet"] as const;
export type StudioAction = (typeof STUDIO_ACTIONS)[number];

/** A turnaround sheet's views, slot by slot: the name the grid shows, and what its prompt asks for. */
export const SHEET_VIEWS = [
  { name: "front", ask: "seen from the front, facing the viewer" },
  { name: "three-quarter", ask: "in three-quarter view, turned about 45 degrees to the side" },
  { name: "side", ask: "in side view, full profile facing left" },
  { name: "back", ask: "seen from the back, facing away from the viewer" },
] as const;

/** A sheet is drawn tall: a standing figure head to toe. */
export const SHEET_ASPECT_RATIO: AspectRatio = "3:4";

/** The studio action a generation's params record, if any. */
export function studioOf(params: GenerationParams): StudioAction | undefined {
  return STUDIO_ACTIONS.find((a) => a === params.studio);
}

/** A slot's view name on a sheet; undefined for any other generation. */
export function sheetViewName(params: GenerationParams, slot: number): string | undefined {
  return studioOf(params) === "sheet" ? SHEET_VIEWS[slot - 1]?.name : undefined;
}

/**
 * The prompt a slot sends to the reference model. The reference models (Gemini's) take no strength, seed or
 * guidance input, only the prompt and the image, so how far a variation strays is said in words: a plain
 * variation sends the original prompt alone and redraws freely from the image; a subtle one asks for the same
 * picture with small changes; a sheet's slot asks for one view of the character on a plain background.
 */
export function studioPrompt(prompt: string, params: GenerationParams, slot: number): string {
  switch (studioOf(params)) {
    case "subtle":
      return [
        "A subtle variation of the attached image: keep the same character, pose, framing, composition,",
        "colours, lighting and background, and change only small details such as expression, hair strands,",
        `fabric folds and minor accessories. The image shows: ${prompt}`,
      ].join(" ");
    case "sheet": {
      const view = SHEET_VIEWS[slot - 1] ?? SHEET_VIEWS[0];
      return [
        `Character turnaround sheet, ${view.name} view: the character in the attached image ${view.ask}.`,
        "Keep exactly the same character, face, outfit, colours and proportions. Full body, head to toe,",
        "neutral standing pose with arms relaxed at the sides, plain light grey background, even studio",
        "lighting, no text, no other figures.",
      ].join(" ");
    }
    default:
      return prompt;
  }
}

/**
 * Whether an image enlarged `scale` times stays within the pixels the bot stores (a larger output would be
 * refused once paid for): asked before an upscale is recorded.
 */
export function upscaleFits(image: { width: number | null; height: number | null }, scale: number): boolean {
  if (image.width === null || image.height === null) return false;
  return image.width * scale * image.height * scale <= MAX_IMAGE_PIXELS;
}

/** What the panel's action records in the generation's params, so every run sends the same. */
export function studioParams(
  studio: StudioAction | undefined,
  upscale: { scale: number; faceEnhance: boolean } | undefined,
): Partial<GenerationParams> {
  if (!studio) return {};
  if (studio !== "upscale" || !upscale) return { studio };
  return { studio, scale: upscale.scale, faceEnhance: upscale.faceEnhance };
}
