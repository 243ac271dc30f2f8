import { existsSync, readdirSync, readFileSync } from "node:fs";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../../src/app/compose.ts";
import type { Config } from "../../../src/config/load.ts";
import type { AppContext } from "../../../src/features/context.ts";
import type { GenerationRequest } from "../../../src/features/generation/generation-service.ts";
import type { GenerationView } from "../../../src/features/generation/generation-view.ts";
import {
  captureLogger,
  generate,
  makeTempDir,
  steppingClock,
  type TempDir,
  testConfig,
  waitUntil,
} from "../../support/env.ts";
import type { FakeReplicateOptions } from "../../support/fake-replicate.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";

const replicate = replicateFixture();
let app: AppContext | undefined;
let dir: TempDir | undefined;
let clock = steppingClock();
afterEach(async () => {
  await app?.close();
  dir?.remove();
  app = dir = undefined;
});

const REQUEST: GenerationRequest = {
  guildId: "100000000000000001",
  channelId: "200000000000000001",
  userId: "300000000000000001",
  prompt: "silver robot with blue eyes",
  count: 4,
  aspectRatio: "1:1",
};

async function setup(
  fakeOptions: Partial<FakeReplicateOptions> = {},
  env: Record<string, string> = {},
  tweak?: (c: Config) => Config,
) {
  const fake = await replicate.start({ latencyMs: 300, ...fakeOptions });
  dir = makeTempDir();
  const config = testConfig(dir.path, { REPLICATE_API_URL: fake.url, ...env });
  const log = captureLogger();
  clock = steppingClock();
  const made = await createAppContext(tweak ? tweak(config) : config, log.logger, { clock });
  app = made;
  return { fake, app: made, dir, lines: log.lines };
}

