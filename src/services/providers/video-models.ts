// Image-to-video models with a known input mapping: where the reference image goes, and nothing undeclared.
import type { VideoRequest } from "./types.ts";

export interface VideoModelSpec {
  id: string;
  declaredInputs: readonly string[];
  buildInput(request: VideoRequest): Record<string, unknown>;
}

const MODELS = [
  {
    id: "minimax/video-01",
    // subject_reference is exactly a character reference: the character is kept, the scene follows the prompt.
    declaredInputs: ["prompt", "prompt_optimizer", "first_frame_image", "subject_reference"],
    buildInput: (r: VideoRequest) => ({
      prompt: r.prompt,
      prompt_optimizer: true,
      subject_reference: r.image,
    }),
  },
  {
    id: "kwaivgi/kling-v2.1",
    declaredInputs: ["prompt", "negative_prompt", "start_image", "mode", "duration"],
    buildInput: (r: VideoRequest) => ({
      prompt: r.prompt,
      start_image: r.image,
      mode: "standard",
      duration: 5,
    }),
  },
  {
    id: "google/veo-3-fast",
    declaredInputs: [
      "prompt",
      "image",
      "aspect_ratio",
      "resolution",
      "generate_audio",
      "seed",
      "negative_prompt",
    ],
    buildInput: (r: VideoRequest) => ({ prompt: r.prompt, image: r.image }),
  },
] as const satisfies readonly VideoModelSpec[];

export type VideoModelId = (typeof MODELS)[number]["id"];
export const VIDEO_MODEL_IDS = MODELS.map((m) => m.id) as [VideoModelId, ...VideoModelId[]];

export function videoModel(id: VideoModelId): VideoModelSpec {
  const spec = MODELS.find((m) => m.id === id);
  if (!spec) throw new Error(`unknown video model ${id}`);
  return spec;
}
