// The models the fake Replicate server knows, with the input fields each declares in its published schema on
// Replicate, kept here apart from the bot's own model registry so that a field the bot should not send is caught.

export const PUBLISHED_INPUTS: Record<string, readonly string[]> = {
  "google/imagen-4": ["prompt", "aspect_ratio", "output_format", "safety_filter_level"],
  "google/imagen-4-fast": ["prompt", "aspect_ratio", "output_format", "safety_filter_level"],
  "google/imagen-4-ultra": ["prompt", "aspect_ratio", "output_format", "safety_filter_level"],
  "google/nano-banana": ["prompt", "image_input", "aspect_ratio", "output_format"],
  "google/nano-banana-2": [
    "prompt",
    "image_input",
    "aspect_ratio",
    "resolution",
    "image_search",
    "google_search",
    "output_format",
  ],
  "google/nano-banana-pro": [
    "prompt",
    "image_input",
    "aspect_ratio",
    "resolution",
    "output_format",
    "safety_filter_level",
    "allow_fallback_model",
  ],
  // A community model: created by version (POST /v1/predictions), see PUBLISHED_VERSIONS.
  "nightmareai/real-esrgan": ["image", "scale", "face_enhance"],
  "minimax/video-01": ["prompt", "prompt_optimizer", "first_frame_image", "subject_reference"],
  "kwaivgi/kling-v2.1": ["prompt", "negative_prompt", "start_image", "end_image", "mode", "duration"],
  "google/veo-3-fast": [
    "prompt",
    "image",
    "aspect_ratio",
    "resolution",
    "generate_audio",
    "seed",
    "negative_prompt",
  ],
  "google/veo-3.1": [
    "prompt",
    "aspect_ratio",
    "duration",
    "image",
    "last_frame",
    "reference_images",
    "negative_prompt",
    "resolution",
    "generate_audio",
    "seed",
  ],
  "bytedance/seedance-1-lite": [
    "resolution",
    "aspect_ratio",
    "fps",
    "seed",
    "image",
    "prompt",
    "duration",
    "camera_fixed",
    "last_frame_image",
    "reference_images",
  ],
  "minimax/hailuo-02": [
    "prompt",
    "first_frame_image",
    "last_frame_image",
    "duration",
    "resolution",
    "prompt_optimizer",
  ],
};

/** The models whose output is a video (an mp4) rather than an image. */
export const VIDEO_MODELS: ReadonlySet<string> = new Set([
  "minimax/video-01",
  "kwaivgi/kling-v2.1",
  "google/veo-3-fast",
  "google/veo-3.1",
  "bytedance/seedance-1-lite",
  "minimax/hailuo-02",
]);

/** Community models' published versions, by version id: they are created by version, not by model name. */
export const PUBLISHED_VERSIONS: Record<string, string> = {
  "42fed1c4974146d4d2414e2be2c5277c7fcf05fcc3a73abf41610695738c1d7b": "nightmareai/real-esrgan",
};

/** Models created only by version: their `models/{owner}/{name}/predictions` endpoint does not exist. */
export const VERSIONED_MODELS: ReadonlySet<string> = new Set(Object.values(PUBLISHED_VERSIONS));
