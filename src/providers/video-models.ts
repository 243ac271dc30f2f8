// Image-to-video models with a known input mapping: where the reference image goes, and nothing undeclared.

/** A video request with its reference image as the string the model's field takes (a URL or a data: URI). */
export interface VideoInput {
  prompt: string;
  image: string;
}

export interface VideoModelSpec {
  id: string;
  /** Approximate US dollars per video at the model's default length, for /usage's estimate (see image-models). */
  approxUsd: number;
  declaredInputs: readonly string[];
  buildInput(request: VideoInput): Record<string, unknown>;
}

const MODELS = [
  {
    id: "minimax/video-01",
    approxUsd: 0.5,
    // subject_reference is exactly a character reference: the character is kept, the scene follows the prompt.
    declaredInputs: ["prompt", "prompt_optimizer", "first_frame_image", "subject_reference"],
    buildInput: (r: VideoInput) => ({
      prompt: r.prompt,
      prompt_optimizer: true,
      subject_reference: r.image,
    }),
  },
  {
    id: "kwaivgi/kling-v2.1",
    approxUsd: 0.25,
    declaredInputs: ["prompt", "negative_prompt", "start_image", "mode", "duration"],
    buildInput: (r: VideoInput) => ({
      prompt: r.prompt,
      start_image: r.image,
      mode: "standard",
      duration: 5,
    }),
  },
  {
    id: "google/veo-3-fast",
    approxUsd: 1.2,
    declaredInputs: [
      "prompt",
      "image",
      "aspect_ratio",
      "resolution",
      "generate_audio",
      "seed",
      "negative_prompt",
    ],
    buildInput: (r: VideoInput) => ({ prompt: r.prompt, image: r.image }),
  },
] as const satisfies readonly VideoModelSpec[];

export type VideoModelId = (typeof MODELS)[number]["id"];
export const VIDEO_MODEL_IDS = MODELS.map((m) => m.id) as [VideoModelId, ...VideoModelId[]];
export const VIDEO_MODEL_PRICES_USD: Record<string, number> = Object.fromEntries(
  MODELS.map((m) => [m.id, m.approxUsd]),
);

export function videoModel(id: VideoModelId): VideoModelSpec {
  const spec = MODELS.find((m) => m.id === id);
  if (!spec) throw new Error(`unknown video model ${id}`);
  return spec;
}
