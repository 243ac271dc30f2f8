// Downloads a provider's output with a time limit and a size cap, so a bad URL cannot stall or flood the bot.
import { PredictionFailure } from "../failures.ts";

export const MAX_OUTPUT_BYTES = 25 * 1024 * 1024;

export interface DownloadOptions {
  timeoutMs: number;
  maxBytes: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export async function downloadOutput(url: string, options: DownloadOptions): Promise<Uint8Array> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PredictionFailure("bad_output", "output is not a URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new PredictionFailure("bad_output", `output URL scheme ${parsed.protocol} is not allowed`);
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await (options.fetch ?? fetch)(parsed, { signal, redirect: "follow" });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new PredictionFailure("provider_error", `output download failed with HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get("content-length"));
    if (declared > options.maxBytes) {
      await response.body.cancel();
      throw tooLarge(options.maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = response.body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      total += read.value.byteLength;
      if (total > options.maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(options.maxBytes);
      }
      chunks.push(read.value);
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof PredictionFailure) throw err;
    if (timeout.aborted)
      throw new PredictionFailure("timeout", `output download took over ${options.timeoutMs} ms`);
    throw new PredictionFailure("provider_error", `output download failed: ${(err as Error).message}`);
  }
}

const tooLarge = (max: number) =>
  new PredictionFailure("bad_output", `output is larger than ${Math.round(max / 1024 / 1024)} MiB`);
