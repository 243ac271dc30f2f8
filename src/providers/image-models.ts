// The image models the bot can drive on Replicate, each with its declared inputs and its own input builder.
import { t, tPublic } from "../kit/i18n.ts";
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

/** One line on what `model` does with `level`, for /settings (the member's own reply). */
export function describeModelSafety(model: string, level: SafetyFilterLevel): string {
  switch (safetyFilterKind(model)) {
    case "adjustable":
      return t("models:safety.applies", { level });
    case "fixed":
      return t("models:safety.cannotApply", { level });
    case "none":
      return t("models:safety.placeholders");
  }
}

/**
 * The plain statement for a finished grid when the server chose a safety level and some of its images were
 * drawn by a model that cannot apply it; undefined when every image honoured the level (or none was chosen).
 * In the channel's language: the grid is public.
 */
export function unappliedSafetyNotice(
  level: SafetyFilterLevel | undefined,
  models: ReadonlyArray<string | null>,
): string | undefined {
  if (!level) return undefined;
  const unapplied = [...new Set(models)].filter(
    (m): m is string => m !== null && safetyFilterKind(m) !== "adjustable",
  );
  const [first, ...rest] = unapplied;
  if (first === undefined) return undefined;
  const why = (model: string) =>
    safetyFilterKind(model) === "fixed"
      ? tPublic("models:safety.fixedReason", { model })
      : tPublic("models:safety.placeholderReason", { model });
  return tPublic("models:safety.unappliedNotice", {
    level,
    models: rest.reduce((list, model) => tPublic("models:safety.either", { list, model }), first),
    reasons: unapplied.map(why).join("; "),
  });
}
