// Finding a prediction whose create may have happened though its answer never came (a 5xx, a timeout, a restart
// mid-create) in Replicate's list of recent predictions, so it is adopted instead of created, and paid, twice.
import type Replicate from "replicate";
import { sleep } from "../../kit/clock.ts";
import { PredictionFailure } from "../../kit/failures.ts";
import type { Logger } from "../../kit/logger.ts";
import type { RequestBudget } from "../../kit/request-budget.ts";
import { classifyRequestError, describeLostAnswer } from "./errors.ts";
import { type Candidate, matchKey, type PredictionClaims } from "./prediction-claims.ts";

/**
 * When a create's answer is lost, how long after it to look for the prediction in Replicate's list (a create
 * that timed out may still be landing). Not found after the last look: the slot fails, nothing is re-created.
 */
export const DEFAULT_RECONCILE_DELAYS_MS = [0, 2000, 5000];
/**
 * A create that reached Replicate is in its list of predictions this long after it was sent, at the latest:
 * not listed then, it never arrived (its process stopped between recording that it was sent and sending it).
 */
export const DEFAULT_LISTED_WITHIN_MS = 10_000;
/**
 * Replicate's clock and ours may differ by this much when matching a listed prediction's creation time. Kept
 * short: predictions of the same input from before a restart are not in `claimed`, and must fall outside.
 */
const CLOCK_SKEW_MS = 15_000;
/** Pages of the prediction list read at most while looking for one prediction. */
const MAX_LIST_PAGES = 20;

type Prediction = Awaited<ReturnType<Replicate["predictions"]["get"]>>;
type PredictionPage = Awaited<ReturnType<Replicate["predictions"]["list"]>>;
const NONE: ReadonlySet<string> = new Set();

/** What looking at every reconcile delay gave: the prediction (now claimed), or the last look's error if any. */
type Lookup = { found: Prediction } | { found: undefined; lookupError: unknown };

export class LostCreates {
  /** One lookup at a time per model and input, so two lost creates cannot adopt the same prediction. */
  private readonly lookups = new Map<string, Promise<unknown>>();
  private readonly api: URL;

  constructor(
    private readonly deps: {
      client: Replicate;
      apiUrl: string;
      claims: PredictionClaims;
      logger: Logger;
      statusBudget: RequestBudget | undefined;
      reconcileDelaysMs: readonly number[] | undefined;
      listedWithinMs?: number | undefined;
    },
  ) {
    this.api = new URL(deps.apiUrl);
  }

  /**
   * The prediction a create of `model` and the input `key` names, sent at `sentAt`, made though its answer
   * (`err`) was lost; a PredictionFailure when it is not listed.
   */
  reconcile(
    model: string,
    key: string,
    sentAt: number,
    err: unknown,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    return this.serialised(key, async () => {
      const lost = describeLostAnswer(err);
      const log = this.deps.logger;
      log.warn(
        { model, lost },
        "a prediction create may have happened; looking for it instead of creating again",
      );
      // Creates of the same input still in flight (the other slots of a generation send identical inputs)
      // claim their own predictions: only what none of them claims, before or while the list is read, is ours.
      const lookup = await this.lookAtEachDelay([{ model, key }], sentAt, NONE, signal);
      if (lookup.found) {
        log.info(
          { model, predictionId: lookup.found.id, lost },
          "adopted the prediction whose create answer was lost",
        );
        return lookup.found.id;
      }
      if (lookup.lookupError) {
        throw new PredictionFailure(
          "provider_error",
          `Replicate did not confirm the prediction (${lost}) and its list of recent predictions could not be read (${classifyRequestError(lookup.lookupError, "listing predictions").message}); not created again, so it is not paid twice`,
        );
      }
      throw new PredictionFailure(
        "provider_error",
        `Replicate did not confirm the prediction (${lost}) and it is not in the list of recent predictions; not created again, so it is not paid twice`,
      );
    });
  }

  /**
   * Finds the prediction a create sent at `sentAt` by an earlier run made, when that run stopped before the
   * answer was recorded (a restart or a SIGKILL mid-create). Looks in Replicate's list the way a lost answer
   * is reconciled, for any of `candidates` (a model and the input it was sent, e.g. the configured model and
   * its fallback), skipping `excludeIds` (predictions the database holds for other jobs: the slots of one
   * generation send identical inputs) and creates of this process. Never creates; undefined when not listed
   * at a look made at least `listedWithinMs` after the create was sent: Replicate then never had it.
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
      let lookup = await this.lookAtEachDelay(keyed, sentAt, excluded, signal);
      const sure = sentAt + (this.deps.listedWithinMs ?? DEFAULT_LISTED_WITHIN_MS);
      if (!lookup.found && !lookup.lookupError && Date.now() < sure) {
        // Looked too soon after the create to be sure it never arrived: once more, when it would be listed.
        await sleep(sure - Date.now(), signal);
        lookup = await this.lookAtEachDelay(keyed, sentAt, excluded, signal, [0]);
      }
      if (lookup.found) {
        const { id, model } = lookup.found;
        this.deps.logger.info(
          { model, predictionId: id },
          "adopted the prediction a create sent before the restart made",
        );
        return { predictionId: id, model };
      }
      if (lookup.lookupError) {
        throw new PredictionFailure(
          "provider_error",
          `a create was sent before the bot stopped and Replicate's list of recent predictions could not be read (${classifyRequestError(lookup.lookupError, "listing predictions").message}); not created again, so it is not paid twice`,
        );
      }
      return undefined;
    });
  }

  /**
   * Looks for the prediction after each reconcile delay until one look finds it, and claims it. A look that
   * fails is forgotten when a later one reads the list; an aborted caller stops the looking at once.
   */
  private async lookAtEachDelay(
    candidates: readonly Candidate[],
    sentAt: number,
    excluded: ReadonlySet<string>,
    signal: AbortSignal | undefined,
    delaysMs: readonly number[] = this.deps.reconcileDelaysMs ?? DEFAULT_RECONCILE_DELAYS_MS,
  ): Promise<Lookup> {
    let lookupError: unknown;
    for (const delayMs of delaysMs) {
      if (delayMs > 0) await sleep(delayMs, signal);
      try {
        const found = await this.findSettled(candidates, sentAt, excluded, signal);
        lookupError = undefined;
        if (found) {
          this.deps.claims.claim(found.id);
          return { found };
        }
      } catch (err) {
        if (signal?.aborted) throw err;
        lookupError = err;
      }
    }
    return { found: undefined, lookupError };
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
    const { claims } = this.deps;
    for (;;) {
      await claims.createsInFlight(candidates);
      const found = await this.findRecent(candidates, sentAt, excluded, signal);
      if (!found) return undefined;
      await claims.createsInFlight(candidates);
      if (!claims.isClaimed(found.id)) return found;
    }
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
    const { client, statusBudget, claims } = this.deps;
    const from = sentAt - CLOCK_SKEW_MS;
    const until = Date.now() + CLOCK_SKEW_MS;
    let found: Prediction | undefined;
    await statusBudget?.take();
    let page: PredictionPage = await client.predictions.list({ signal });
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
          !claims.isClaimed(prediction.id) &&
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
        await statusBudget?.take();
        page = (await (
          await client.request(this.nextPage(page.next), { method: "GET", signal })
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
}
