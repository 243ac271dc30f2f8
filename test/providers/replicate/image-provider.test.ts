import { describe, expect, it } from "vitest";
import { FileStore } from "../../../src/files/file-store.ts";
import { PredictionFailure } from "../../../src/kit/failures.ts";
import { newId } from "../../../src/kit/ids.ts";
import { IMAGE_MODEL_IDS, imageModel } from "../../../src/providers/image-models.ts";
import {
  ReplicateImageProvider,
  type ReplicateProviderOptions,
} from "../../../src/providers/replicate/image-provider.ts";
import { ReplicateVideoProvider } from "../../../src/providers/replicate/video-provider.ts";
import type { ImageRequest } from "../../../src/providers/types.ts";
import { VIDEO_MODEL_IDS, type VideoModelId, videoModel } from "../../../src/providers/video-models.ts";
import { captureLogger, makeTempDir, TEST_REPLICATE_TOKEN } from "../../support/env.ts";
import type { FakeReplicateOptions } from "../../support/fake-replicate.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";
import { PUBLISHED_INPUTS } from "../../support/replicate-models.ts";

const replicate = replicateFixture();

const REQUEST: ImageRequest = { prompt: "silver robot with blue eyes", aspectRatio: "3:4", slot: 1 };

async function setup(
  fakeOptions: Partial<FakeReplicateOptions> = {},
  options: Partial<ReplicateProviderOptions> = {},
) {
  const fake = await replicate.start(fakeOptions);
  const log = captureLogger();
  const provider = new ReplicateImageProvider({
    token: TEST_REPLICATE_TOKEN,
    apiUrl: fake.url,
    model: "google/imagen-4",
    fallbackModel: "google/nano-banana-2",
    logger: log.logger,
    retry: { baseDelayMs: 20, maxDelayMs: 100, requestTimeoutMs: 2000 },
    ...options,
  });
  return { fake, provider, lines: log.lines };
}

