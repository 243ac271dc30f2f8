import { describe, expect, it } from "vitest";
import { uploadedUrlsOf, videoParamsOf } from "../../../src/db/repositories/videos-repo.ts";
import { ALICE, e2eSuite, type Harness } from "../../support/bot-harness.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";

const suite = e2eSuite("video-frames");
const replicate = replicateFixture();
const EPHEMERAL = 64;

async function start(env: Record<string, string> = {}): Promise<Harness> {
  await replicate.start({ behaviour: () => ({ latencyMs: 50 }) });
  return suite.start({ ...replicate.env, ...env });
}

/** Two stored references of Alice's, from one grid. */
async function twoReferences(h: Harness) {
  const grid = await h.character({ description: "a red fox knight", count: 2 });
  const [a, b] = (await h.generationOf(grid)).images;
  if (!a?.fileName || !b?.fileName) throw new Error("the grid stored no images");
  return [a, b] as const;
}

function run(h: Harness, options: Record<string, string | number>) {
  return h.sandbox.runCommand({
    command: "video",
    options: { prompt: "turns around", ...options },
    user: ALICE,
  });
}

const done = (h: Harness, i: ReturnType<typeof run>) =>
  h.settledReply(i, (m) => !m.content.includes("elapsed") && m.attachments.length > 0);

/** What the model reads at a URL the bot sent: the Files API upload's bytes. */
async function bytesAt(url: unknown): Promise<Buffer> {
  expect(String(url)).toMatch(new RegExp(`^${replicate.fake.url}/files/\\w+/download$`));
  return Buffer.from(await (await fetch(String(url))).arrayBuffer());
}

async function ledgerRows(h: Harness) {
  return h.ctx.data.db.selectFrom("usageLedger").selectAll().where("kind", "=", "video").execute();
}

