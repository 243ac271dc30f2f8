// Replicate's prediction API through the official client: create, poll, cancel, download; every failure classified.
import Replicate from "replicate";
import { sleep } from "../../kit/clock.ts";
import { classifyPredictionError, PredictionFailure } from "../../kit/failures.ts";
import type { Logger } from "../../kit/logger.ts";
import type { RequestBudget } from "../../kit/request-budget.ts";
import { downloadOutput, REPLICATE_DELIVERY_ORIGINS } from "../download.ts";
import type { PredictionState } from "../types.ts";
import { apiStatus, classifyRequestError, describeLostAnswer, mayHaveBeenCreated } from "./errors.ts";
import { createRetryingFetch, type RetryOptions } from "./retrying-fetch.ts";

export const DEFAULT_RETRY: RetryOptions = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 30_000,
  requestTimeoutMs: 30_000,
};

/**
 * When a create's answer is lost, how long after it to look for the prediction in Replicate's list (a create
 * that timed out may still be landing). Not found after the last look: the slot fails, nothing is re-created.
 */
export const DEFAULT_RECONCILE_DELAYS_MS = [0, 2000, 5000];
/**
 * Replicate's clock and ours may differ by this much when matching a listed prediction's creation time. Kept
 * short: predictions of the same input from before a restart are not in `claimed`, and must fall outside.
 */
const CLOCK_SKEW_MS = 15_000;
/** Pages of the prediction list read at most while looking for one prediction. */
const MAX_LIST_PAGES = 20;
/** Prediction ids remembered as taken, for this long (Replicate forgets API predictions' data after an hour). */
const CLAIM_TTL_MS = 2 * 60 * 60 * 1000;

export interface ReplicateClientOptions {
  token: string;
  apiUrl: string;
  logger: Logger;
  retry?: Partial<RetryOptions> | undefined;
  /** Origins outputs may be downloaded from; the API's own origin is always allowed as well. */
  outputOrigins?: readonly string[] | undefined;
  reconcileDelaysMs?: readonly number[] | undefined;
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

type Prediction = Awaited<ReturnType<Replicate["predictions"]["get"]>>;
/** A model and the match key of the input it was sent. */
type Candidate = { model: string; key: string };
const NONE: ReadonlySet<string> = new Set();
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
type PredictionPage = Awaited<ReturnType<Replicate["predictions"]["list"]>>;

export class ReplicatePredictions {
  private readonly client: Replicate;
  private readonly api: URL;
  private readonly outputOrigins: readonly string[];
  /** Ids this process created, adopted or polled: never adopted for another create. */
  private readonly claimed = new Map<string, number>();
  /** Creates in flight, by model and input: a lookup waits for them so it cannot take a sibling's prediction. */
  private readonly inFlight = new Map<string, Set<Promise<unknown>>>();
  /** Status checks asked for in this turn of the event loop, answered together (see `get`). */
  private due: DueCheck[] = [];
  /** One lookup at a time per model and input, so two lost creates cannot adopt the same prediction. */
  private readonly lookups = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ReplicateClientOptions) {
    this.api = new URL(options.apiUrl);
    this.outputOrigins = [...(options.outputOrigins ?? REPLICATE_DELIVERY_ORIGINS), this.api.origin];
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
  }

  /**
   * Creates a prediction of an official model. A definite refusal (4xx, or a 429 or unreachable server after
   * the retries) is left for the caller to classify. A create whose answer was lost (5xx, timeout, reset) may
   * have happened, so it is never sent again: the prediction is looked up in Replicate's list of recent
   * predictions and adopted, or else the create fails as a PredictionFailure.
   */
  async create(model: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
    const key = matchKey(model, input);
    const sentAt = Date.now();
    const { webhookUrl } = this.options;
    const request = this.client.predictions.create({
      model,
      input,
      signal,
      // Only the end matters: the job reads the result itself once woken (see prediction-events.ts).
      ...(webhookUrl ? { webhook: webhookUrl, webhook_events_filter: ["completed" as const] } : {}),
    });
    const siblings = this.inFlight.get(key) ?? new Set<Promise<unknown>>();
    siblings.add(request);
    this.inFlight.set(key, siblings);
    try {
      const prediction = await request;
      this.claim(prediction.id);
      return prediction.id;
    } catch (err) {
      if (signal?.aborted || !mayHaveBeenCreated(err)) throw err;
      siblings.delete(request);
      return await this.serialised(key, () => this.reconcile(model, key, sentAt, err, signal));
    } finally {
      siblings.delete(request);
      if (siblings.size === 0 && this.inFlight.get(key) === siblings) this.inFlight.delete(key);
    }
  }

