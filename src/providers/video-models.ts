// Image-to-video models with a known input mapping: which field takes the start frame, the end frame and
// reference images, the lengths and aspect ratios each allows, its price per second, and nothing undeclared.
//
// Checked against each model's published input schema on Replicate (the version pages' "Input schema"):
// - google/veo-3.1 (version ed5b1767): `image` (start), `last_frame` (end), `reference_images` (1 to 3, "only
//   work with 16:9 aspect ratio and 8-second duration", and the last frame is ignored with them), `duration`
//   (4, 6, 8; default 8), `aspect_ratio` (16:9, 9:16), `resolution`, `generate_audio`, `negative_prompt`,
//   `seed`. About $0.40 a second with audio (the default).
// - kwaivgi/kling-v2.1 (version daad218f): `start_image` (required), `end_image` ("pro mode is required when
//   this parameter is set"), `mode` (standard 720p, pro 1080p), `duration` (5 or 10), `negative_prompt`; no
//   aspect ratio: the video follows the start image. About $0.05 a second standard, $0.09 pro: the estimate
//   uses the standard rate, so an end-framed (pro) Kling video is estimated low.
// - bytedance/seedance-1-lite (version f22bbc7d): `image`, `last_frame_image` ("only works if an image start
//   frame is given too"), `reference_images` (1 to 4; "cannot be used with 1080p resolution or first frame or
//   last frame images"), `duration` (integer 2 to 12, default 5), `aspect_ratio` ("ignored if an image is
//   used"), `resolution` (default 720p), `fps`, `camera_fixed`, `seed`. About $0.036 a second at 720p.
// - minimax/hailuo-02 (version c43b610e): `first_frame_image`, `last_frame_image`, `duration` (6 or 10; "10
//   seconds is only available for 768p"), `resolution` (512p, 768p, 1080p; default 1080p), `prompt_optimizer`;
//   no aspect ratio (the first frame's). Sent at 768p, so both lengths and an end frame work: about $0.045 a
//   second.
// - minimax/video-01 and google/veo-3-fast, which the bot used before: video-01 takes `subject_reference` (a
//   character kept, the scene from the prompt) and makes 6 s (about $0.50 a video); veo-3-fast takes `image`
//   and `aspect_ratio` and makes 8 s (about $0.15 a second with audio). Neither has an end frame.
// Prices are approximate (Replicate's pricing pages at the time of writing); MODEL_PRICES_USD overrides them.

import { t } from "../kit/i18n.ts";

/** A video request with its images as the strings the model's fields take (URLs or data: URIs). */
export interface VideoInput {
  prompt: string;
  /** The start frame (for video-01: the character reference). */
  image: string;
  endImage?: string | undefined;
  /** More references: with them, every reference (the start one first) goes in as a reference image. */
  referenceImages?: readonly string[] | undefined;
  durationSeconds: number;
  aspectRatio?: string | undefined;
}

export interface VideoModelSpec {
  id: string;
  /** Approximate US dollars per second of video, for /usage's estimate. */
  usdPerSecond: number;
  /** The field the start reference goes to. */
  startInput: string;
  /** The field of the last frame; absent: the model has none. */
  endFrameInput?: string;
  /** What else an end frame needs (Kling: pro mode). */
  endFrameInputs?: Record<string, unknown>;
  /** Reference images: the field, and how many at most counting the start reference (which is sent first). */
  referenceImages?: { input: string; max: number };
  durations: readonly number[];
  defaultDuration: number;
  /** Absent: the model makes one length and takes no duration. */
  durationInput?: string;
  /** Empty: the video follows the start image. */
  aspectRatios: readonly string[];
  defaultAspectRatio?: string;
  aspectRatioInput?: string;
  /** The aspect ratio is only read without a start frame (with reference images); else the image's is kept. */
  aspectRatioOnlyWithReferences?: boolean;
  /** Sent with every request. */
  fixedInputs?: Record<string, unknown>;
  declaredInputs: readonly string[];
  /** Limits beyond the table's columns: words for the refusal, or undefined. */
  limits?(request: ResolvedVideoOptions): string | undefined;
}

/** What a member asked of a video model (undefined: not asked, the model's default). */
export interface VideoOptions {
  endFrame: boolean;
  /** References beyond the start one. */
  extraReferences: number;
  durationSeconds?: number | undefined;
  aspectRatio?: string | undefined;
}

export interface ResolvedVideoOptions {
  endFrame: boolean;
  extraReferences: number;
  durationSeconds: number;
  /** Undefined where the video follows its start image. */
  aspectRatio: string | undefined;
}

