// What the generation service needs from an image source: start, poll, cancel, download.
import type { PredictionFailure } from "../../domain/failures.ts";
import type { AspectRatio, SafetyFilterLevel } from "./image-models.ts";

export interface ImageRequest {
  prompt: string;
  aspectRatio: AspectRatio;
  /** 1–4; the mock provider draws it on the image. */
  slot: number;
  safetyFilterLevel?: SafetyFilterLevel;
}

export interface StartedPrediction {
  predictionId: string;
  /** The model that actually runs this prediction (the fallback when the configured one is gone). */
  model: string;
}

export type PredictionState =
  | { status: "running" }
  | { status: "succeeded"; output: string }
  | { status: "failed"; failure: PredictionFailure };

/** Every method reports expected failures by throwing PredictionFailure (or returning a failed state). */
export interface PredictionProvider<Request> {
  readonly name: string;
  start(request: Request, signal?: AbortSignal): Promise<StartedPrediction>;
  get(predictionId: string, signal?: AbortSignal): Promise<PredictionState>;
  cancel(predictionId: string): Promise<void>;
  fetchOutput(output: string, signal?: AbortSignal): Promise<Uint8Array>;
}

export type ImageProvider = PredictionProvider<ImageRequest>;

export interface VideoRequest {
  prompt: string;
  /** The reference image as a data: URI. */
  image: string;
}

export type VideoProvider = PredictionProvider<VideoRequest>;