  /**
   * Finds the prediction a create sent at `sentAt` by an earlier run made, when that run stopped before the
   * answer was recorded (a restart or a SIGKILL mid-create). Looks in Replicate's list the way a lost answer
   * is reconciled, for any of `candidates` (a model and the input it was sent, e.g. the configured model and
   * its fallback), skipping `excludeIds` (predictions the database holds for other jobs: the slots of one
   * generation send identical inputs) and creates of this process. Never creates; undefined when not listed.
   */
  async recover(
    candidates: ReadonlyArray<{ model: string; input: Record<string, unknown> }>,
    sentAt: number,
    excludeIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ predictionId: string; model: string } | undefined> {
    const keyed = candidates.map((c) => ({ model: c.model, key: matchKey(c.model, c.input) }));
    const first = keyed[0];
    if (!first) return undefined;
    const excluded = new Set(excludeIds);
    return await this.serialised(first.key, async () => {
      let lookupError: unknown;
      for (const delayMs of this.options.reconcileDelaysMs ?? DEFAULT_RECONCILE_DELAYS_MS) {
        if (delayMs > 0) await sleep(delayMs, signal);
        try {
          const found = await this.findSettled(keyed, sentAt, excluded, signal);
          lookupError = undefined;
          if (found) {
            this.claim(found.id);
            this.options.logger.info(
              { model: found.model, predictionId: found.id },
              "adopted the prediction a create sent before the restart made",
            );
            return { predictionId: found.id, model: found.model };
          }
        } catch (err) {
          if (signal?.aborted) throw err;
          lookupError = err;
        }
      }
      if (lookupError) {
        throw new PredictionFailure(
          "provider_error",
          `a create was sent before the bot stopped and Replicate's list of recent predictions could not be read (${classifyRequestError(lookupError, "listing predictions").message}); not created again, so it is not paid twice`,
        );
      }
      return undefined;
    });
  }

  /**
   * `findRecent`, once no create of these inputs that was in flight while the list was read can still claim
   * what it found: a create of this process that lands while the list is read is its own, not the lost one.
   */
  private async findSettled(
    candidates: readonly Candidate[],
    sentAt: number,
    excluded: ReadonlySet<string>,
    signal: AbortSignal | undefined,
  ): Promise<Prediction | undefined> {
    for (;;) {
      await this.createsInFlight(candidates);
      const found = await this.findRecent(candidates, sentAt, excluded, signal);
      if (!found) return undefined;
      await this.createsInFlight(candidates);
      if (!this.claimed.has(found.id)) return found;
    }
  }

