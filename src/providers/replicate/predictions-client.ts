// Replicate's prediction API through the official client: create, poll, cancel, upload, download; every failure
// classified. Batched status checks and the lookup of a create whose answer was lost each live in their own file.
import Replicate from "replicate";
import type { Logger } from "../../kit/logger.ts";
import type { RequestBudget } from "../../kit/request-budget.ts";
import { downloadOutput, REPLICATE_DELIVERY_ORIGINS } from "../download.ts";
import type { PredictionState } from "../types.ts";
import { mayHaveBeenCreated } from "./errors.ts";
import { LostCreates } from "./lost-creates.ts";
import { matchKey, PredictionClaims } from "./prediction-claims.ts";
import { createRetryingFetch, type RetryOptions } from "./retrying-fetch.ts";
import { StatusChecks } from "./status-checks.ts";

export const DEFAULT_RETRY: RetryOptions = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 30_000,
  requestTimeoutMs: 30_000,
};

export interface ReplicateClientOptions {
  token: string;
  apiUrl: string;
  logger: Logger;
  retry?: Partial<RetryOptions> | undefined;
  /** Origins outputs may be downloaded from; the API's own origin is always allowed as well. */
  outputOrigins?: readonly string[] | undefined;
  reconcileDelaysMs?: readonly number[] | undefined;
  /** How long after its create a prediction is surely listed (see lost-creates.ts). */
  listedWithinMs?: number | undefined;
  /**
   * Where Replicate posts a prediction's completion (`${PUBLIC_URL}/webhooks/replicate`); unset: no webhook,
   * completions are seen by polling alone.
   */
  webhookUrl?: string | undefined;
  /**
   * Taken before every status check and list request: Replicate allows 3,000 non-create requests a minute per
   * account, and every process (and each of its providers) polling on one token spends the same allowance.
   */
  statusBudget?: RequestBudget | undefined;
}

export class ReplicatePredictions {
  private readonly client: Replicate;
  private readonly outputOrigins: readonly string[];
  private readonly claims = new PredictionClaims();
  private readonly statusChecks: StatusChecks;
  private readonly lostCreates: LostCreates;

  constructor(private readonly options: ReplicateClientOptions) {
    this.outputOrigins = [
      ...(options.outputOrigins ?? REPLICATE_DELIVERY_ORIGINS),
      new URL(options.apiUrl).origin,
    ];
    this.client = new Replicate({
      auth: options.token,
      baseUrl: options.apiUrl,
      useFileOutput: false,
      fetch: createRetryingFetch({
        ...DEFAULT_RETRY,
        ...options.retry,
        onRetry: (info) => options.logger.info(info, "retrying Replicate request"),
      }),
    });
    const { client, claims } = this;
    const { statusBudget } = options;
    this.statusChecks = new StatusChecks({ client, claims, statusBudget });
    this.lostCreates = new LostCreates({
      client,
      claims,
      statusBudget,
      apiUrl: options.apiUrl,
      logger: options.logger,
      reconcileDelaysMs: options.reconcileDelaysMs,
      listedWithinMs: options.listedWithinMs,
    });
  }

  /**
   * Creates a prediction of an official model (or of a community model's `version`). A definite refusal (4xx,
   * or a 429 or unreachable server after the retries) is left for the caller to classify. A create whose answer was lost (5xx, timeout, reset) may
   * have happened, so it is never sent again: the prediction is looked up in Replicate's list of recent
   * predictions and adopted, or else the create fails as a PredictionFailure.
   */
  async create(
    model: string,
    input: Record<string, unknown>,
    signal?: AbortSignal,
    /** A community model's published version: created by version, as such a model has no model endpoint. */
    version?: string,
  ): Promise<string> {
    const key = matchKey(model, input);
    const sentAt = Date.now();
    const { webhookUrl } = this.options;
    const request = this.client.predictions.create({
      ...(version ? { version } : { model }),
      input,
      signal,
      // Only the end matters: the job reads the result itself once woken (see prediction-events.ts).
      ...(webhookUrl ? { webhook: webhookUrl, webhook_events_filter: ["completed" as const] } : {}),
    });
    this.claims.createStarted(key, request);
    try {
      const prediction = await request;
      this.claims.claim(prediction.id);
      return prediction.id;
    } catch (err) {
      if (signal?.aborted || !mayHaveBeenCreated(err)) throw err;
      this.claims.createAnswered(key, request);
      return await this.lostCreates.reconcile(model, key, sentAt, err, signal);
    } finally {
      this.claims.createAnswered(key, request);
    }
  }

  /** See LostCreates.recover: the prediction a create sent before a restart made, never a new one. */
  recover(
    candidates: ReadonlyArray<{ model: string; input: Record<string, unknown> }>,
    sentAt: number,
    excludeIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ predictionId: string; model: string } | undefined> {
    return this.lostCreates.recover(candidates, sentAt, excludeIds, signal);
  }

  /** The state of a prediction, by a status check batched with the others due in this turn (see StatusChecks). */
  get(predictionId: string, signal?: AbortSignal): Promise<PredictionState> {
    return this.statusChecks.get(predictionId, signal);
  }

  /**
   * Uploads `data` to Replicate's Files API and returns the URL a prediction's input may name it by (the
   * file's `urls.get`, readable with this account's token). Failures are left for the caller to classify.
   */
  async uploadFile(data: Uint8Array, mime: string, signal?: AbortSignal): Promise<string> {
    const file = await this.client.files.create(
      new Blob([new Uint8Array(data)], { type: mime }),
      { purpose: "video reference" },
      signal ? { signal } : {},
    );
    const url = file.urls?.get;
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
      throw new Error("Replicate's Files API answered without a file URL");
    }
    return url;
  }

  /**
   * Deletes a Files API upload by the URL uploadFile returned (its `urls.get` names the file's id: the path
   * segment after /files/). A file Replicate no longer has (404) is gone already; other failures throw.
   */
  async deleteFile(url: string): Promise<void> {
    const id = fileIdOf(url);
    if (!id) throw new Error("not a Replicate Files API URL");
    try {
      await this.client.files.delete(id);
    } catch (err) {
      if ((err as { response?: { status?: number } }).response?.status === 404) return;
      throw err;
    }
  }

  async cancel(predictionId: string): Promise<void> {
    try {
      await this.client.predictions.cancel(predictionId);
    } catch (err) {
      this.options.logger.warn({ err, predictionId }, "could not cancel prediction");
    }
  }

  download(
    url: string,
    limits: { timeoutMs: number; maxBytes: number },
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    return downloadOutput(url, { ...limits, allowedOrigins: this.outputOrigins, signal });
  }
}

/** The file id in a Files API URL (`…/v1/files/<id>` or `…/v1/files/<id>/download`); undefined for another URL. */
export function fileIdOf(url: string): string | undefined {
  try {
    const match = /\/files\/([A-Za-z0-9_-]+)(?:\/download)?$/.exec(new URL(url).pathname);
    return match?.[1];
  } catch {
    return undefined;
  }
}
