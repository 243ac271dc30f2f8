// What the image and video providers on Replicate share: one client, and polling, cancelling, recovering and
// downloading done the same way, and a reference image sent the same way (a signed link to the bot's own copy,
// else a file uploaded to Replicate's Files API, else, for a small image only, a data: URI); each says how it
// starts a prediction and which inputs it may have sent.
import { PredictionFailure } from "../../kit/failures.ts";
import type { Logger } from "../../kit/logger.ts";
import type { PredictionProvider, PredictionState, ReferenceImage, StartedPrediction } from "../types.ts";
import { classifyRequestError } from "./errors.ts";
import type { ReplicatePredictions } from "./predictions-client.ts";

/**
 * The largest reference sent inline as a data: URI, and only when neither a link nor an upload is possible:
 * inside the create's JSON body it is re-sent with every retry and kept in the prediction's input.
 */
export const MAX_DATA_URI_IMAGE_BYTES = 256 * 1024;

export abstract class ReplicateProvider<Request> implements PredictionProvider<Request> {
  readonly name = "replicate";

  protected constructor(protected readonly predictions: ReplicatePredictions) {}

  abstract start(request: Request, signal?: AbortSignal): Promise<StartedPrediction>;

  /** Every model and input a create for `request` may have been sent as (a model and its fallback, say). */
  protected abstract sentAs(request: Request): Array<{ model: string; input: Record<string, unknown> }>;

  /** How long a download may take and how large its output may be. */
  protected abstract downloadLimits(): { timeoutMs: number; maxBytes: number };

  /** Where a failed Files API upload is reported. */
  protected abstract get logger(): Logger;

  /**
   * Uploads a reference to Replicate's Files API and returns the file's URL (the caller records it before the
   * create is sent, so a restart sends the same input). When the upload is refused or Replicate is
   * unreachable: undefined for an image small enough to go inline as a data: URI, a failure for a larger one.
   */
  async hostReference(
    image: { data: Buffer; mime: string },
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    try {
      return await this.predictions.uploadFile(image.data, image.mime, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      const reason = classifyRequestError(err, "uploading the reference image to Replicate's Files API");
      if (image.data.length > MAX_DATA_URI_IMAGE_BYTES) {
        throw new PredictionFailure(
          reason.code,
          `${reason.message}; the image is too large to send inline, and without PUBLIC_URL there is no link to it`,
        );
      }
      this.logger.warn(
        { err: reason.message, bytes: image.data.length },
        "Files API upload failed; sending the small reference image inline",
      );
      return undefined;
    }
  }

  forgetReference(url: string): Promise<void> {
    return this.predictions.deleteFile(url);
  }

  recover(
    request: Request,
    sentAt: number,
    excludeIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<StartedPrediction | undefined> {
    return this.predictions.recover(this.sentAs(request), sentAt, excludeIds, signal);
  }

  get(predictionId: string, signal?: AbortSignal): Promise<PredictionState> {
    return this.predictions.get(predictionId, signal);
  }

  cancel(predictionId: string): Promise<void> {
    return this.predictions.cancel(predictionId);
  }

  fetchOutput(output: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.predictions.download(output, this.downloadLimits(), signal);
  }
}

/**
 * The reference as a model's field takes it: a URL (a signed link, or an uploaded file) as it is; bytes as a
 * data: URI, only for a small image.
 */
export function referenceInput(image: ReferenceImage): string {
  if ("url" in image) return image.url;
  if (image.data.length > MAX_DATA_URI_IMAGE_BYTES) {
    throw new PredictionFailure(
      "provider_error",
      `the reference image is ${image.data.length} bytes, too large to send inline (at most ${MAX_DATA_URI_IMAGE_BYTES})`,
    );
  }
  return `data:${image.mime};base64,${image.data.toString("base64")}`;
}
