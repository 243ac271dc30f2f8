// The upscaling models the bot can drive on Replicate (UPSCALE_MODEL), each with its declared inputs.

export interface UpscaleModelSpec {
  id: string;
  /**
   * The published version predictions are created with: a community model (unlike Google's official ones)
   * has no `models/{owner}/{name}/predictions` endpoint, only versions. Pinned, so an upscale sends the same
   * input to the same code until this table changes.
   */
  version: string;
  /** Approximate US dollars per upscale, from Replicate's public pricing at the time of writing (an estimate). */
  approxUsd: number;
  /** Every input field the model declares in its published schema; nothing else is ever sent. */
  declaredInputs: readonly string[];
  /** The stored image as a URL or data: URI, the factor, and whether GFPGAN retouches faces. */
  buildInput(image: string, scale: number, faceEnhance: boolean): Record<string, unknown>;
}

const MODELS = [
  {
    // Real-ESRGAN; inputs from its published schema: `image` (file), `scale` (0–10, default 4),
    // `face_enhance` (GFPGAN, default false).
    id: "nightmareai/real-esrgan",
    version: "42fed1c4974146d4d2414e2be2c5277c7fcf05fcc3a73abf41610695738c1d7b",
    approxUsd: 0.0025,
    declaredInputs: ["image", "scale", "face_enhance"],
    buildInput: (image: string, scale: number, faceEnhance: boolean) => ({
      image,
      scale,
      face_enhance: faceEnhance,
    }),
  },
] as const satisfies readonly UpscaleModelSpec[];

export type UpscaleModelId = (typeof MODELS)[number]["id"];
export const UPSCALE_MODEL_IDS = MODELS.map((m) => m.id) as [UpscaleModelId, ...UpscaleModelId[]];
export const UPSCALE_MODEL_PRICES_USD: Record<string, number> = Object.fromEntries(
  MODELS.map((m) => [m.id, m.approxUsd]),
);

export function upscaleModel(id: UpscaleModelId): UpscaleModelSpec {
  const spec = MODELS.find((m) => m.id === id);
  if (!spec) throw new Error(`unknown upscale model ${id}`);
  return spec;
}
