// Checks on Replicate predictions' status, batched: the checks due in one turn of the event loop share one
// list request, so polling a hundred predictions costs one request a tick instead of a hundred.
import type Replicate from "replicate";
import { classifyPredictionError, PredictionFailure } from "../../kit/failures.ts";
import type { RequestBudget } from "../../kit/request-budget.ts";
import type { PredictionState } from "../types.ts";
import { apiStatus, classifyRequestError } from "./errors.ts";
import type { PredictionClaims } from "./prediction-claims.ts";

type Prediction = Awaited<ReturnType<Replicate["predictions"]["get"]>>;
type PredictionPage = Awaited<ReturnType<Replicate["predictions"]["list"]>>;

/**
 * Status checks due in one turn from which one list request answers them all; a lone one is asked for with one
 * GET. The fast checks (every FAST_POLL_MS while results are due) wait for a shared tick, so a process sends
 * one status request a tick, 40 a second, however many predictions it waits on (plus one for each prediction a
 * list's first page does not reach, on an account creating over 100 at once). Replicate allows 3,000 non-create
 * requests a minute per account; every status request also takes from `statusBudget`
 * (REPLICATE_STATUS_CHECKS_PER_MINUTE), shared in Redis by every process of a fleet, so that several
 * processes on one account wait their turn instead of drawing 429s.
 */
export const LIST_BATCH_MIN = 2;

interface DueCheck {
  predictionId: string;
  signal: AbortSignal | undefined;
  resolve: (state: PredictionState) => void;
  reject: (err: unknown) => void;
}

export class StatusChecks {
  /** Status checks asked for in this turn of the event loop, answered together (see `get`). */
  private due: DueCheck[] = [];

  constructor(
    private readonly deps: {
      client: Replicate;
      claims: PredictionClaims;
      statusBudget: RequestBudget | undefined;
    },
  ) {}

  /**
   * The state of a prediction. Checks asked for in the same turn of the event loop are answered together: fewer
   * than LIST_BATCH_MIN with one `GET /v1/predictions/{id}` each, more with one `GET /v1/predictions`
   * (the account's newest predictions, with their status and output), so a hundred predictions due at once cost
   * one request per check interval instead of a hundred, within Replicate's 3,000 non-create requests a minute.
   * Checks outside the fast ticks (the first after a create, the slow ones) come one at a time, as before.
   * A prediction the list does not show (older than its first page), or shows finished without its output, is
   * asked for on its own; a list that fails falls back to asking each.
   */
  get(predictionId: string, signal?: AbortSignal): Promise<PredictionState> {
    this.deps.claims.claim(predictionId);
    return new Promise<PredictionState>((resolve, reject) => {
      this.due.push({ predictionId, signal, resolve, reject });
      if (this.due.length === 1) setImmediate(() => void this.checkDue());
    });
  }

  private async checkDue(): Promise<void> {
    const batch = this.due.splice(0);
    if (batch.length < LIST_BATCH_MIN) return this.checkEach(batch);
    let listed: Map<string, Prediction>;
    try {
      await this.deps.statusBudget?.take();
      const page: PredictionPage = await this.deps.client.predictions.list();
      listed = new Map((page.results ?? []).map((p) => [p.id, p]));
    } catch {
      return this.checkEach(batch);
    }
    const unanswered: DueCheck[] = [];
    for (const check of batch) {
      const prediction = listed.get(check.predictionId);
      const answered =
        prediction &&
        (prediction.status !== "succeeded" ||
          (prediction.output !== undefined && prediction.output !== null));
      if (!answered) unanswered.push(check);
      else if (check.signal?.aborted) check.reject(check.signal.reason);
      else check.resolve(stateOf(prediction));
    }
    this.checkEach(unanswered);
  }

  private checkEach(checks: readonly DueCheck[]): void {
    for (const c of checks) this.getOne(c.predictionId, c.signal).then(c.resolve, c.reject);
  }

  private async getOne(predictionId: string, signal?: AbortSignal): Promise<PredictionState> {
    let prediction: Prediction;
    try {
      await this.deps.statusBudget?.take();
      prediction = await this.deps.client.predictions.get(predictionId, { signal });
    } catch (err) {
      if (apiStatus(err) === 404) {
        return {
          status: "failed",
          failure: new PredictionFailure("provider_error", "Replicate no longer knows this prediction"),
        };
      }
      throw classifyRequestError(err, "checking a prediction");
    }
    return stateOf(prediction);
  }
}

/**
 * A finished prediction's own running time: `completed_at` − `created_at` (what a poll started at creation
 * waits through, queueing and boot included), else `metrics.predict_time` (the model's time alone).
 */
export function runningTime(prediction: {
  created_at?: string | undefined;
  completed_at?: string | undefined;
  metrics?: { predict_time?: number | undefined } | undefined;
}): number | undefined {
  const created = Date.parse(prediction.created_at ?? "");
  const completed = Date.parse(prediction.completed_at ?? "");
  if (Number.isFinite(created) && Number.isFinite(completed) && completed > created)
    return completed - created;
  const predict = prediction.metrics?.predict_time;
  return typeof predict === "number" && Number.isFinite(predict) && predict > 0 ? predict * 1000 : undefined;
}

/** What a prediction as Replicate shows it (from a status check or a list) means for the job waiting on it. */
function stateOf(prediction: Prediction): PredictionState {
  switch (prediction.status) {
    case "starting":
    case "processing":
      return { status: "running" };
    case "succeeded": {
      const output = Array.isArray(prediction.output) ? prediction.output[0] : prediction.output;
      const durationMs = runningTime(prediction);
      return typeof output === "string"
        ? { status: "succeeded", output, ...(durationMs !== undefined ? { durationMs } : {}) }
        : {
            status: "failed",
            failure: new PredictionFailure("bad_output", "prediction returned no file URL"),
          };
    }
    case "canceled":
      return {
        status: "failed",
        failure: new PredictionFailure("provider_error", "the prediction was cancelled"),
      };
    default:
      return { status: "failed", failure: classifyPredictionError(prediction.error) };
  }
}
