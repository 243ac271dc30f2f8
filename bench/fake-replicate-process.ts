// The fake Replicate server in a process of its own, with realistic outputs: 1024×1024 PNGs of textured noise
// (about 1.3 MB, not flat colour that compresses to nothing) and 1.5 s ±10 % per prediction by default.
import { FakeReplicate } from "../test/support/fake-replicate.ts";
import { texturedNoise } from "./textured-noise.ts";

const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 1500);
const jitter = Number(process.env.BENCH_JITTER ?? 0.1);

const image = await texturedNoise();
const fake = await FakeReplicate.start({
  token: process.env.BENCH_REPLICATE_TOKEN ?? "r8_bench",
  outputImage: image,
  behaviour: () => ({ latencyMs: Math.round(latencyMs * (1 - jitter + Math.random() * 2 * jitter)) }),
});
process.stdout.write(`${JSON.stringify({ url: fake.url, imageBytes: image.length })}\n`);
process.on("SIGTERM", () => {
  void fake.close().finally(() => process.exit(0));
});
