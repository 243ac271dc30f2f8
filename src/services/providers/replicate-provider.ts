// What the image and video providers on Replicate share: one client, and polling, cancelling, recovering and
// downloading done the same way; each says how it starts a prediction and which inputs it may have sent.
import type { ReplicatePredictions } from "./replicate-client.ts";
import type { PredictionProvider, PredictionState, StartedPrediction } from "./types.ts";

export abstract class ReplicateProvider<Request> implements PredictionProvider<Request> {
  readonly name = "replicate";

  protected constructor(protected readonly predictions: ReplicatePredictions) {}

  abstract start(request: Request, signal?: AbortSignal): Promise<StartedPrediction>;

  /** Every model and input a create for `request` may have been sent as (a model and its fallback, say). */
  protected abstract sentAs(request: Request): Array<{ model: string; input: Record<string, unknown> }>;

  /** How long a download may take and how large its output may be. */
  protected abstract downloadLimits(): { timeoutMs: number; maxBytes: number };

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
