// The real video provider: an image-to-video model on Replicate, fed the reference as a signed link to the bot's
// own copy, else as a file uploaded to Replicate's Files API, else (a small image only) as a data: URI.
import { PredictionFailure } from "../../domain/failures.ts";
import type { Logger } from "../../domain/logger.ts";
import { ReplicatePredictions } from "./replicate-client.ts";
import { classifyRequestError } from "./replicate-errors.ts";
import { ReplicateProvider } from "./replicate-provider.ts";
import type { RetryOptions } from "./retrying-fetch.ts";
import type { ReferenceImage, StartedPrediction, VideoProvider, VideoRequest } from "./types.ts";
import { type VideoModelId, videoModel } from "./video-models.ts";

/** Videos are larger than images; Discord's own limit is checked when posting. */
export const MAX_VIDEO_BYTES = 100 * 1024 * 1024;

/**
 * The largest reference sent inline as a data: URI, and only when neither a link nor an upload is possible:
 * inside the create's JSON body it is re-sent with every retry and kept in the prediction's input.
 */
export const MAX_DATA_URI_IMAGE_BYTES = 256 * 1024;

export class ReplicateVideoProvider extends ReplicateProvider<VideoRequest> implements VideoProvider {
  constructor(
    private readonly options: {
      token: string;
      apiUrl: string;
      model: VideoModelId;
      logger: Logger;
      retry?: Partial<RetryOptions>;
      /** Origins outputs may be downloaded from (default: Replicate's delivery hosts); see download.ts. */
      outputOrigins?: readonly string[] | undefined;
      reconcileDelaysMs?: readonly number[] | undefined;
      /** Replicate posts each prediction's completion here (see ReplicateClientOptions). */
      webhookUrl?: string | undefined;
    },
  ) {
    super(new ReplicatePredictions(options));
  }

  async start(request: VideoRequest, signal?: AbortSignal): Promise<StartedPrediction> {
    const { model } = this.options;
    const image = imageInput(request.image);
    try {
      const predictionId = await this.predictions.create(
        model,
        videoModel(model).buildInput({ prompt: request.prompt, image }),
        signal,
      );
      return { predictionId, model };
    } catch (err) {
      throw classifyRequestError(err, `starting a ${model} prediction`);
    }
  }

  /** What a create for `request` sent: the same request always makes the same input. */
  protected sentAs(request: VideoRequest) {
    const { model } = this.options;
    const image = imageInput(request.image);
    return [{ model, input: videoModel(model).buildInput({ prompt: request.prompt, image }) }];
  }

  /**
   * Uploads the reference to Replicate's Files API and returns the file's URL (the video service records it
   * before the create is sent, so a restart sends the same input). When the upload is refused or Replicate is
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
      this.options.logger.warn(
        { err: reason.message, bytes: image.data.length },
        "Files API upload failed; sending the small reference image inline",
      );
      return undefined;
    }
  }

  protected downloadLimits() {
    return { timeoutMs: 180_000, maxBytes: MAX_VIDEO_BYTES };
  }
}

/**
 * The reference as the model's field takes it: a URL (a signed link, or an uploaded file) as it is; bytes as a
 * data: URI, only for a small image.
 */
function imageInput(image: ReferenceImage): string {
  if ("url" in image) return image.url;
  if (image.data.length > MAX_DATA_URI_IMAGE_BYTES) {
    throw new PredictionFailure(
      "provider_error",
      `the reference image is ${image.data.length} bytes, too large to send inline (at most ${MAX_DATA_URI_IMAGE_BYTES})`,
    );
  }
  return dataUri(image);
}

function dataUri(image: { data: Buffer; mime: string }): string {
  return `data:${image.mime};base64,${image.data.toString("base64")}`;
}
