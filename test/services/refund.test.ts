// A refund is written in the transaction that settles its job: a failure between the two leaves neither.
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app.ts";
import type { AppContext } from "../../src/services/context.ts";
import { captureLogger, generate, makeTempDir, type TempDir, testConfig } from "../support/env.ts";

let app: AppContext | undefined;
let dir: TempDir | undefined;
afterEach(() => {
  app?.close();
  dir?.remove();
  app = dir = undefined;
});

const GUILD = "100000000000000001";
const USER = "300000000000000001";

function setup(): AppContext {
  dir = makeTempDir();
  app = createAppContext(
    testConfig(dir.path, { IMAGE_PROVIDER: "mock", MOCK_LATENCY_MS: "10" }),
    captureLogger().logger,
  );
  return app;
}

/** The database refuses refunds (negative ledger rows), as a crash at that moment would lose them. */
const refuseRefunds = (a: AppContext) =>
  a.db.exec(`CREATE TRIGGER no_refunds BEFORE INSERT ON usage_ledger WHEN NEW.units < 0
    BEGIN SELECT RAISE(ABORT, 'refund lost'); END`);
const allowRefunds = (a: AppContext) => a.db.exec("DROP TRIGGER no_refunds");

describe("refunds settle with their job", () => {
  it("a generation is not marked finished unless its failed slots are refunded with it", async () => {
    const a = setup();
    const admit = (jobId: string, model: string, prompt: string, units: number) =>
      a.admission.admit({ guildId: GUILD, userId: USER, prompt, kind: "image", units, jobId, model });
    const prompt = "robot [mock:provider_error:2,3]";
    const created = a.generation.create(
      { guildId: GUILD, channelId: null, userId: USER, prompt, count: 4, aspectRatio: "1:1" },
      (jobId, model) => admit(jobId, model, prompt, 4),
    );
    if (!created.ok) throw new Error("refused");
    const id = created.generationId;

    refuseRefunds(a);
    await expect(a.generation.run(id)).rejects.toThrow("refund lost");
    expect(a.repos.generations.get(id)?.status).toBe("running");
    expect(a.repos.usage.heldByJob(id, "image")).toBe(4);

    allowRefunds(a);
    const view = await a.generation.run(id);
    expect(view.generation.status).toBe("partial");
    expect(a.repos.usage.heldByJob(id, "image")).toBe(2);
    // Settling again changes nothing: no second refund.
    await a.generation.run(id);
    expect(a.repos.usage.heldByJob(id, "image")).toBe(2);
  });

  it("a video is not marked failed unless it is refunded with it", async () => {
    const a = setup();
    const view = await generate(a, {
      guildId: GUILD,
      channelId: null,
      userId: USER,
      prompt: "hero",
      count: 1,
      aspectRatio: "1:1",
    });
    const image = a.references.imageRow(view.images[0]?.id as string);
    if (!image) throw new Error("no image");
    const prompt = "walks [mock:provider_error]";
    const created = a.video.create(
      { viewer: { userId: USER, guildId: GUILD, canModerate: false }, channelId: null, prompt, image },
      (jobId, model) =>
        a.admission.admit({ guildId: GUILD, userId: USER, prompt, kind: "video", units: 1, jobId, model }),
    );
    if (!created.ok) throw new Error("refused");
    const id = created.video.id;

    refuseRefunds(a);
    await expect(a.video.run(id)).rejects.toThrow("refund lost");
    expect(a.repos.videos.get(id)?.status).not.toBe("failed");
    expect(a.repos.usage.heldByJob(id, "video")).toBe(1);

    allowRefunds(a);
    expect((await a.video.run(id)).status).toBe("failed");
    expect(a.repos.usage.heldByJob(id, "video")).toBe(0);
    await a.video.run(id);
    expect(a.repos.usage.heldByJob(id, "video")).toBe(0);
  });
});
