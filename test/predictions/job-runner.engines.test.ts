// The prediction job's create-once rule across runs: a create is marked sent before it leaves, and a later
// run finds that create's prediction on the provider (or fails the job with the reason) instead of creating
// it again. Real services on a temp-dir SQLite, the real Replicate client against the fake Replicate server.
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import type { AppContext } from "../../src/features/context.ts";
import type { GenerationRequest } from "../../src/features/generation/generation-service.ts";
import { HISTORY_SIZE, PredictionJobRunner } from "../../src/predictions/job-runner.ts";
import { REQUEST, type Rig, startRig } from "../providers/replicate/support.ts";
import { captureLogger, generate, makeTempDir, type TempDir, testConfig } from "../support/env.ts";
import { FakeReplicate } from "../support/fake-replicate.ts";

let rig: Rig | undefined;
let fake: FakeReplicate | undefined;
let dir: TempDir | undefined;
const apps: AppContext[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  await rig?.close();
  await fake?.close();
  dir?.remove();
  rig = fake = dir = undefined;
});

async function open(env: Record<string, string>): Promise<AppContext> {
  const app = await createAppContext(testConfig((dir as TempDir).path, env), captureLogger().logger);
  apps.push(app);
  return app;
}

describe("a create a stopped run sent", () => {
  it("is adopted by the next run for a video, its output stored, and never sent again", async () => {
    // Create 0 draws the reference; create 1, the video's, is stored on Replicate and never answered.
    fake = await FakeReplicate.start({
      token: "r8_testtoken_0123456789abcdef",
      latencyMs: 50,
      behaviour: (_input, index) => ({ hold: index === 1 }),
    });
    dir = makeTempDir();
    const env = { REPLICATE_API_URL: fake.url };
    const first = await open(env);
    const reference = (await generate(first, { ...REQUEST, count: 1 })).images[0];
    const image = reference && (await first.references.imageRow(reference.id));
    if (!image) throw new Error("no reference");
    const created = await first.video.create({
      viewer: { userId: REQUEST.userId, guildId: REQUEST.guildId, canModerate: false },
      channelId: REQUEST.channelId,
      prompt: "walks through rain",
      image,
    });
    if (!created.ok) throw new Error("refused");
    const videoId = created.video.id;
    const running = first.video.run(videoId);
    const [held] = await fake.whenHeld(1);

    // The mark was written before the create left; the stop leaves the video open, with no prediction id.
    const sentAt = (await first.repos.videos.jobs.state(videoId))?.createSentAt;
    expect(sentAt).not.toBeNull();
    expect(sentAt as number).toBeLessThanOrEqual(held?.at as number);
    first.video.stop();
    expect(await running).toMatchObject({ status: "pending", predictionId: null });
    await first.close();

    const second = await open(env);
    const video = await second.video.run(videoId);
    expect(fake.creates).toHaveLength(2);
    expect(video).toMatchObject({ status: "succeeded", predictionId: held?.id, mime: "video/mp4" });
    // Stored where this run keeps its files (the data directory, or the S3 bucket): read back whole.
    expect(await second.files.read(video.fileName as string)).toHaveLength(video.bytes as number);
  });

  it("creates an image slot Replicate does not list once it is sure that create never arrived, and once", async () => {
    // Replicate lists a create that arrived within 1.5 s here: a slot marked sent is looked for until then.
    rig = await startRig({}, { listedWithinMs: 1500 });
    const created = await rig.generation.create({ ...REQUEST, count: 2 });
    if (!created.ok) throw new Error("refused");
    const [lost] = await rig.app.repos.images.forGeneration(created.generationId);
    if (!lost) throw new Error("no slot");
    // As a run killed after marking the create sent and before the request left would leave it.
    const sentAt = Date.now();
    expect(await rig.app.repos.images.jobs.markCreateSent(lost.id, sentAt)).toBe(true);
    expect(await rig.app.repos.images.jobs.markCreateSent(lost.id, Date.now())).toBe(false); // marked once only
    // Replaced only by the run that names the mark it replaces.
    expect(await rig.app.repos.images.jobs.markCreateSent(lost.id, Date.now(), sentAt - 1)).toBe(false);

    const view = await rig.generation.run(created.generationId);
    const listed = rig.fake.requests.filter((q) => q.method === "GET" && q.path === "/v1/predictions");
    expect(listed.length).toBeGreaterThanOrEqual(1);
    // The other slot's create, and the lost slot's, sent only after a look 1.5 s after its first mark.
    expect(rig.fake.creates).toHaveLength(2);
    const own = rig.fake.creates.find((c) => c.id === view.images[0]?.predictionId);
    expect(own?.at).toBeGreaterThanOrEqual(sentAt + 1500);
    expect(Math.max(...listed.map((q) => q.at))).toBeGreaterThanOrEqual(sentAt + 1500);
    expect(view.generation.status).toBe("succeeded");
    expect(view.images.map((i) => i.status)).toEqual(["succeeded", "succeeded"]);
    expect(new Set(view.images.map((i) => i.predictionId)).size).toBe(2);
    expect(rig.lines.join("\n")).toContain("a create sent before the restart never arrived; creating it now");
  });

  it("draws a mock slot again (a mock prediction lives only in its id, and costs nothing)", async () => {
    dir = makeTempDir();
    const app = await open({ IMAGE_PROVIDER: "mock", MOCK_LATENCY_MS: "10" });
    const request: GenerationRequest = { ...REQUEST, count: 2 };
    const created = await app.generation.create(request);
    if (!created.ok) throw new Error("refused");
    const [lost] = await app.repos.images.forGeneration(created.generationId);
    if (!lost) throw new Error("no slot");
    const sentAt = Date.now();
    await app.repos.images.jobs.markCreateSent(lost.id, sentAt);

    const view = await app.generation.run(created.generationId);
    expect(view.images.map((i) => i.status)).toEqual(["succeeded", "succeeded"]);
    expect(view.images[0]?.predictionId).toEqual(expect.any(String));
    expect((await app.repos.images.jobs.state(lost.id))?.createSentAt).toBeGreaterThanOrEqual(sentAt);
  });
});

describe("pacing from recorded running times", () => {
  it("records each image's own running time and paces a restarted bot's first job by them", async () => {
    fake = await FakeReplicate.start({
      token: "r8_testtoken_0123456789abcdef",
      behaviour: (_input, index) => ({ latencyMs: 120 + 10 * index }),
    });
    dir = makeTempDir();
    const env = { REPLICATE_API_URL: fake.url };
    const first = await open(env);
    const view = await generate(first, { ...REQUEST, count: 3 });
    expect(view.images.map((i) => i.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    // What Replicate reported (completed_at − created_at), not what the bot took to notice it.
    const times = await first.repos.images.recentPredictionTimes("google/imagen-4", 20);
    expect([...times].sort()).toEqual(fake.creates.map((c) => c.latencyMs).sort());
    expect(await first.repos.images.recentPredictionTimes("google/nano-banana-2", 20)).toEqual([]);
    await first.close();
    apps.splice(0);

    // A new process on the same database: the runner's history is what the last one recorded.
    const second = await open(env);
    const runner = new PredictionJobRunner({
      limiter: second.limiter,
      clock: second.clock,
      pollMs: 1000,
      history: (model) => second.repos.images.recentPredictionTimes(model, HISTORY_SIZE),
    });
    const estimate = await runner.estimate("google/imagen-4");
    expect(estimate.expectedMs).toBeGreaterThanOrEqual(120);
    expect(estimate.expectedMs).toBeLessThanOrEqual(140);
  });
});
