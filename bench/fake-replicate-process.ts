// The fake Replicate server in a process of its own, with realistic outputs: 1024×1024 PNGs of textured noise
// (about 1.3 MB, not flat colour that compresses to nothing) and 1.5 s ±10 % per prediction by default.
// BENCH_ACCOUNT_LIMITS=1 enforces Replicate's account limits (600 creates and 3,000 other requests a minute);
// BENCH_OUTPUT_SIZE sets the images' side in pixels.
import { FakeReplicate } from "../test/support/fake-replicate.ts";
import { REPLICATE_ACCOUNT_LIMITS } from "../test/support/fake-replicate-limits.ts";
import { texturedNoise } from "./textured-noise.ts";

const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 1500);
const jitter = Number(process.env.BENCH_JITTER ?? 0.1);

const image = await texturedNoise(Number(process.env.BENCH_OUTPUT_SIZE ?? 1024));
const fake = await FakeReplicate.start({
  token: process.env.BENCH_REPLICATE_TOKEN ?? "r8_bench",
  outputImage: image,
  behaviour: () => ({ latencyMs: Math.round(latencyMs * (1 - jitter + Math.random() * 2 * jitter)) }),
  ...(process.env.BENCH_ACCOUNT_LIMITS === "1" ? { accountLimits: REPLICATE_ACCOUNT_LIMITS } : {}),
});
process.stdout.write(`${JSON.stringify({ url: fake.url, imageBytes: image.length })}\n`);
process.on("SIGTERM", () => {
  void fake.close().finally(() => process.exit(0));
});