describe("/video with frames, a model, a length and reference images", () => {
  it("sends the exact bytes of the start and end frames under veo-3.1's own fields, and prices it per second", async () => {
    const h = await start();
    const [first, last] = await twoReferences(h);
    const message = await done(
      h,
      run(h, {
        reference: first.id,
        end_frame: last.id,
        model: "google/veo-3.1",
        duration: 6,
        aspect_ratio: "9:16",
      }),
    );
    expect(message.attachments).toHaveLength(1);
    expect(message.content).toContain(`from reference \`${first.id}\` to reference \`${last.id}\``);
    const create = replicate.fake.creates.at(-1);
    expect(create?.model).toBe("google/veo-3.1");
    expect(replicate.fake.rejectedInputs).toEqual([]);
    expect(create?.input).toMatchObject({ prompt: "turns around", duration: 6, aspect_ratio: "9:16" });
    expect(
      (await bytesAt(create?.input.image)).equals(await h.ctx.files.read(first.fileName as string)),
    ).toBe(true);
    expect(
      (await bytesAt(create?.input.last_frame)).equals(await h.ctx.files.read(last.fileName as string)),
    ).toBe(true);

    const [video] = await h.ctx.video.forImage(first.id);
    expect(video?.model).toBe("google/veo-3.1");
    expect(videoParamsOf(video as { params: string })).toMatchObject({
      spec: "google/veo-3.1",
      durationSeconds: 6,
      aspectRatio: "9:16",
      endImageId: last.id,
    });
    expect((await ledgerRows(h)).map((r) => [r.model, r.units, r.seconds])).toEqual([
      ["google/veo-3.1", 1, 6],
    ]);
    // The grid's two images at $0.04, and the video's 6 seconds at $0.40 a second.
    const usage = await h.settledReply(h.sandbox.runCommand({ command: "usage", options: {}, user: ALICE }));
    expect(usage.content).toContain("Videos: 1 of 5 (4 left) · about $2.48");
    expect(usage.content).toContain("google/veo-3.1 $0.4 a second");

    const info = await h.settledReply(
      h.sandbox.runCommand({ command: "reference info", options: { id: first.id }, user: ALICE }),
    );
    expect(info.content).toContain(`ends on \`${last.id}\``);
  });

  it("puts Kling's end frame in end_image with pro mode, and Hailuo's in last_frame_image", async () => {
    const h = await start();
    const [first, last] = await twoReferences(h);
    await done(
      h,
      run(h, { reference: first.id, end_frame: last.id, model: "kwaivgi/kling-v2.1", duration: 10 }),
    );
    const kling = replicate.fake.creates.at(-1);
    expect(kling?.input).toMatchObject({ mode: "pro", duration: 10 });
    expect(
      (await bytesAt(kling?.input.start_image)).equals(await h.ctx.files.read(first.fileName as string)),
    ).toBe(true);
    expect(
      (await bytesAt(kling?.input.end_image)).equals(await h.ctx.files.read(last.fileName as string)),
    ).toBe(true);
    await done(h, run(h, { reference: first.id, end_frame: last.id, model: "minimax/hailuo-02" }));
    const hailuo = replicate.fake.creates.at(-1);
    expect(Object.keys(hailuo?.input ?? {}).sort()).toEqual([
      "duration",
      "first_frame_image",
      "last_frame_image",
      "prompt",
      "prompt_optimizer",
      "resolution",
    ]);
    expect(
      (await bytesAt(hailuo?.input.last_frame_image)).equals(await h.ctx.files.read(last.fileName as string)),
    ).toBe(true);
    expect(replicate.fake.rejectedInputs).toEqual([]);
  });

  it("sends more references with the start one as seedance's reference images", async () => {
    const h = await start();
    const [first, second] = await twoReferences(h);
    await done(
      h,
      run(h, {
        reference: first.id,
        ref1: second.id,
        model: "bytedance/seedance-1-lite",
        aspect_ratio: "1:1",
      }),
    );
    const create = replicate.fake.creates.at(-1);
    expect(create?.input.image).toBeUndefined();
    expect(create?.input.aspect_ratio).toBe("1:1");
    const sent = create?.input.reference_images as unknown[];
    expect(sent).toHaveLength(2);
    expect((await bytesAt(sent[0])).equals(await h.ctx.files.read(first.fileName as string))).toBe(true);
    expect((await bytesAt(sent[1])).equals(await h.ctx.files.read(second.fileName as string))).toBe(true);
    const [video] = await h.ctx.video.forImage(first.id);
    expect(videoParamsOf(video as { params: string }).referenceImageIds).toEqual([second.id]);
    // Each image's upload is recorded on the row (a restart sends the same input, an erasure deletes them all).
    expect(uploadedUrlsOf(video as { params: string }).sort()).toEqual(sent.map(String).sort());
  });

  it("refuses, privately and before anything is charged, what the model cannot do", async () => {
    const h = await start();
    const [first, last] = await twoReferences(h);
    const creates = replicate.fake.creates.length;
    const cases: Array<[Record<string, string | number>, string]> = [
      // VIDEO_MODEL's default, minimax/video-01, has no end frame.
      [{ end_frame: last.id }, "minimax/video-01 cannot end on a frame you give"],
      [{ model: "google/veo-3.1", duration: 5 }, "cannot make a 5-second video"],
      [{ model: "kwaivgi/kling-v2.1", aspect_ratio: "16:9" }, "cannot make a 16:9 video"],
      [
        { model: "google/veo-3.1", ref1: last.id, ref2: last.id, ref3: last.id },
        "at most 2 reference images",
      ],
      [{ model: "google/veo-3.1", ref1: last.id, duration: 4 }, "only for an 8-second 16:9 video"],
      [{ model: "google/veo-3.1", ref1: last.id, end_frame: last.id }, "reference images and an end frame"],
    ];
    for (const [options, words] of cases) {
      const answer = await h.settledReply(run(h, { reference: first.id, ...options }));
      expect(answer.content).toContain(words);
      expect(answer.content).toContain("Nothing was charged");
      expect(answer.flags & EPHEMERAL).toBe(EPHEMERAL);
      expect(answer.visible_to).toBe(ALICE.id);
    }
    expect(await h.ctx.video.forImage(first.id)).toEqual([]);
    expect(await ledgerRows(h)).toEqual([]);
    expect(replicate.fake.creates.length).toBe(creates);
    // The refusal says what the model can do.
    const answer = await h.settledReply(run(h, { reference: first.id, end_frame: last.id }));
    expect(answer.content).toContain("minimax/video-01 takes one length (6 s)");
  });

  it("works offline with the mock provider, and a video goes with its end frame when that is deleted", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const [first, last] = await twoReferences(h);
    const i = run(h, { reference: first.id, end_frame: last.id, model: "google/veo-3.1", duration: 4 });
    const message = await done(h, i);
    expect(message.attachments[0]?.content_type).toBe("video/mp4");
    const [video] = await h.ctx.video.forImage(first.id);
    // Recorded as the mock's, with what was asked: the sandbox is free, and /usage prices it at nothing.
    expect(video?.model).toBe("mock/test-pattern-video");
    expect(videoParamsOf(video as { params: string })).toMatchObject({
      spec: "google/veo-3.1",
      durationSeconds: 4,
      endImageId: last.id,
    });
    // Deleting the end frame deletes the video that ends on it, as deleting its start would.
    const deleted = await h.settledReply(
      h.sandbox.runCommand({ command: "reference delete", options: { id: last.id }, user: ALICE }),
    );
    expect(deleted.content).toContain("and 1 video made from it");
    expect((await h.ctx.video.get(video?.id as string))?.deletedAt).toEqual(expect.any(Number));
    await h.sandbox.waitFor(
      () => h.sandbox.original(i)?.attachments.length === 0 || undefined,
      10_000,
      "the video's message without its video",
    );
    // The end frame and the reference images are offered as the start reference is.
    for (const focused of ["end_frame", "ref2"]) {
      const typed = h.sandbox.runCommand({
        command: "video",
        options: { prompt: "x", [focused]: "fox" },
        focused,
        user: ALICE,
      });
      const choices = (await h.sandbox.waitFor(() => typed.autocompleteChoices, 5000, "choices")) as Array<{
        value: string;
      }>;
      expect(choices.map((c) => c.value)).toContain(first.id);
    }
    // The table's refusals hold in the sandbox too.
    const refused = await h.settledReply(
      run(h, { reference: first.id, model: "google/veo-3-fast", end_frame: last.id }),
    );
    expect(refused.content).toContain("google/veo-3-fast cannot end on a frame you give");
  });
});
