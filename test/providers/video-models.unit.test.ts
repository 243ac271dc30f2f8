import { describe, expect, it } from "vitest";
import {
  buildVideoInput,
  defaultVideoSeconds,
  describeVideoModel,
  resolveVideoOptions,
  VIDEO_MODEL_IDS,
  type VideoOptions,
  videoModel,
} from "../../src/providers/video-models.ts";

const plain: VideoOptions = { endFrame: false, extraReferences: 0 };
const resolve = (model: Parameters<typeof videoModel>[0], asked: Partial<VideoOptions>) =>
  resolveVideoOptions(videoModel(model), { ...plain, ...asked });

describe("the video model table", () => {
  it("fills in each model's defaults, and every model's defaults are allowed", () => {
    for (const id of VIDEO_MODEL_IDS) {
      const resolved = resolve(id, {});
      expect(resolved.ok, id).toBe(true);
      if (resolved.ok) expect(videoModel(id).durations).toContain(resolved.options.durationSeconds);
    }
    expect(resolve("google/veo-3.1", {})).toEqual({
      ok: true,
      options: { endFrame: false, extraReferences: 0, durationSeconds: 8, aspectRatio: "16:9" },
    });
    // Kling and Hailuo follow the start image: no ratio is chosen or sent.
    expect(resolve("kwaivgi/kling-v2.1", {})).toMatchObject({
      ok: true,
      options: { aspectRatio: undefined },
    });
  });

  it("refuses an end frame on a model without one, naming what the model can do", () => {
    const refused = resolve("minimax/video-01", { endFrame: true });
    expect(refused).toEqual({
      ok: false,
      message: expect.stringContaining("minimax/video-01 cannot end on a frame you give."),
    });
    expect(!refused.ok && refused.message).toContain(describeVideoModel(videoModel("minimax/video-01")));
    expect(resolve("google/veo-3-fast", { endFrame: true }).ok).toBe(false);
    for (const id of [
      "google/veo-3.1",
      "kwaivgi/kling-v2.1",
      "bytedance/seedance-1-lite",
      "minimax/hailuo-02",
    ] as const) {
      expect(resolve(id, { endFrame: true }).ok, id).toBe(true);
    }
  });

  it("allows only the model's lengths and aspect ratios", () => {
    expect(resolve("kwaivgi/kling-v2.1", { durationSeconds: 10 }).ok).toBe(true);
    expect(resolve("kwaivgi/kling-v2.1", { durationSeconds: 6 })).toMatchObject({
      ok: false,
      message: expect.stringContaining("cannot make a 6-second video"),
    });
    expect(resolve("minimax/hailuo-02", { durationSeconds: 10 }).ok).toBe(true);
    expect(resolve("minimax/hailuo-02", { durationSeconds: 8 }).ok).toBe(false);
    expect(resolve("google/veo-3.1", { aspectRatio: "9:16" }).ok).toBe(true);
    expect(resolve("google/veo-3.1", { aspectRatio: "1:1" }).ok).toBe(false);
    expect(resolve("minimax/hailuo-02", { aspectRatio: "16:9" }).ok).toBe(false);
    // Seedance reads its ratio only without a start frame, that is with reference images.
    expect(resolve("bytedance/seedance-1-lite", { aspectRatio: "1:1" }).ok).toBe(false);
    expect(resolve("bytedance/seedance-1-lite", { aspectRatio: "1:1", extraReferences: 1 })).toMatchObject({
      ok: true,
      options: { aspectRatio: "1:1" },
    });
    expect(resolve("bytedance/seedance-1-lite", {})).toMatchObject({
      ok: true,
      options: { aspectRatio: undefined },
    });
  });

  it("counts reference images against the model's maximum, and never with an end frame", () => {
    expect(resolve("google/veo-3.1", { extraReferences: 2 }).ok).toBe(true);
    expect(resolve("google/veo-3.1", { extraReferences: 3 })).toMatchObject({
      ok: false,
      message: expect.stringContaining("at most 2 reference images"),
    });
    expect(resolve("bytedance/seedance-1-lite", { extraReferences: 3 }).ok).toBe(true);
    expect(resolve("bytedance/seedance-1-lite", { extraReferences: 4 }).ok).toBe(false);
    expect(resolve("kwaivgi/kling-v2.1", { extraReferences: 1 })).toMatchObject({
      ok: false,
      message: expect.stringContaining("takes no reference images"),
    });
    expect(resolve("google/veo-3.1", { extraReferences: 1, endFrame: true }).ok).toBe(false);
    // Veo 3.1's reference images work only for 8-second 16:9 videos.
    expect(resolve("google/veo-3.1", { extraReferences: 1, durationSeconds: 6 }).ok).toBe(false);
    expect(resolve("google/veo-3.1", { extraReferences: 1, aspectRatio: "9:16" }).ok).toBe(false);
  });

  it("builds each model's input under its own field names, declared ones only", () => {
    const base = { prompt: "p", image: "s", durationSeconds: 5 };
    for (const id of VIDEO_MODEL_IDS) {
      const spec = videoModel(id);
      const input = buildVideoInput(spec, {
        ...base,
        durationSeconds: spec.defaultDuration,
        ...(spec.endFrameInput ? { endImage: "e" } : {}),
        aspectRatio: spec.defaultAspectRatio,
      });
      for (const key of Object.keys(input)) expect(spec.declaredInputs, `${id} ${key}`).toContain(key);
    }
    expect(buildVideoInput(videoModel("kwaivgi/kling-v2.1"), { ...base, endImage: "e" })).toEqual({
      prompt: "p",
      start_image: "s",
      end_image: "e",
      mode: "pro",
      duration: 5,
    });
    expect(buildVideoInput(videoModel("kwaivgi/kling-v2.1"), base)).toMatchObject({ mode: "standard" });
    expect(
      buildVideoInput(videoModel("google/veo-3.1"), {
        ...base,
        durationSeconds: 8,
        referenceImages: ["r"],
        aspectRatio: "16:9",
      }),
    ).toEqual({ prompt: "p", reference_images: ["s", "r"], duration: 8, aspect_ratio: "16:9" });
    expect(
      buildVideoInput(videoModel("minimax/hailuo-02"), { ...base, durationSeconds: 6, endImage: "e" }),
    ).toEqual({
      prompt: "p",
      first_frame_image: "s",
      last_frame_image: "e",
      duration: 6,
      resolution: "768p",
      prompt_optimizer: true,
    });
  });

  it("gives a video recorded before lengths its model's one length", () => {
    expect(defaultVideoSeconds("minimax/video-01")).toBe(6);
    expect(defaultVideoSeconds("mock/test-pattern-video")).toBeUndefined();
  });
});
