// The image models the bot can drive on Replicate, each with its declared inputs and its own input builder.
import type { ImageRequest } from "./types.ts";

export const ASPECT_RATIOS = ["1:1", "9:16", "16:9", "3:4", "4:3"] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const SAFETY_FILTER_LEVELS = [
  "block_low_and_above",
  "block_medium_and_above",
  "block_only_high",
] as const;
export type SafetyFilterLevel = (typeof SAFETY_FILTER_LEVELS)[number];
export const DEFAULT_SAFETY_FILTER_LEVEL: SafetyFilterLevel = "block_medium_and_above";

export interface ImageModelSpec {
  id: string;
  /** Every input field the model declares in its published schema; nothing else is ever sent. */
  declaredInputs: readonly string[];
  buildInput(request: ImageRequest): Record<string, unknown>;
}

const IMAGEN_INPUTS = ["prompt", "aspect_ratio", "output_format", "safety_filter_level"] as const;

function imagen(id: string): ImageModelSpec {
  return {
    id,
    declaredInputs: IMAGEN_INPUTS,
    buildInput: (r) => ({
      prompt: r.prompt,
      aspect_ratio: r.aspectRatio,
      output_format: "png",
      safety_filter_level: r.safetyFilterLevel ?? DEFAULT_SAFETY_FILTER_LEVEL,
    }),
  };
}

const NANO_BANANA_INPUTS = ["prompt", "image_input", "aspect_ratio", "output_format"] as const;

/**
 * Google's Gemini image models. `resolution` is sent where declared and kept at 1K: a character reference is
 * looked at in a Discord grid, and 1K keeps files under Discord's upload limit and costs at their lowest.
 */
function nanoBanana(
  id: string,
  extra: { resolution?: boolean; safety?: boolean; inputs: readonly string[] },
) {
  return {
    id,
    declaredInputs: [...NANO_BANANA_INPUTS, ...extra.inputs],
    buildInput: (r: ImageRequest) => ({
      prompt: r.prompt,
      aspect_ratio: r.aspectRatio,
      output_format: "png",
      ...(r.referenceImages?.length ? { image_input: r.referenceImages } : {}),
      ...(extra.resolution ? { resolution: "1K" } : {}),
      ...(extra.safety ? { safety_filter_level: r.safetyFilterLevel ?? DEFAULT_SAFETY_FILTER_LEVEL } : {}),
    }),
  } satisfies ImageModelSpec;
}

const MODELS = [
  imagen("google/imagen-4"),
  imagen("google/imagen-4-fast"),
  imagen("google/imagen-4-ultra"),
  nanoBanana("google/nano-banana", { inputs: [] }),
  nanoBanana("google/nano-banana-2", {
    resolution: true,
    inputs: ["resolution", "image_search", "google_search"],
  }),
  nanoBanana("google/nano-banana-pro", {
    resolution: true,
    safety: true,
    inputs: ["resolution", "safety_filter_level", "allow_fallback_model"],
  }),
] as const satisfies readonly ImageModelSpec[];

export type ImageModelId = (typeof MODELS)[number]["id"];
export const IMAGE_MODEL_IDS = MODELS.map((m) => m.id) as [ImageModelId, ...ImageModelId[]];

export function imageModel(id: ImageModelId): ImageModelSpec {
  const spec = MODELS.find((m) => m.id === id);
  if (!spec) throw new Error(`unknown image model ${id}`);
  return spec;
}