  private async createsInFlight(candidates: readonly Candidate[]): Promise<void> {
    await Promise.allSettled(candidates.flatMap((c) => [...(this.inFlight.get(c.key) ?? [])]));
  }

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
    this.claim(predictionId);
    return new Promise<PredictionState>((resolve, reject) => {
      this.due.push({ predictionId, signal, resolve, reject });
      if (this.due.length === 1) setImmediate(() => void this.checkDue());
    });
  }

  private async checkDue(): Promise<void> {
    const batch = this.due.splice(0);
    const each = (checks: typeof batch) => {
      for (const c of checks) this.getOne(c.predictionId, c.signal).then(c.resolve, c.reject);
    };
    if (batch.length < LIST_BATCH_MIN) return each(batch);
    let listed: Map<string, Prediction>;
    try {
      await this.options.statusBudget?.take();
      const page: PredictionPage = await this.client.predictions.list();
      listed = new Map((page.results ?? []).map((p) => [p.id, p]));
    } catch {
      return each(batch);
    }
    const unanswered: typeof batch = [];
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
    each(unanswered);
  }

  private async getOne(predictionId: string, signal?: AbortSignal): Promise<PredictionState> {
    let prediction: Prediction;
    try {
      await this.options.statusBudget?.take();
      prediction = await this.client.predictions.get(predictionId, { signal });
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

  private claim(predictionId: string): void {
    const now = Date.now();
    this.claimed.set(predictionId, now);
    if (this.claimed.size > 1000) {
      for (const [id, at] of this.claimed) if (now - at > CLAIM_TTL_MS) this.claimed.delete(id);
    }
  }

  private serialised<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.lookups.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => {});
    this.lookups.set(key, tail);
    void tail.then(() => {
      if (this.lookups.get(key) === tail) this.lookups.delete(key);
    });
    return run;
  }

  private async reconcile(
    model: string,
    key: string,
    sentAt: number,
    err: unknown,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const lost = describeLostAnswer(err);
    const log = this.options.logger;
    log.warn(
      { model, lost },
      "a prediction create may have happened; looking for it instead of creating again",
    );
    let lookupError: unknown;
    for (const delayMs of this.options.reconcileDelaysMs ?? DEFAULT_RECONCILE_DELAYS_MS) {
      if (delayMs > 0) await sleep(delayMs, signal);
      try {
        // Creates of the same input still in flight (the other slots of a generation send identical inputs)
        // claim their own predictions: only what none of them claims, before or while the list is read, is ours.
        const found = await this.findSettled([{ model, key }], sentAt, NONE, signal);
        lookupError = undefined;
        if (found) {
          this.claim(found.id);
          log.info(
            { model, predictionId: found.id, lost },
            "adopted the prediction whose create answer was lost",
          );
          return found.id;
        }
      } catch (lookupErr) {
        if (signal?.aborted) throw lookupErr;
        lookupError = lookupErr;
      }
    }
    if (lookupError) {
      throw new PredictionFailure(
        "provider_error",
        `Replicate did not confirm the prediction (${lost}) and its list of recent predictions could not be read (${classifyRequestError(lookupError, "listing predictions").message}); not created again, so it is not paid twice`,
      );
    }
    throw new PredictionFailure(
      "provider_error",
      `Replicate did not confirm the prediction (${lost}) and it is not in the list of recent predictions; not created again, so it is not paid twice`,
    );
  }

  /**
   * The oldest unclaimed prediction of one of these models and inputs created since the create was sent, walking
   * Replicate's list (newest first) until it reaches predictions older than that.
   */
  private async findRecent(
    candidates: readonly Candidate[],
    sentAt: number,
    excluded: ReadonlySet<string>,
    signal: AbortSignal | undefined,
  ): Promise<Prediction | undefined> {
    const from = sentAt - CLOCK_SKEW_MS;
    const until = Date.now() + CLOCK_SKEW_MS;
    let found: Prediction | undefined;
    await this.options.statusBudget?.take();
    let page: PredictionPage = await this.client.predictions.list({ signal });
    for (let pages = 1; ; pages++) {
      let reachedOlder = false;
      for (const prediction of page.results ?? []) {
        const createdAt = Date.parse(prediction.created_at);
        if (createdAt < from) {
          reachedOlder = true;
          continue;
        }
        if (
          createdAt <= until &&
          (prediction.source ?? "api") === "api" &&
          !this.claimed.has(prediction.id) &&
          !excluded.has(prediction.id) &&
          candidates.some(
            (c) =>
              prediction.model === c.model &&
              matchKey(c.model, prediction.input as Record<string, unknown>) === c.key,
          ) &&
          (!found || createdAt < Date.parse(found.created_at))
        ) {
          found = prediction;
        }
      }
      if (reachedOlder || !page.next || pages >= MAX_LIST_PAGES) return found;
      try {
        await this.options.statusBudget?.take();
        page = (await (
          await this.client.request(this.nextPage(page.next), { method: "GET", signal })
        ).json()) as PredictionPage;
      } catch (err) {
        // Any unclaimed match will do (same model and input): only without one is a lost page a failure.
        if (found && !signal?.aborted) return found;
        throw err;
      }
    }
  }

  /** The next page's URL, only when it is on the API itself: the token is sent with it. */
  private nextPage(next: string): URL {
    const url = new URL(next, this.api);
    if (url.origin !== this.api.origin || !url.pathname.startsWith(this.api.pathname)) {
      throw new PredictionFailure("provider_error", "Replicate's list pointed its next page elsewhere");
    }
    return url;
  }
}

/** Model and input as one comparable string; object keys sorted, so field order does not matter. */
function matchKey(model: string, input: Record<string, unknown>): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, canonical(v)]),
      );
    }
    return value;
  };
  return `${model}\n${JSON.stringify(canonical(input ?? {}))}`;
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