/** As waitUntil, for a check that reads the database (every read is async now). */
async function waitForAsync(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("GenerationService.start", () => {
  it("runs four predictions in parallel, stores each image under its UUID and reports each as it lands", async () => {
    const { fake, app, dir } = await setup();
    const progress: GenerationView[] = [];
    // No prediction can finish until released: all four creates arriving meanwhile shows they overlap.
    fake.holdResults();
    const running = generate(app, REQUEST, (v) => progress.push(v));
    await waitUntil(() => fake.creates.length === 4, "four creates while none has finished");
    expect(progress).toEqual([]);
    fake.releaseResults();
    const view = await running;
    expect(fake.creates).toHaveLength(4);

    expect(view.generation.status).toBe("succeeded");
    expect(view.generation.finishedAt).not.toBeNull();
    expect(view.images.map((i) => i.slot)).toEqual([1, 2, 3, 4]);
    for (const image of view.images) {
      expect(image).toMatchObject({
        status: "succeeded",
        model: "google/imagen-4",
        mime: "image/png",
        width: 64,
        height: 48,
      });
      expect(image.fileName).toBe(`${image.id}.png`);
      const file = readFileSync(`${dir.path}/images/${image.fileName}`);
      expect(file.length).toBe(image.bytes);
      expect((await sharp(file).metadata()).format).toBe("png");
    }
    expect(new Set(view.images.map((i) => i.predictionId)).size).toBe(4);
    // One report per slot, each as it stood then: slots whose files shared one directory fsync land together,
    // so two reports may show the same count.
    expect(progress).toHaveLength(4);
    const stored = progress.map((p) => p.images.filter((i) => i.status === "succeeded").length);
    expect(stored).toEqual([...stored].sort());
    expect(stored[0]).toBeGreaterThanOrEqual(1);
    expect(stored.at(-1)).toBe(4);
  });

  it("writes each prediction id to its row as soon as the prediction exists", async () => {
    const { app, fake } = await setup();
    fake.holdResults();
    const running = generate(app, { ...REQUEST, count: 2 });
    // While no prediction can finish, each row comes to carry its prediction's id.
    const rows = async () => {
      const [generation] = await app.generation.undelivered();
      return (await app.generation.view(generation?.id ?? ""))?.images ?? [];
    };
    let latest = await rows();
    await waitForAsync(async () => {
      latest = await rows();
      return latest.length === 2 && latest.every((r) => r.predictionId !== null);
    }, "both rows to record their prediction");
    expect(latest.map((r) => r.status)).toEqual(["running", "running"]);
    expect(latest.map((r) => r.predictionId).sort()).toEqual(fake.creates.map((c) => c.id).sort());
    fake.releaseResults();
    await running;
  });

  it("gives 3 stored images and 1 classified failure when 1 of 4 is blocked by the safety filter", async () => {
    const { app, dir } = await setup({ behaviour: (_input, i) => ({ outcome: i === 2 ? "safety" : "ok" }) });
    const view = await generate(app, REQUEST);
    expect(view.generation.status).toBe("partial");
    const failed = view.images.filter((i) => i.status === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ errorCode: "safety_blocked", fileName: null });
    expect(failed[0]?.errorMessage).toContain("flagged as sensitive");
    const stored = view.images.filter((i) => i.status === "succeeded");
    expect(stored).toHaveLength(3);
    for (const image of stored) expect(existsSync(`${dir.path}/images/${image.fileName}`)).toBe(true);
  });

  it("marks the generation failed when every slot fails, each with its own classification", async () => {
    const outcomes = ["safety", "error", "not_image", "oversized"] as const;
    const { app, dir } = await setup({ behaviour: (_input, i) => ({ outcome: outcomes[i] ?? "error" }) });
    const view = await generate(app, REQUEST);
    expect(view.generation.status).toBe("failed");
    expect(view.images.map((i) => i.errorCode).sort()).toEqual(
      ["bad_output", "bad_output", "provider_error", "safety_blocked"].sort(),
    );
    expect((await app.references.listImages(REQUEST.userId, REQUEST.guildId, 1, 10)).total).toBe(0);
    expect(readdirSync(`${dir.path}/images`)).toEqual([]);
  });

  it("records the model that actually ran on every image row after a 404 for IMAGE_MODEL", async () => {
    const { app, lines } = await setup({ missingModels: ["google/imagen-4"] });
    const view = await generate(app, REQUEST);
    expect(view.generation.status).toBe("succeeded");
    expect(view.images.map((i) => i.model)).toEqual(Array(4).fill("google/nano-banana-2"));
    const second = await generate(app, { ...REQUEST, count: 1 });
    expect(second.generation.model).toBe("google/nano-banana-2");
    expect(lines.filter((l) => JSON.parse(l).level === 40)).toHaveLength(1);
  });

  it("never has more predictions in flight than MAX_CONCURRENT_PREDICTIONS", async () => {
    const { fake, app } = await setup({ latencyMs: 20 }, { MAX_CONCURRENT_PREDICTIONS: "2" });
    fake.holdResults();
    const running = generate(app, REQUEST);
    await waitUntil(() => fake.creates.length === 2, "two creates");
    // The bot is waiting on both (it has checked on them a few times, one at a time or both in one list) and
    // has not created a third.
    const polls = () =>
      fake.requests.filter((r) => r.method === "GET" && r.path.startsWith("/v1/predictions"));
    await waitUntil(() => polls().length >= 6, "the two predictions polled");
    expect(fake.creates).toHaveLength(2);
    fake.releaseResults();
    const view = await running;
    expect(view.generation.status).toBe("succeeded");
    expect(fake.creates).toHaveLength(4);
  });

  it("cancels a prediction that passes its deadline and records a timeout", async () => {
    const { fake, app } = await setup({ behaviour: () => ({ outcome: "never" }) }, {}, (c) => ({
      ...c,
      predictionTimeoutMs: 300,
    }));
    const view = await generate(app, { ...REQUEST, count: 1 });
    expect(view.generation.status).toBe("failed");
    expect(view.images[0]).toMatchObject({ status: "failed", errorCode: "timeout" });
    expect(fake.cancels).toEqual([view.images[0]?.predictionId]);
  });
});

