// What the services need from a prediction source: start (or recover a lost start), poll, cancel, download.
import type { PredictionFailure } from "../kit/failures.ts";

export const ASPECT_RATIOS = ["1:1", "9:16", "16:9", "3:4", "4:3"] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const SAFETY_FILTER_LEVELS = [
  "block_low_and_above",
  "block_medium_and_above",
  "block_only_high",
] as const;
export type SafetyFilterLevel = (typeof SAFETY_FILTER_LEVELS)[number];
export const DEFAULT_SAFETY_FILTER_LEVEL: SafetyFilterLevel = "block_medium_and_above";

/** A stored level as a level the models know, or undefined (unset, or a value no model would accept). */
export function asSafetyFilterLevel(value: string | null | undefined): SafetyFilterLevel | undefined {
  return SAFETY_FILTER_LEVELS.find((l) => l === value);
}

export interface ImageRequest {
  prompt: string;
  aspectRatio: AspectRatio;
  /** 1–4; the mock provider draws it on the image. */
  slot: number;
  safetyFilterLevel?: SafetyFilterLevel;
  /**
   * The images to draw from, in order (a variation, or the characters of /character's references): the prompt
   * says what to draw. Absent or empty: a new character.
   */
  references?: readonly ReferenceImage[];
  /** Enlarge `references[0]` by `scale` instead of drawing (UPSCALE_MODEL): the prompt is not sent. */
  upscale?: { scale: number; faceEnhance: boolean };
}

export interface StartedPrediction {
  predictionId: string;
  /** The model that actually runs this prediction (the fallback when the configured one is gone). */
  model: string;
}

export type PredictionState =
  | { status: "running" }
  | {
      status: "succeeded";
      output: string;
      /** The prediction's own running time as the provider reports it (creation to completion), if it does. */
      durationMs?: number;
    }
  | { status: "failed"; failure: PredictionFailure };

/** Every method reports expected failures by throwing PredictionFailure (or returning a failed state). */
export interface PredictionProvider<Request> {
  readonly name: string;
  start(request: Request, signal?: AbortSignal): Promise<StartedPrediction>;
  /**
   * Finds the prediction a create of `request`, sent at `sentAt` (epoch ms) by a run that stopped before its
   * answer was recorded, made: never creates one. Prediction ids in `excludeIds` (held by other jobs) are never
   * returned. Undefined when the provider surely has no such prediction (looked for long enough after
   * `sentAt` for any create that arrived to show): the caller then creates it, once.
   */
  recover(
    request: Request,
    sentAt: number,
    excludeIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<StartedPrediction | undefined>;
  get(predictionId: string, signal?: AbortSignal): Promise<PredictionState>;
  cancel(predictionId: string): Promise<void>;
  fetchOutput(output: string, signal?: AbortSignal): Promise<Uint8Array>;
}

/** A provider that can put a reference image where its model fetches it. */
export interface ReferenceHost {
  /**
   * Puts the reference where the model can fetch it (Replicate's Files API) and returns its URL; undefined when
   * that is not available and the image is small enough to send inline. Absent: the bytes are sent as they are.
   */
  hostReference?(image: { data: Buffer; mime: string }, signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Deletes an upload `hostReference` made, by the URL it returned (an erasure); resolves when it is gone or
   * was gone already, throws when the provider could not be asked. Absent: nothing is uploaded anywhere.
   */
  forgetReference?(url: string): Promise<void>;
}

export interface ImageProvider extends PredictionProvider<ImageRequest>, ReferenceHost {}

export interface VideoRequest {
  prompt: string;
  /** The video model's table id (see video-models.ts); the mock provider ignores it. */
  model: string;
  /** The start frame (or, for a model without frames, the character reference). */
  image: ReferenceImage;
  /** The last frame, for a model that takes one. */
  endImage?: ReferenceImage | undefined;
  /** More references, sent with the start one as the model's reference images. */
  referenceImages?: readonly ReferenceImage[] | undefined;
  durationSeconds: number;
  /** Undefined where the video follows its start image. */
  aspectRatio?: string | undefined;
}

/**
 * The reference image a video starts from: a signed link the model fetches (PUBLIC_URL is set), or else its
 * stored bytes, which the provider sends as it can (Replicate: its Files API, or a data: URI for a small one).
 */
export type ReferenceImage = { url: string } | { data: Buffer; mime: string };

export interface VideoProvider extends PredictionProvider<VideoRequest>, ReferenceHost {}