async function settle(provider: ReplicateImageProvider, id: string) {
  for (;;) {
    const state = await provider.get(id);
    if (state.status !== "running") return state;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("ReplicateImageProvider", () => {
  it("creates a prediction through the real client and downloads its output", async () => {
    const { fake, provider } = await setup();
    const started = await provider.start(REQUEST);
    expect(started.model).toBe("google/imagen-4");
    expect(fake.creates).toHaveLength(1);
    expect(fake.requests[0]?.authorization).toBe(`Bearer ${TEST_REPLICATE_TOKEN}`);
    const state = await settle(provider, started.predictionId);
    expect(state.status).toBe("succeeded");
    const bytes = await provider.fetchOutput((state as { output: string }).output);
    expect(Buffer.from(bytes).subarray(1, 4).toString()).toBe("PNG");
  });

  it("waits as long as Retry-After says before sending again, and only once", async () => {
    const { fake, provider, lines } = await setup();
    fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 429, retryAfter: "1" });
    await provider.start(REQUEST);
    const posts = fake.requests.filter((r) => r.method === "POST");
    expect(posts.map((p) => p.status)).toEqual([429, 201]);
    expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(lines.join("\n")).not.toContain(TEST_REPLICATE_TOKEN);
  });

  it("gives up on a lasting 429 after its bounded retries as rate_limited, without the client's burst", async () => {
    const { fake, provider } = await setup(
      {},
      { retry: { maxRetries: 2, baseDelayMs: 10, requestTimeoutMs: 2000 } },
    );
    for (let i = 0; i < 10; i++)
      fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 429, retryAfter: "0.05" });
    const error = await provider.start(REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PredictionFailure);
    expect((error as PredictionFailure).code).toBe("rate_limited");
    // 1 attempt + 2 retries; the replicate client's own immediate re-sends never reach the server.
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(3);
  });

  it("does not wait for a Retry-After longer than its limit: rate_limited at once", async () => {
    const { fake, provider } = await setup({}, { retry: { maxRetryAfterMs: 5000, baseDelayMs: 10 } });
    fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 429, retryAfter: "120" });
    await expect(provider.start(REQUEST)).rejects.toMatchObject({ code: "rate_limited" });
    expect(fake.requests).toHaveLength(1);
  });

  it("retries 5xx answers and calls that hang, then succeeds", async () => {
    const { fake, provider } = await setup({}, { retry: { baseDelayMs: 10, requestTimeoutMs: 300 } });
    const { predictionId } = await provider.start(REQUEST);
    fake.inject({ method: "GET", pathPrefix: "/v1/predictions/", status: 500 });
    fake.inject({ method: "GET", pathPrefix: "/v1/predictions/", status: 503 });
    fake.inject({ method: "GET", pathPrefix: "/v1/predictions/", hang: true });
    const state = await settle(provider, predictionId);
    expect(state.status).toBe("succeeded");
    const gets = fake.requests.filter((r) => r.method === "GET" && r.path.startsWith("/v1/predictions/"));
    expect(gets.slice(0, 3).map((g) => g.status)).toEqual([500, 503, 0]);
  });

  it("classifies a failed prediction with a safety message as safety_blocked", async () => {
    const { provider } = await setup({ behaviour: () => ({ outcome: "safety" }) });
    const { predictionId } = await provider.start(REQUEST);
    const state = await settle(provider, predictionId);
    expect(state).toMatchObject({ status: "failed", failure: { code: "safety_blocked" } });
  });

  it("reports a prediction Replicate no longer knows as failed with a reason", async () => {
    const { provider } = await setup();
    expect(await provider.get("0123456789abcdef01234567")).toMatchObject({
      status: "failed",
      failure: { code: "provider_error", message: "Replicate no longer knows this prediction" },
    });
  });

  it("rejects an output that is not an image, and one over the size cap while reading it", async () => {
    const dir = makeTempDir();
    try {
      const files = new FileStore(dir.path);
      const { provider } = await setup({
        behaviour: (_input, i) => ({ outcome: i === 0 ? "not_image" : "oversized" }),
      });
      const first = await settle(provider, (await provider.start(REQUEST)).predictionId);
      const notImage = await provider.fetchOutput((first as { output: string }).output);
      await expect(files.writeImage(newId(), notImage)).rejects.toMatchObject({ code: "bad_output" });

      const second = await settle(provider, (await provider.start(REQUEST)).predictionId);
      await expect(provider.fetchOutput((second as { output: string }).output)).rejects.toMatchObject({
        code: "bad_output",
        message: "output is larger than 25 MiB",
      });
    } finally {
      dir.remove();
    }
  });

  it("switches to the fallback model when Replicate says IMAGE_MODEL does not exist, warning once", async () => {
    const { fake, provider, lines } = await setup({ missingModels: ["google/imagen-4"] });
    const started = await Promise.all([1, 2, 3, 4].map((slot) => provider.start({ ...REQUEST, slot })));
    expect(started.map((s) => s.model)).toEqual(Array(4).fill("google/nano-banana-2"));
    expect(provider.model).toBe("google/nano-banana-2");
    expect(fake.creates.map((c) => c.model)).toEqual(Array(4).fill("google/nano-banana-2"));
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ model: "google/imagen-4", fallbackModel: "google/nano-banana-2" });
  });

  it("without a fallback, a missing model is a provider_error", async () => {
    const { provider } = await setup({ missingModels: ["google/imagen-4"] }, { fallbackModel: undefined });
    await expect(provider.start(REQUEST)).rejects.toMatchObject({ code: "provider_error" });
  });

  it("sends each registry model only the fields its published schema declares", async () => {
    for (const model of IMAGE_MODEL_IDS) {
      const { fake, provider } = await setup({}, { model });
      await provider.start({
        ...REQUEST,
        safetyFilterLevel: "block_only_high",
      });
      expect(fake.rejectedInputs).toEqual([]);
      const sent = fake.creates[0]?.input ?? {};
      expect(Object.keys(sent).every((k) => PUBLISHED_INPUTS[model]?.includes(k))).toBe(true);
      expect(Object.keys(sent).every((k) => imageModel(model).declaredInputs.includes(k))).toBe(true);
      expect(sent).toMatchObject({ prompt: REQUEST.prompt, aspect_ratio: "3:4", output_format: "png" });
      if (model.startsWith("google/imagen")) {
        expect(sent).toEqual({
          prompt: REQUEST.prompt,
          aspect_ratio: "3:4",
          output_format: "png",
          safety_filter_level: "block_only_high",
        });
      } else {
        expect(sent.image_input).toBeUndefined();
      }
    }
  });

  it("puts the reference into each video model's own field and sends nothing undeclared", async () => {
    const url = "https://bot.example/files/0b7c2a4e-8d1f-4c3b-9a6e-5f4d3c2b1a09?exp=1900000000&sig=x";
    const image = { url };
    const field: Record<VideoModelId, string> = {
      "minimax/video-01": "subject_reference",
      "kwaivgi/kling-v2.1": "start_image",
      "google/veo-3-fast": "image",
      "google/veo-3.1": "image",
      "bytedance/seedance-1-lite": "image",
      "minimax/hailuo-02": "first_frame_image",
    };
    for (const model of VIDEO_MODEL_IDS) {
      const { fake } = await setup();
      const provider = new ReplicateVideoProvider({
        token: TEST_REPLICATE_TOKEN,
        apiUrl: fake.url,
        model,
        logger: captureLogger().logger,
      });
      const durationSeconds = videoModel(model).defaultDuration;
      const started = await provider.start({ prompt: "walks", model, image, durationSeconds });
      expect(started.model).toBe(model);
      expect(fake.rejectedInputs).toEqual([]);
      expect(fake.creates[0]?.input[field[model]]).toBe(url);
      expect(fake.creates[0]?.input.prompt).toBe("walks");
    }
  });
});
