// A fetch for the replicate client that retries the way Replicate asks: Retry-After on 429, backoff otherwise.
import { sleep } from "../../kit/clock.ts";

export interface RetryOptions {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the request fails as rate limited at once. */
  maxRetryAfterMs: number;
  /** Each attempt's own time limit; a request that hangs longer counts as a network error. */
  requestTimeoutMs: number;
  fetch?: typeof fetch;
  random?: () => number;
  onRetry?: (info: { url: string; attempt: number; status: number | "network"; delayMs: number }) => void;
}

const isRetryable = (status: number) => status === 429 || status >= 500;

/** Connection errors that happen before a request is sent: the server cannot have acted on it. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * True when a failed fetch certainly never reached the server (the connection was refused, the name did not
 * resolve): repeating it cannot do anything twice. A reset, a 5xx or a timeout may come after the server acted.
 */
export function certainlyNotSent(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } })?.cause;
  if (!cause) return false;
  if (typeof cause.code === "string") return NOT_SENT_CODES.has(cause.code);
  return (
    Array.isArray(cause.errors) &&
    cause.errors.length > 0 &&
    cause.errors.every((e) => typeof e.code === "string" && NOT_SENT_CODES.has(e.code))
  );
}

/**
 * Reads, and cancelling a prediction, may be sent again. Anything else (creating a prediction) costs money
 * when it happens, so it is repeated only when it certainly did not: a 429, or a connection never made.
 */
function mayRepeat(method: string, url: string): boolean {
  if (method === "GET" || method === "HEAD") return true;
  return method === "POST" && /\/predictions\/[^/]+\/cancel$/.test(new URL(url).pathname);
}

/** Seconds or an HTTP date, as RFC 9110 allows; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The replicate client has a retry loop of its own that ignores Retry-After and re-sends at once, and it
 * retries thrown errors too. So the waiting happens here, and once a request has used up its retries, every
 * repeat of the same request (the client passes the same `init` object) is answered with that final outcome
 * without touching the network.
 *
 * A prediction create is not repeated after a 5xx, a reset connection or a timeout: Replicate may have created
 * (and will bill) the prediction all the same. The caller looks for it in the list of recent predictions.
 */
export function createRetryingFetch(options: RetryOptions): typeof fetch {
  const retrying = new RetryingFetch(options);
  return (input, init) => retrying.fetch(input, init);
}

type FetchInput = Parameters<typeof fetch>[0];
/** How one attempt ended: with the response the client gets, or with a wait before the next attempt. */
type AttemptOutcome = { response: Response } | { retry: { status: number | "network"; delayMs: number } };

class RetryingFetch {
  private readonly baseFetch: typeof fetch;
  private readonly random: () => number;
  /** Each request's final outcome once its retries are used up, by the client's `init` object. */
  private readonly settled = new WeakMap<object, () => Response>();

  constructor(private readonly options: RetryOptions) {
    this.baseFetch = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
  }

  async fetch(input: FetchInput, init: RequestInit | undefined): Promise<Response> {
    const replay = init && this.settled.get(init);
    if (replay) return replay();
    const url = String(input instanceof Request ? input.url : input);
    const repeatable = mayRepeat((init?.method ?? "GET").toUpperCase(), url);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(input, init, attempt, repeatable);
      if ("response" in outcome) return outcome.response;
      const { status, delayMs } = outcome.retry;
      this.options.onRetry?.({ url, attempt: attempt + 1, status, delayMs });
      await sleep(delayMs, init?.signal ?? undefined);
    }
  }

  private async attempt(
    input: FetchInput,
    init: RequestInit | undefined,
    attempt: number,
    repeatable: boolean,
  ): Promise<AttemptOutcome> {
    const { requestTimeoutMs } = this.options;
    const signal = init?.signal
      ? AbortSignal.any([init.signal, AbortSignal.timeout(requestTimeoutMs)])
      : AbortSignal.timeout(requestTimeoutMs);
    try {
      const response = await this.baseFetch(input, { ...init, signal });
      return await this.afterResponse(response, init, attempt, repeatable);
    } catch (err) {
      if (
        init?.signal?.aborted ||
        attempt >= this.options.maxRetries ||
        !(repeatable || certainlyNotSent(err))
      ) {
        if (init) {
          this.settled.set(init, () => {
            throw err;
          });
        }
        throw err;
      }
      return { retry: { status: "network", delayMs: this.backoff(attempt) } };
    }
  }

  /** A response is the final outcome unless it may be tried again: a 429, or a 5xx to a request that may repeat. */
  private async afterResponse(
    response: Response,
    init: RequestInit | undefined,
    attempt: number,
    repeatable: boolean,
  ): Promise<AttemptOutcome> {
    if (!isRetryable(response.status)) return { response };
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    if (
      attempt >= this.options.maxRetries ||
      (retryAfter ?? 0) > this.options.maxRetryAfterMs ||
      (!repeatable && response.status !== 429)
    ) {
      const body = await response.arrayBuffer();
      const final = () => new Response(body, { status: response.status, headers: response.headers });
      if (init) this.settled.set(init, final);
      return { response: final() };
    }
    await response.body?.cancel();
    return { retry: { status: response.status, delayMs: retryAfter ?? this.backoff(attempt) } };
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** attempt);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }
}
