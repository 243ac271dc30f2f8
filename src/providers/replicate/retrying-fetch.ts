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
  const baseFetch = options.fetch ?? fetch;
  const random = options.random ?? Math.random;
  const settled = new WeakMap<object, () => Response>();

  const backoff = (attempt: number) => {
    const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  };

  return async (input, init) => {
    const replay = init && settled.get(init);
    if (replay) return replay();
    const url = String(input instanceof Request ? input.url : input);
    const repeatable = mayRepeat((init?.method ?? "GET").toUpperCase(), url);
    for (let attempt = 0; ; attempt++) {
      const signal = init?.signal
        ? AbortSignal.any([init.signal, AbortSignal.timeout(options.requestTimeoutMs)])
        : AbortSignal.timeout(options.requestTimeoutMs);
      let delayMs: number;
      let status: number | "network";
      try {
        const response = await baseFetch(input, { ...init, signal });
        if (!isRetryable(response.status)) return response;
        const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
        if (
          attempt >= options.maxRetries ||
          (retryAfter ?? 0) > options.maxRetryAfterMs ||
          (!repeatable && response.status !== 429)
        ) {
          const body = await response.arrayBuffer();
          const final = () => new Response(body, { status: response.status, headers: response.headers });
          if (init) settled.set(init, final);
          return final();
        }
        await response.body?.cancel();
        status = response.status;
        delayMs = retryAfter ?? backoff(attempt);
      } catch (err) {
        if (
          init?.signal?.aborted ||
          attempt >= options.maxRetries ||
          !(repeatable || certainlyNotSent(err))
        ) {
          if (init) {
            settled.set(init, () => {
              throw err;
            });
          }
          throw err;
        }
        status = "network";
        delayMs = backoff(attempt);
      }
      options.onRetry?.({ url, attempt: attempt + 1, status, delayMs });
      await sleep(delayMs, init?.signal ?? undefined);
    }
  };
}
