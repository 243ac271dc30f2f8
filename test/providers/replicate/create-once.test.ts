// A prediction create is paid for when Replicate stores it, whatever reaches the bot: these tests lose the
// answer in every way and check that each slot ends with exactly one prediction, adopted, or a clear failure.
import { existsSync, readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../../src/kit/clock.ts";
import { PredictionFailure } from "../../../src/kit/failures.ts";
import { awaitOutput } from "../../../src/predictions/await-prediction.ts";
import { ReplicateVideoProvider } from "../../../src/providers/replicate/video-provider.ts";
import { captureLogger, generate, TEST_REPLICATE_TOKEN } from "../../support/env.ts";
import { REQUEST, type Rig, startOtherServer, startRig } from "./support.ts";

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const creates = (r: Rig) =>
  r.fake.requests.filter((q) => q.method === "POST" && q.path.startsWith("/v1/models/"));
const listings = (r: Rig) =>
  r.fake.requests.filter((q) => q.method === "GET" && q.path === "/v1/predictions");

/** The single slot of a finished one-image generation, and its file on disk. */
async function onlyImage(r: Rig) {
  const view = await generate(r, REQUEST);
  const image = view.images[0];
  if (!image) throw new Error("no slot");
  return { view, image, file: image.fileName ? `${r.dir.path}/images/${image.fileName}` : undefined };
}

describe("creating a prediction once", () => {
  it("adopts a create Replicate stored but answered 502, and stores its output", async () => {
    rig = await startRig();
    rig.fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 502, afterCreate: true });
    const { view, image, file } = await onlyImage(rig);

    expect(rig.fake.creates).toHaveLength(1);
    expect(creates(rig).map((c) => c.status)).toEqual([502]);
    expect(listings(rig).length).toBeGreaterThanOrEqual(1);
    expect(view.generation.status).toBe("succeeded");
    expect(image).toMatchObject({ status: "succeeded", predictionId: rig.fake.creates[0]?.id });
    expect(file && existsSync(file)).toBe(true);
    expect(rig.lines.join("\n")).toContain("adopted the prediction whose create answer was lost");
  });

  it("adopts a create Replicate stored but never answered (timeout), and stores its output", async () => {
    rig = await startRig({}, { retry: { baseDelayMs: 20, maxDelayMs: 100, requestTimeoutMs: 300 } });
    rig.fake.inject({ method: "POST", pathPrefix: "/v1/models/", hang: true, afterCreate: true });
    const { image, file } = await onlyImage(rig);

    expect(rig.fake.creates).toHaveLength(1);
    expect(creates(rig).map((c) => c.status)).toEqual([0]); // the one create, never answered
    expect(image).toMatchObject({ status: "succeeded", predictionId: rig.fake.creates[0]?.id });
    expect(file && existsSync(file)).toBe(true);
  });

  it("gives four lost creates of the same input four different predictions, found across list pages", async () => {
    // Page size 2: the four orphans and an older prediction of another prompt span three pages.
    rig = await startRig({ listPageSize: 2 });
    await generate(rig, { ...REQUEST, prompt: "an unrelated earlier request" });
    for (let i = 0; i < 4; i++) {
      rig.fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 500, afterCreate: true });
    }
    const view = await generate(rig, { ...REQUEST, count: 4 });

    expect(rig.fake.creates).toHaveLength(5);
    const orphans = rig.fake.creates.slice(1).map((c) => c.id);
    expect(view.images.map((i) => i.status)).toEqual(Array(4).fill("succeeded"));
    expect(new Set(view.images.map((i) => i.predictionId))).toEqual(new Set(orphans));
    expect(rig.fake.requests.some((q) => q.path === "/v1/predictions" && q.status === 200)).toBe(true);
    expect(readdirSync(`${rig.dir.path}/images`)).toHaveLength(5);
  });

  it("fails the slot with a clear reason, creating nothing more, when a lost create is not on Replicate", async () => {
    rig = await startRig({}, { reconcileDelaysMs: [0, 10] });
    // The 502 comes before anything is stored: there is nothing to adopt.
    rig.fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 502 });
    const { view, image } = await onlyImage(rig);

    expect(rig.fake.creates).toHaveLength(0);
    expect(creates(rig)).toHaveLength(1);
    expect(listings(rig)).toHaveLength(2);
    expect(view.generation.status).toBe("failed");
    expect(image.status).toBe("failed");
    expect(image.errorCode).toBe("provider_error");
    expect(image.errorMessage).toBe(
      "Replicate did not confirm the prediction (HTTP 502) and it is not in the list of recent predictions; not created again, so it is not paid twice",
    );
  });

  it("does not adopt a prediction of the same input that another slot already holds", async () => {
    rig = await startRig({}, { reconcileDelaysMs: [0] });
    const earlier = await generate(rig, REQUEST); // same model and input, moments ago
    rig.fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 502 }); // lost before storing
    const { image } = await onlyImage(rig);

    expect(earlier.images[0]?.predictionId).toBe(rig.fake.creates[0]?.id);
    expect(rig.fake.creates).toHaveLength(1);
    expect(image).toMatchObject({ status: "failed", errorCode: "provider_error", predictionId: null });
    expect(image.errorMessage).toContain("not in the list of recent predictions");
  });

  it("does not follow the list's next page to another origin (the token would go with it)", async () => {
    const elsewhere = await startOtherServer(Buffer.from("{}"));
    try {
      rig = await startRig({ listPageSize: 1, listNextBase: `${elsewhere.origin}/v1` });
      // Two earlier predictions of another prompt: the list has a second page.
      await generate(rig, { ...REQUEST, count: 2, prompt: "an unrelated earlier request" });
      rig.fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 502 });
      const { image } = await onlyImage(rig);

      expect(elsewhere.requests).toEqual([]);
      expect(rig.fake.creates).toHaveLength(2);
      expect(image).toMatchObject({ status: "failed", errorCode: "provider_error" });
      expect(image.errorMessage).toContain("Replicate's list pointed its next page elsewhere");

      // A lost create found on the first page is still adopted: any unclaimed match will do.
      rig.fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 502, afterCreate: true });
      const adopted = await onlyImage(rig);
      expect(rig.fake.creates).toHaveLength(3);
      expect(adopted.image).toMatchObject({ status: "succeeded", predictionId: rig.fake.creates[2]?.id });
      expect(elsewhere.requests).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it("still sends a create again after a 429: Replicate did not make it", async () => {
    rig = await startRig();
    rig.fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 429, retryAfter: "0.05" });
    const { image } = await onlyImage(rig);

    expect(creates(rig).map((c) => c.status)).toEqual([429, 201]);
    expect(rig.fake.creates).toHaveLength(1);
    expect(listings(rig)).toHaveLength(0);
    expect(image).toMatchObject({ status: "succeeded", predictionId: rig.fake.creates[0]?.id });
  });

  it("still sends a create again after the connection was refused: it never reached Replicate", async () => {
    rig = await startRig({}, { retry: { baseDelayMs: 400, maxDelayMs: 400, requestTimeoutMs: 2000 } });
    const r = rig;
    await r.fake.refuseConnections();
    // The retry is announced before its backoff (200–400 ms) starts; the server listens again meanwhile (were it
    // late, the create would only be refused and retried once more).
    const retried = r.nextLine("retrying Replicate request").then(() => r.fake.acceptConnections());
    const { image } = await onlyImage(r);
    await retried;

    const retry = JSON.parse(r.lines.find((l) => l.includes("retrying Replicate request")) ?? "{}");
    expect(retry).toMatchObject({ status: "network", attempt: 1 });
    expect(r.fake.creates).toHaveLength(1);
    expect(creates(r).map((c) => c.status)).toEqual([201]);
    expect(listings(r)).toHaveLength(0);
    expect(image).toMatchObject({ status: "succeeded", predictionId: r.fake.creates[0]?.id });
  });

  it("adopts a lost video create too, even with the reference image as a data: URI in its input", async () => {
    rig = await startRig();
    const provider = new ReplicateVideoProvider({
      token: TEST_REPLICATE_TOKEN,
      apiUrl: rig.fake.url,
      model: "minimax/video-01",
      logger: captureLogger().logger,
      retry: { baseDelayMs: 20, requestTimeoutMs: 2000 },
      reconcileDelaysMs: [0],
    });
    rig.fake.inject({ method: "POST", pathPrefix: "/v1/models/", status: 503, afterCreate: true });
    // A reference the Files API could not take (hostReference said so): inline, as a data: URI of 200 kB.
    const image = { data: Buffer.alloc(200_000, 1), mime: "image/png" };
    const started = await provider.start({
      prompt: "walks through rain",
      model: "minimax/video-01",
      image,
      durationSeconds: 6,
    });
    expect(String(rig.fake.creates[0]?.input.subject_reference)).toBe(
      `data:image/png;base64,${image.data.toString("base64")}`,
    );

    expect(rig.fake.creates).toHaveLength(1);
    expect(started).toEqual({ predictionId: rig.fake.creates[0]?.id, model: "minimax/video-01" });
  });

  it("cancels a prediction once when it gives up after repeated failed status checks", async () => {
    rig = await startRig({}, { retry: { maxRetries: 0, baseDelayMs: 10, requestTimeoutMs: 2000 } });
    const { predictionId } = await rig.provider.start({ prompt: "x", aspectRatio: "1:1", slot: 1 });
    for (let i = 0; i < 5; i++)
      rig.fake.inject({ method: "GET", pathPrefix: "/v1/predictions/", status: 500 });
    const error = await awaitOutput(rig.provider, predictionId, {
      deadline: Date.now() + 60_000,
      pollMs: 10,
      clock: systemClock,
      signal: new AbortController().signal,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PredictionFailure);
    expect(error).toMatchObject({
      code: "provider_error",
      message:
        "gave up after 5 failed status checks (Replicate answered HTTP 500 while checking a prediction); cancelled",
    });
    expect(rig.fake.cancelRequests).toEqual([predictionId]);
    expect(rig.fake.requests.filter((q) => q.path.endsWith("/cancel"))).toHaveLength(1);
  });
});