const MODELS = [
  {
    id: "minimax/video-01",
    usdPerSecond: 0.5 / 6,
    startInput: "subject_reference",
    durations: [6],
    defaultDuration: 6,
    aspectRatios: [],
    fixedInputs: { prompt_optimizer: true },
    declaredInputs: ["prompt", "prompt_optimizer", "first_frame_image", "subject_reference"],
  },
  {
    id: "kwaivgi/kling-v2.1",
    usdPerSecond: 0.05,
    startInput: "start_image",
    endFrameInput: "end_image",
    endFrameInputs: { mode: "pro" },
    durations: [5, 10],
    defaultDuration: 5,
    durationInput: "duration",
    aspectRatios: [],
    fixedInputs: { mode: "standard" },
    declaredInputs: ["prompt", "negative_prompt", "start_image", "end_image", "mode", "duration"],
  },
  {
    id: "google/veo-3-fast",
    usdPerSecond: 0.15,
    startInput: "image",
    durations: [8],
    defaultDuration: 8,
    aspectRatios: ["16:9", "9:16"],
    defaultAspectRatio: "16:9",
    aspectRatioInput: "aspect_ratio",
    declaredInputs: [
      "prompt",
      "image",
      "aspect_ratio",
      "resolution",
      "generate_audio",
      "seed",
      "negative_prompt",
    ],
  },
  {
    id: "google/veo-3.1",
    usdPerSecond: 0.4,
    startInput: "image",
    endFrameInput: "last_frame",
    referenceImages: { input: "reference_images", max: 3 },
    durations: [4, 6, 8],
    defaultDuration: 8,
    durationInput: "duration",
    aspectRatios: ["16:9", "9:16"],
    defaultAspectRatio: "16:9",
    aspectRatioInput: "aspect_ratio",
    declaredInputs: [
      "prompt",
      "image",
      "last_frame",
      "reference_images",
      "duration",
      "aspect_ratio",
      "resolution",
      "generate_audio",
      "negative_prompt",
      "seed",
    ],
    limits: (r: ResolvedVideoOptions) =>
      r.extraReferences > 0 && (r.durationSeconds !== 8 || r.aspectRatio !== "16:9")
        ? t("models:video.veoReferencesOnly", { model: "google/veo-3.1", seconds: 8, ratio: "16:9" })
        : undefined,
  },
  {
    id: "bytedance/seedance-1-lite",
    usdPerSecond: 0.036,
    startInput: "image",
    endFrameInput: "last_frame_image",
    referenceImages: { input: "reference_images", max: 4 },
    durations: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    defaultDuration: 5,
    durationInput: "duration",
    aspectRatios: ["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21"],
    defaultAspectRatio: "16:9",
    aspectRatioInput: "aspect_ratio",
    aspectRatioOnlyWithReferences: true,
    declaredInputs: [
      "prompt",
      "image",
      "last_frame_image",
      "reference_images",
      "duration",
      "aspect_ratio",
      "resolution",
      "fps",
      "camera_fixed",
      "seed",
    ],
  },
  {
    id: "minimax/hailuo-02",
    usdPerSecond: 0.045,
    startInput: "first_frame_image",
    endFrameInput: "last_frame_image",
    durations: [6, 10],
    defaultDuration: 6,
    durationInput: "duration",
    aspectRatios: [],
    fixedInputs: { resolution: "768p", prompt_optimizer: true },
    declaredInputs: [
      "prompt",
      "first_frame_image",
      "last_frame_image",
      "duration",
      "resolution",
      "prompt_optimizer",
    ],
  },
] as const satisfies readonly VideoModelSpec[];

export type VideoModelId = (typeof MODELS)[number]["id"];
export const VIDEO_MODEL_IDS = MODELS.map((m) => m.id) as [VideoModelId, ...VideoModelId[]];
/** Approximate US dollars per second of video, by model. */
export const VIDEO_MODEL_PRICES_USD: Record<string, number> = Object.fromEntries(
  MODELS.map((m) => [m.id, m.usdPerSecond]),
);
/** Every aspect ratio some video model takes: the /video option's choices. */
export const VIDEO_ASPECT_RATIOS: readonly string[] = [
  ...new Set(MODELS.flatMap((m): readonly string[] => m.aspectRatios)),
];
/** Every length some video model makes, shortest first: the /video option's choices. */
export const VIDEO_DURATIONS: readonly number[] = [
  ...new Set(MODELS.flatMap((m): readonly number[] => m.durations)),
].sort((a, b) => a - b);

export function isVideoModelId(id: string): id is VideoModelId {
  return MODELS.some((m) => m.id === id);
}

export function videoModel(id: VideoModelId): VideoModelSpec {
  const spec: VideoModelSpec | undefined = MODELS.find((m) => m.id === id);
  if (!spec) throw new Error(`unknown video model ${id}`);
  return spec;
}

