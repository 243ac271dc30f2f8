// Downloads a provider's output with a time limit and a size cap, from allowed origins only, so a bad URL
// cannot stall or flood the bot or make it fetch from anywhere else (its own network, say).
import { PredictionFailure } from "../kit/failures.ts";

export const MAX_OUTPUT_BYTES = 25 * 1024 * 1024;

/** Where Replicate serves prediction outputs: its delivery host and its subdomains, over https. */
export const REPLICATE_DELIVERY_ORIGINS = ["https://replicate.delivery", "https://*.replicate.delivery"];

/** Redirects followed per download; each target is checked against the same origins. */
const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface DownloadOptions {
  timeoutMs: number;
  maxBytes: number;
  /**
   * Origins outputs may come from: `https://host[:port]` exactly, or `https://*.host` for any subdomain of
   * host. An `http://` origin is allowed only when listed exactly (a local stand-in for Replicate).
   */
  allowedOrigins: readonly string[];
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** Why the URL may not be fetched, or undefined when it may. */
export function refuseOutputUrl(url: URL, allowedOrigins: readonly string[]): string | undefined {
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return `output URL scheme ${url.protocol} is not allowed`;
  }
  if (url.username || url.password) return "output URL carries credentials";
  if (allowedOrigins.some((entry) => originMatches(url, entry))) return undefined;
  if (url.protocol === "http:") {
    const https = new URL(url);
    https.protocol = "https:";
    if (allowedOrigins.some((entry) => originMatches(https, entry)))
      return `output URL ${url.origin} is not https`;
  }
  return `output URL host ${url.host} is not an allowed output origin`;
}

/** `scheme://host[:port]` exactly, or `scheme://*.host[:port]` for any subdomain of host. */
function originMatches(url: URL, entry: string): boolean {
  const wildcard = /^(https?:\/\/)\*\.(.+)$/.exec(entry);
  if (!wildcard) return url.origin === entry;
  // The suffix as a URL, for its scheme and port; the parser lower-cases its host as it did the URL's.
  const base = new URL(`${wildcard[1]}${wildcard[2]}`);
  return (
    url.protocol === base.protocol && url.port === base.port && url.hostname.endsWith(`.${base.hostname}`)
  );
}

export async function downloadOutput(url: string, options: DownloadOptions): Promise<Uint8Array> {
  let start: URL;
  try {
    start = new URL(url);
  } catch {
    throw new PredictionFailure("bad_output", "output is not a URL");
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await fetchFollowingRedirects(start, options, signal);
    return await readCapped(response, options.maxBytes);
  } catch (err) {
    if (err instanceof PredictionFailure) throw err;
    if (timeout.aborted)
      throw new PredictionFailure("timeout", `output download took over ${options.timeoutMs} ms`);
    throw new PredictionFailure("provider_error", `output download failed: ${(err as Error).message}`);
  }
}

/** The response at the end of the redirects, each target checked against the allowed origins first. */
async function fetchFollowingRedirects(
  start: URL,
  options: DownloadOptions,
  signal: AbortSignal,
): Promise<Response> {
  let current = start;
  for (let redirects = 0; ; redirects++) {
    const refusal = refuseOutputUrl(current, options.allowedOrigins);
    if (refusal) throw new PredictionFailure("bad_output", refusal);
    const response = await (options.fetch ?? fetch)(current, { signal, redirect: "manual" });
    if (!REDIRECT_STATUSES.has(response.status)) return response;
    await response.body?.cancel();
    current = redirectTarget(response, current, redirects);
  }
}

/** Where a redirect points, unless it points nowhere or the download has been redirected too often already. */
function redirectTarget(response: Response, from: URL, redirects: number): URL {
  const location = response.headers.get("location");
  if (!location || redirects >= MAX_REDIRECTS) {
    throw new PredictionFailure(
      "provider_error",
      location
        ? `output download redirected more than ${MAX_REDIRECTS} times`
        : "output redirect has no target",
    );
  }
  try {
    return new URL(location, from);
  } catch {
    throw new PredictionFailure("bad_output", "output redirect target is not a URL");
  }
}

/** The body's bytes, given up as soon as the declared or the counted size passes the cap. */
async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new PredictionFailure("provider_error", `output download failed with HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get("content-length"));
  if (declared > maxBytes) {
    await response.body.cancel();
    throw tooLarge(maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    total += read.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(read.value);
  }
  return Buffer.concat(chunks, total);
}

const tooLarge = (max: number) =>
  new PredictionFailure("bad_output", `output is larger than ${Math.round(max / 1024 / 1024)} MiB`);
