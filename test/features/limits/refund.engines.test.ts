// A refund is written in the transaction that settles its job: a failure between the two leaves neither.
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../../src/app/compose.ts";
import type { Repos } from "../../../src/db/repos.ts";
import type { AppContext } from "../../../src/features/context.ts";
import { captureLogger, generate, makeTempDir, type TempDir, testConfig } from "../../support/env.ts";

let app: AppContext | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await app?.close();
  dir?.remove();
  app = dir = undefined;
});

const GUILD = "100000000000000001";
const USER = "300000000000000001";

async function setup(): Promise<AppContext> {
  dir = makeTempDir();
  app = await createAppContext(
    testConfig(dir.path, { IMAGE_PROVIDER: "mock", MOCK_LATENCY_MS: "10" }),
    captureLogger().logger,
  );
  return app;
}

/** The database refuses refunds (negative ledger rows), as a crash at that moment would lose them. */
async function refuseRefunds(a: AppContext): Promise<void> {
  const { db, engine } = a.data;
  if (engine === "postgres") {
    await sql`CREATE FUNCTION no_refunds() RETURNS trigger LANGUAGE plpgsql
      AS $$ BEGIN RAISE EXCEPTION 'refund lost'; END $$`.execute(db);
    await sql`CREATE TRIGGER no_refunds BEFORE INSERT ON usage_ledger FOR EACH ROW WHEN (NEW.units < 0)
      EXECUTE FUNCTION no_refunds()`.execute(db);
  } else {
    await sql`CREATE TRIGGER no_refunds BEFORE INSERT ON usage_ledger WHEN NEW.units < 0
      BEGIN SELECT RAISE(ABORT, 'refund lost'); END`.execute(db);
  }
}
async function allowRefunds(a: AppContext): Promise<void> {
  const { db, engine } = a.data;
  if (engine === "postgres") {
    await sql`DROP TRIGGER no_refunds ON usage_ledger`.execute(db);
    await sql`DROP FUNCTION no_refunds()`.execute(db);
  } else {
    await sql`DROP TRIGGER no_refunds`.execute(db);
  }
}

describe("refunds settle with their job", () => {
  it("a generation is not marked finished unless its failed slots are refunded with it", async () => {
    const a = await setup();
    const admit = (jobId: string, model: string, prompt: string, units: number, tx: Repos) =>
      a.admission.admit({ guildId: GUILD, userId: USER, prompt, kind: "image", units, jobId, model }, tx);
    const prompt = "robot [mock:provider_error:2,3]";
    const created = await a.generation.create(
      { guildId: GUILD, channelId: null, userId: USER, prompt, count: 4, aspectRatio: "1:1" },
      (jobId, model, tx) => admit(jobId, model, prompt, 4, tx),
    );
    if (!created.ok) throw new Error("refused");
    const id = created.generationId;

    await refuseRefunds(a);
    await expect(a.generation.run(id)).rejects.toThrow("refund lost");
    expect((await a.repos.generations.get(id))?.status).toBe("running");
    expect(await a.repos.usage.heldByJob(id, "image")).toBe(4);

    await allowRefunds(a);
    const view = await a.generation.run(id);
    expect(view.generation.status).toBe("partial");
    expect(await a.repos.usage.heldByJob(id, "image")).toBe(2);
    // Settling again changes nothing: no second refund.
    await a.generation.run(id);
    expect(await a.repos.usage.heldByJob(id, "image")).toBe(2);
  });

  it("a video is not marked failed unless it is refunded with it", async () => {
    const a = await setup();
    const view = await generate(a, {
      guildId: GUILD,
      channelId: null,
      userId: USER,
      prompt: "hero",
      count: 1,
      aspectRatio: "1:1",
    });
    const image = await a.references.imageRow(view.images[0]?.id as string);
    if (!image) throw new Error("no image");
    const prompt = "walks [mock:provider_error]";
    const created = await a.video.create(
      { viewer: { userId: USER, guildId: GUILD, canModerate: false }, channelId: null, prompt, image },
      (jobId, model, tx) =>
        a.admission.admit(
          { guildId: GUILD, userId: USER, prompt, kind: "video", units: 1, jobId, model },
          tx,
        ),
    );
    if (!created.ok) throw new Error("refused");
    const id = created.video.id;

    await refuseRefunds(a);
    await expect(a.video.run(id)).rejects.toThrow("refund lost");
    expect((await a.repos.videos.get(id))?.status).not.toBe("failed");
    expect(await a.repos.usage.heldByJob(id, "video")).toBe(1);

    await allowRefunds(a);
    expect((await a.video.run(id)).status).toBe("failed");
    expect(await a.repos.usage.heldByJob(id, "video")).toBe(0);
    await a.video.run(id);
    expect(await a.repos.usage.heldByJob(id, "video")).toBe(0);
  });
});