/** A model's length when a request recorded none (a video made before lengths could be chosen). */
export function defaultVideoSeconds(model: string): number | undefined {
  return isVideoModelId(model) ? videoModel(model).defaultDuration : undefined;
}

/** What a model can do, in words, for a refusal (in the member's language: refusals are theirs alone). */
export function describeVideoModel(spec: VideoModelSpec): string {
  return t("models:video.takes", {
    model: spec.id,
    length: spec.durationInput
      ? t("models:video.lengths", { durations: spec.durations.join(", ") })
      : t("models:video.oneLength", { seconds: spec.defaultDuration }),
    ratio:
      spec.aspectRatios.length === 0
        ? t("models:video.startImageRatio")
        : spec.aspectRatioOnlyWithReferences
          ? t("models:video.aspectRatiosWithReferences", { ratios: spec.aspectRatios.join(", ") })
          : t("models:video.aspectRatios", { ratios: spec.aspectRatios.join(", ") }),
    endFrame: spec.endFrameInput ? t("models:video.endFrame") : t("models:video.noEndFrame"),
    references: spec.referenceImages
      ? t("models:video.moreReferences", { count: spec.referenceImages.max - 1 })
      : t("models:video.noReferences"),
  });
}

/** Why a model cannot make what was asked, from the table alone. */
function unmet(spec: VideoModelSpec, asked: VideoOptions): string | undefined {
  const model = spec.id;
  const refs = spec.referenceImages;
  if (asked.endFrame && !spec.endFrameInput) return t("models:video.refuse.endFrame", { model });
  if (asked.extraReferences > 0 && !refs) return t("models:video.refuse.noReferences", { model });
  if (refs && asked.extraReferences > refs.max - 1) {
    return t("models:video.refuse.tooManyReferences", { model, max: refs.max - 1 });
  }
  if (asked.extraReferences > 0 && asked.endFrame) {
    return t("models:video.refuse.referencesWithEndFrame", { model });
  }
  if (asked.durationSeconds !== undefined && !spec.durations.includes(asked.durationSeconds)) {
    return t("models:video.refuse.duration", { model, seconds: asked.durationSeconds });
  }
  if (
    asked.aspectRatio !== undefined &&
    (!ratioRead(spec, asked) || !spec.aspectRatios.includes(asked.aspectRatio))
  ) {
    return t("models:video.refuse.aspectRatio", { model, ratio: asked.aspectRatio });
  }
  return undefined;
}

/** Whether the model reads an aspect ratio for this request (else the video follows its start image). */
function ratioRead(spec: VideoModelSpec, asked: VideoOptions): boolean {
  return spec.aspectRatios.length > 0 && (!spec.aspectRatioOnlyWithReferences || asked.extraReferences > 0);
}

/**
 * Whether `spec` can make what was asked, with the defaults filled in; a refusal says what it cannot do and
 * what the model can. Checked before anything is recorded or charged.
 */
export function resolveVideoOptions(
  spec: VideoModelSpec,
  asked: VideoOptions,
): { ok: true; options: ResolvedVideoOptions } | { ok: false; message: string } {
  const refuse = (what: string) => ({
    ok: false as const,
    message: t("models:video.refusal", { what, capabilities: describeVideoModel(spec) }),
  });
  const problem = unmet(spec, asked);
  if (problem) return refuse(problem);
  const options: ResolvedVideoOptions = {
    endFrame: asked.endFrame,
    extraReferences: asked.extraReferences,
    durationSeconds: asked.durationSeconds ?? spec.defaultDuration,
    aspectRatio: ratioRead(spec, asked) ? (asked.aspectRatio ?? spec.defaultAspectRatio) : undefined,
  };
  const limit = spec.limits?.(options);
  return limit ? refuse(limit) : { ok: true, options };
}

/** The model's input for a request: each image under the model's own field, and only declared fields. */
export function buildVideoInput(spec: VideoModelSpec, request: VideoInput): Record<string, unknown> {
  const input: Record<string, unknown> = { prompt: request.prompt, ...spec.fixedInputs };
  const extra = request.referenceImages ?? [];
  if (extra.length > 0 && spec.referenceImages) {
    input[spec.referenceImages.input] = [request.image, ...extra];
  } else {
    input[spec.startInput] = request.image;
    if (request.endImage !== undefined && spec.endFrameInput) {
      input[spec.endFrameInput] = request.endImage;
      Object.assign(input, spec.endFrameInputs);
    }
  }
  if (spec.durationInput) input[spec.durationInput] = request.durationSeconds;
  if (spec.aspectRatioInput && request.aspectRatio !== undefined) {
    input[spec.aspectRatioInput] = request.aspectRatio;
  }
  return input;
}
