import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../src/kit/clock.ts";
import { MockImageProvider } from "../../../src/providers/mock/image-provider.ts";
import { requestedFailure } from "../../../src/providers/mock/mock-predictions.ts";

function provider(now: { t: number }, failureRate = 0) {
  return new MockImageProvider({
    latencyMs: 1000,
    failureRate,
    clock: { ...systemClock, now: () => now.t },
    random: () => 0.5,
  });
}

async function finish(p: MockImageProvider, now: { t: number }, prompt: string, slot: number) {
  const { predictionId } = await p.start({ prompt, slot, aspectRatio: "1:1" });
  now.t += 2000;
  const state = await p.get(predictionId);
  if (state.status !== "succeeded") throw new Error(`not succeeded: ${state.status}`);
  return Buffer.from(await p.fetchOutput(state.output));
}

describe("MockImageProvider", () => {
  it("upscales the very image it was given, enlarged by the scale; after a restart, a placeholder", async () => {
    const now = { t: 0 };
    const p = provider(now);
    const given = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#c52" } })
      .png()
      .toBuffer();
    const request = {
      prompt: "a kite",
      slot: 1,
      aspectRatio: "4:3" as const,
      references: [{ data: given, mime: "image/png" }],
      upscale: { scale: 3, faceEnhance: false },
    };
    const started = await p.start(request);
    expect(started.model).toBe("mock/upscale");
    now.t += 2000;
    const state = await p.get(started.predictionId);
    if (state.status !== "succeeded") throw new Error(`not succeeded: ${state.status}`);
    const out = Buffer.from(await p.fetchOutput(state.output));
    expect(await sharp(out).metadata()).toMatchObject({ format: "png", width: 120, height: 90 });
    const pixel = await sharp(out).extract({ left: 60, top: 45, width: 1, height: 1 }).raw().toBuffer();
    expect([...pixel]).toEqual([0xcc, 0x55, 0x22]);
    // Another process (a restart) no longer holds the bytes: the placeholder for the slot, enlarged.
    const restarted = provider(now);
    const placeholder = Buffer.from(await restarted.fetchOutput(state.output));
    expect(await sharp(placeholder).metadata()).toMatchObject({ width: 1184 * 3, height: 896 * 3 });
  });

  it("produces real, visibly distinct PNGs for each slot and each prompt", async () => {
    const now = { t: 0 };
    const p = provider(now);
    const images = [
      await finish(p, now, "silver robot", 1),
      await finish(p, now, "silver robot", 2),
      await finish(p, now, "red dragon", 1),
    ];
    for (const png of images) {
      const meta = await sharp(png).metadata();
      expect(meta).toMatchObject({ format: "png", width: 1024, height: 1024 });
    }
    // Mean absolute pixel difference on a thumbnail: clearly different pictures, not byte noise.
    const thumbs = await Promise.all(images.map((i) => sharp(i).resize(32, 32).raw().toBuffer()));
    const diff = (a: Buffer, b: Buffer) => a.reduce((s, v, k) => s + Math.abs(v - (b[k] ?? 0)), 0) / a.length;
    expect(diff(thumbs[0] as Buffer, thumbs[1] as Buffer)).toBeGreaterThan(8);
    expect(diff(thumbs[0] as Buffer, thumbs[2] as Buffer)).toBeGreaterThan(8);
    // Same prompt and slot: same picture.
    expect((await finish(p, now, "silver robot", 1)).equals(images[0] as Buffer)).toBe(true);
  });

  it("stays running until its latency has passed, and keeps all state in the prediction id", async () => {
    const now = { t: 0 };
    // Slot 3 of a 1000 ms mock: 0.8 + 0.3 = 1.1 × 1000 ms.
    const { predictionId } = await provider(now).start({ prompt: "x", slot: 3, aspectRatio: "16:9" });
    expect(await provider(now).get(predictionId)).toEqual({ status: "running" });
    now.t = 1099;
    expect((await provider(now).get(predictionId)).status).toBe("running");
    now.t = 1101;
    const state = await provider(now).get(predictionId); // a new instance, as after a restart
    expect(state.status).toBe("succeeded");
    const png = await provider(now).fetchOutput((state as { output: string }).output);
    expect(await sharp(png).metadata()).toMatchObject({ width: 1344, height: 768 });
  });

  it("injects failures by rate and by prompt directive", async () => {
    const now = { t: 0 };
    const failing = provider(now, 1);
    const { predictionId } = await failing.start({ prompt: "x", slot: 1, aspectRatio: "1:1" });
    now.t = 5000;
    expect(await failing.get(predictionId)).toMatchObject({
      status: "failed",
      failure: { code: "provider_error" },
    });

    expect(requestedFailure("a [mock:safety_blocked:2] b", 2)).toBe("safety_blocked");
    expect(requestedFailure("a [mock:safety_blocked:2] b", 1)).toBeNull();
    expect(requestedFailure("[mock:provider_error:1,3]", 3)).toBe("provider_error");
    expect(requestedFailure("[mock:timeout]", 4)).toBe("timeout");
    expect(requestedFailure("[mock:nonsense]", 1)).toBeNull();
    const p = provider(now);
    const blocked = await p.start({ prompt: "[mock:safety_blocked]", slot: 1, aspectRatio: "1:1" });
    now.t += 5000;
    expect(await p.get(blocked.predictionId)).toMatchObject({ failure: { code: "safety_blocked" } });
  });

  it("answers a forged prediction id with a failure, not a crash", async () => {
    const p = provider({ t: 0 });
    expect(await p.get("mock-!!!")).toMatchObject({ status: "failed" });
    await expect(p.fetchOutput("mock://garbage")).rejects.toMatchObject({ code: "bad_output" });
  });
});

describe("MockImageProvider timing", () => {
  it("finishes the slots of a grid one after another", async () => {
    const now = { t: 0 };
    const p = provider(now);
    const ids = await Promise.all(
      [1, 2, 3, 4].map((slot) => p.start({ prompt: "x", slot, aspectRatio: "1:1" })),
    );
    const readyAt = async (id: string) => {
      for (now.t = 0; now.t < 5000; now.t += 10) if ((await p.get(id)).status === "succeeded") return now.t;
      return Number.NaN;
    };
    const times = [];
    for (const { predictionId } of ids) times.push(await readyAt(predictionId));
    expect(times).toEqual([900, 1000, 1100, 1200]);
  });
});