describe("looking up, listing and picking", () => {
  const owner = { userId: REQUEST.userId, guildId: REQUEST.guildId, canModerate: false };

  it("lets only the requester pick, and remembers the latest pick as current", async () => {
    const { app } = await setup({
      latencyMs: 20,
      behaviour: (_i, n) => ({ outcome: n === 3 ? "error" : "ok" }),
    });
    const view = await generate(app, REQUEST);
    const id = view.generation.id;
    // Each pick is its own button press, with its own interaction id.
    let presses = 0;
    const select = (generationId: string, slot: number, userId: string) =>
      app.references.select(generationId, slot, userId, `${500000000000000000n + BigInt(++presses)}`);

    expect(await select(id, 2, "399999999999999999")).toEqual({ ok: false, reason: "not_owner" });
    expect(await app.references.currentSelection(REQUEST.userId, REQUEST.guildId)).toBeUndefined();
    const failedSlot = view.images.find((i) => i.status === "failed")?.slot as number;
    expect(await select(id, failedSlot, REQUEST.userId)).toEqual({
      ok: false,
      reason: "not_available",
    });
    expect(await select("../../etc/passwd", 1, REQUEST.userId)).toEqual({
      ok: false,
      reason: "not_found",
    });

    const first = await select(id, 1, REQUEST.userId);
    expect(first.ok).toBe(true);
    const second = await select(id, 2, REQUEST.userId);
    expect(second.ok && second.image.slot).toBe(2);
    // The same press handled again (a retry, another process) records nothing: the pick stays slot 2.
    const pressAgain = await app.references.select(
      id,
      1,
      REQUEST.userId,
      `${500000000000000000n + BigInt(presses)}`,
    );
    expect(pressAgain).toEqual({ ok: false, reason: "already_recorded" });
    expect((await app.references.currentSelection(REQUEST.userId, REQUEST.guildId))?.image.slot).toBe(2);
    expect(await app.references.pickedSlot(id)).toBe(2);
    // A pick is per guild: the same user elsewhere has none.
    expect(await app.references.currentSelection(REQUEST.userId, "100000000000000009")).toBeUndefined();
    const lookup = await app.references.getImage(view.images[1]?.id as string, owner);
    expect(lookup.ok && lookup.isCurrentPick).toBe(true);
  });

  it("shows an image to its owner and the guild's moderators only, and rejects bad ids first", async () => {
    const { app } = await setup({ latencyMs: 20 });
    const view = await generate(app, { ...REQUEST, count: 1 });
    const imageId = view.images[0]?.id as string;
    const stranger = { userId: "399999999999999999", guildId: REQUEST.guildId, canModerate: false };
    const moderator = { ...stranger, canModerate: true };
    const otherGuildModerator = { ...moderator, guildId: "100000000000000009" };

    const mine = await app.references.getImage(imageId, owner);
    expect(mine.ok).toBe(true);
    expect(await app.references.readImageFile(mine.ok ? mine.image : { fileName: null })).toHaveLength(
      view.images[0]?.bytes as number,
    );
    expect(await app.references.getImage(imageId, stranger)).toEqual({ ok: false, reason: "forbidden" });
    expect((await app.references.getImage(imageId, moderator)).ok).toBe(true);
    expect(await app.references.getImage(imageId, otherGuildModerator)).toEqual({
      ok: false,
      reason: "forbidden",
    });
    for (const bad of ["../../etc/passwd", "1; DROP TABLE images", "", imageId.toUpperCase()]) {
      expect(await app.references.getImage(bad, owner)).toEqual({ ok: false, reason: "invalid_id" });
    }
    expect(await app.references.getImage("0a1b2c3d-0000-4000-8000-000000000000", owner)).toEqual({
      ok: false,
      reason: "not_found",
    });
  });

  it("lists a user's images newest first, in pages", async () => {
    const { app } = await setup({ latencyMs: 20 });
    const first = await generate(app, { ...REQUEST, count: 3, prompt: "first" });
    clock.advance(1000);
    const second = await generate(app, { ...REQUEST, count: 2, prompt: "second" });
    await generate(app, { ...REQUEST, userId: "399999999999999999", count: 1 });

    const page1 = await app.references.listImages(REQUEST.userId, REQUEST.guildId, 1, 4);
    expect(page1).toMatchObject({ page: 1, pages: 2, total: 5 });
    expect(page1.items.slice(0, 2).every((i) => i.generationId === second.generation.id)).toBe(true);
    const page2 = await app.references.listImages(REQUEST.userId, REQUEST.guildId, 2, 4);
    expect(page2.items).toHaveLength(1);
    expect(page2.items[0]?.generationId).toBe(first.generation.id);
    expect((await app.references.listImages(REQUEST.userId, REQUEST.guildId, 99, 4)).page).toBe(2);
  });
});
