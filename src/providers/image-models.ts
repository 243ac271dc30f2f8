// The image models the bot can drive on Replicate, each with its declared inputs and its own input builder.
import { DEFAULT_SAFETY_FILTER_LEVEL, type ImageRequest, type SafetyFilterLevel } from "./types.ts";

export interface ImageModelSpec {
  id: string;
  /**
   * Approximate US dollars per image, from Replicate's public pricing at the time of writing, for /usage's
   * estimate (MODEL_PRICES_USD overrides it). Estimates only: Replicate's bill is the truth.
   */
  approxUsd: number;
  /** Every input field the model declares in its published schema; nothing else is ever sent. */
  declaredInputs: readonly string[];
  /** Whether it draws from reference images (`image_input`): variations and /character reference: need one. */
  takesReference: boolean;
  /**
   * How many images its `image_input` takes at most (0: none), from its published schema: a request with more
   * references is refused before anything is recorded or charged.
   */
  maxImageInputs: number;
  /**
   * `references`: the images to draw from, in order, each a URL or data: URI; only for a model that takes
   * references.
   */
  buildInput(request: ImageRequest, references?: readonly string[]): Record<string, unknown>;
}

const IMAGEN_INPUTS = ["prompt", "aspect_ratio", "output_format", "safety_filter_level"] as const;

function imagen(id: string, approxUsd: number): ImageModelSpec {
  return {
    id,
    approxUsd,
    declaredInputs: IMAGEN_INPUTS,
    takesReference: false,
    maxImageInputs: 0,
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
 * Google's Gemini image models, every one with `image_input`: an array of images the model draws from, in
 * order. How many it takes, as checked in December 2026: nano-banana's Replicate schema says only "supports
 * multiple images", and Google documents Gemini 2.5 Flash Image (which it runs) as taking at most 3 images a
 * prompt; nano-banana-2 and nano-banana-pro say "supports up to 14 images". (bytedance/seedream-4, checked too,
 * takes 1–10 in its `image_input`, but returns a list of images and is not driven here.) `resolution` is sent where declared and kept at 1K: a character reference is
 * looked at in a Discord grid, and 1K keeps files under Discord's upload limit and costs at their lowest.
 */
function nanoBanana(
  id: string,
  approxUsd: number,
  extra: { resolution?: boolean; safety?: boolean; maxImageInputs: number; inputs: readonly string[] },
) {
  return {
    id,
    approxUsd,
    declaredInputs: [...NANO_BANANA_INPUTS, ...extra.inputs],
    takesReference: true,
    maxImageInputs: extra.maxImageInputs,
    buildInput: (r: ImageRequest, references?: readonly string[]) => ({
      prompt: r.prompt,
      ...(references?.length ? { image_input: [...references] } : {}),
      aspect_ratio: r.aspectRatio,
      output_format: "png",
      ...(extra.resolution ? { resolution: "1K" } : {}),
      ...(extra.safety ? { safety_filter_level: r.safetyFilterLevel ?? DEFAULT_SAFETY_FILTER_LEVEL } : {}),
    }),
  } satisfies ImageModelSpec;
}

const MODELS = [
  imagen("google/imagen-4", 0.04),
  imagen("google/imagen-4-fast", 0.02),
  imagen("google/imagen-4-ultra", 0.06),
  nanoBanana("google/nano-banana", 0.039, { maxImageInputs: 3, inputs: [] }),
  nanoBanana("google/nano-banana-2", 0.067, {
    resolution: true,
    maxImageInputs: 14,
    inputs: ["resolution", "image_search", "google_search"],
  }),
  nanoBanana("google/nano-banana-pro", 0.15, {
    resolution: true,
    maxImageInputs: 14,
    safety: true,
    inputs: ["resolution", "safety_filter_level", "allow_fallback_model"],
  }),
] as const satisfies readonly ImageModelSpec[];

export type ImageModelId = (typeof MODELS)[number]["id"];
export const IMAGE_MODEL_IDS = MODELS.map((m) => m.id) as [ImageModelId, ...ImageModelId[]];
export const IMAGE_MODEL_PRICES_USD: Record<string, number> = Object.fromEntries(
  MODELS.map((m) => [m.id, m.approxUsd]),
);

/** The models that draw from a reference image: what IMAGE_REFERENCE_MODEL may name. */
export const REFERENCE_MODEL_IDS = MODELS.filter((m) => m.takesReference).map((m) => m.id) as [
  ImageModelId,
  ...ImageModelId[],
];

export function imageModel(id: ImageModelId): ImageModelSpec {
  const spec = MODELS.find((m) => m.id === id);
  if (!spec) throw new Error(`unknown image model ${id}`);
  return spec;
}

/**
 * What a model does with a server's safety level: `adjustable` models take it as `safety_filter_level`;
 * `fixed` ones (nano-banana, nano-banana-2) declare no such input and always apply Google's own filter,
 * which no setting tightens or loosens; `none` is anything outside the registry, i.e. the offline mock,
 * which draws placeholders and filters nothing.
 */
export type SafetyFilterKind = "adjustable" | "fixed" | "none";

export function safetyFilterKind(model: string): SafetyFilterKind {
  const spec = MODELS.find((m) => m.id === model);
  if (!spec) return "none";
  return (spec.declaredInputs as readonly string[]).includes("safety_filter_level") ? "adjustable" : "fixed";
}

/**
 * The models among `models` that cannot apply the safety level a server chose (a finished grid says so); none
 * when every image honoured the level, or none was chosen.
 */
export function unappliedSafetyModels(
  level: SafetyFilterLevel | undefined,
  models: ReadonlyArray<string | null>,
): string[] {
  if (!level) return [];
  return [...new Set(models)].filter((m): m is string => m !== null && safetyFilterKind(m) !== "adjustable");
}
