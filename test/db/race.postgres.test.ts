// The rules that must hold across processes, shown with two real bot processes (test/db/race-process.ts)
// on one PostgreSQL database, started together and racing for the same member, job, press and slots: never
// more than the running cap, an allowance never overspent, a refund made once, a pick recorded once per press,
// and one prediction create per slot.
import { writeFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import type { AppContext } from "../../src/features/context.ts";
import { utcDay } from "../../src/features/limits/quota.ts";
import { newId } from "../../src/kit/ids.ts";
import {
  captureLogger,
  engineEnv,
  makeTempDir,
  TEST_REPLICATE_TOKEN,
  type TempDir,
  testConfig,
} from "../support/env.ts";
import { replicateFixture } from "../support/replicate-fixture.ts";
import { spawnScript } from "../support/spawn.ts";

const SCRIPT = "test/db/race-process.ts";
const GUILD = "100000000000000001";
const replicate = replicateFixture();

let dir: TempDir;
let app: AppContext;
let round = 0;

beforeAll(async () => {
  dir = makeTempDir();
});
afterEach(async () => {
  await app?.close();
});
afterAll(() => dir?.remove());

/** The variables both processes share: this directory's schema and bucket prefix, and the limits under test. */
function sharedEnv(extra: Record<string, string>): Record<string, string> {
  return {
    ...engineEnv(dir.path),
    DATA_DIR: dir.path,
    IMAGE_PROVIDER: "mock",
    MOCK_LATENCY_MS: "60000",
    LOG_LEVEL: "warn",
    ...extra,
  };
}

/** Starts two processes, lets them go at the same moment, and returns every attempt's outcome from both. */
async function race(env: Record<string, string>): Promise<string[]> {
  const go = `${dir.path}/go-${++round}`;
  const processes = [1, 2].map(() => spawnScript(SCRIPT, { ...env, RACE_GO: go }));
  await Promise.all(processes.map((p) => p.printed("ready", 30_000)));
  writeFileSync(go, "");
  await Promise.all(processes.map((p) => p.printed("outcomes ", 20_000))).catch((err: Error) => {
    for (const p of processes) p.child.kill("SIGKILL");
    throw new Error(
      `${err.message.split("\n")[0]}\n${processes.map((p, i) => `--- process ${i + 1}\n${p.output()}`).join("\n")}`,
    );
  });
  const codes = await Promise.all(processes.map((p) => p.exited()));
  expect(codes, processes.map((p) => p.output()).join("\n")).toEqual([0, 0]);
  return processes.flatMap((p) => JSON.parse(/outcomes (.*)/.exec(p.stdout())?.[1] ?? "[]") as string[]);
}

const count = (outcomes: string[], what: string) => outcomes.filter((o) => o === what).length;

/** The app of the test itself, on the same database, to seed and read rows. */
async function openApp(extra: Record<string, string> = {}) {
  app = await createAppContext(
    testConfig(dir.path, { IMAGE_PROVIDER: "mock", ...extra }),
    captureLogger().logger,
  );
  return app;
}

describe("two bot processes on one PostgreSQL database", () => {
  it("never run more than a member's cap at once: 2 × 10 requests, cap 3", async () => {
    const outcomes = await race(
      sharedEnv({
        RACE_SCENARIO: "admit",
        RACE_USER: "200000000000000001",
        RACE_GUILD: GUILD,
        MAX_RUNNING_PER_USER: "3",
      }),
    );
    expect(outcomes).toHaveLength(20);
    expect(count(outcomes, "admitted")).toBe(3);
    expect(count(outcomes, "busy")).toBe(17);
    const ctx = await openApp();
    expect(await ctx.repos.generations.runningCount("200000000000000001")).toBe(3);
    expect(await ctx.repos.usage.usedByUser(utcDay(Date.now()), ["200000000000000001"], GUILD, "image")).toBe(
      3,
    );
  });

  it("never overspend an allowance: 2 × 12 requests for 7 images left", async () => {
    const outcomes = await race(
      sharedEnv({
        RACE_SCENARIO: "admit",
        RACE_USER: "200000000000000002",
        RACE_GUILD: GUILD,
        RACE_PARALLEL: "12",
        MAX_RUNNING_PER_USER: "100",
        DAILY_IMAGES_PER_USER: "7",
      }),
    );
    expect(count(outcomes, "admitted")).toBe(7);
    expect(count(outcomes, "quota")).toBe(17);
    const ctx = await openApp();
    expect(await ctx.repos.usage.usedByUser(utcDay(Date.now()), ["200000000000000002"], GUILD, "image")).toBe(
      7,
    );
  });

  it("refund a job once: 2 × 10 refunds of the same 4 images", async () => {
    const ctx = await openApp();
    const jobId = newId();
    await ctx.repos.usage.add({
      day: utcDay(Date.now()),
      guildId: GUILD,
      userId: "200000000000000003",
      kind: "image",
      units: 4,
      jobId,
      model: "google/imagen-4",
      createdAt: Date.now(),
    });
    const outcomes = await race(sharedEnv({ RACE_SCENARIO: "refund", RACE_JOB: jobId }));
    expect(count(outcomes, "refunded")).toBe(20);
    expect(await ctx.repos.usage.heldByJob(jobId, "image")).toBe(0);
    const rows = await ctx.data.db
      .selectFrom("usageLedger")
      .select("units")
      .where("jobId", "=", jobId)
      .execute();
    expect(rows.map((r) => r.units).sort()).toEqual([-4, 4]);
  });

  it("record one pick per press: 2 × 10 handlings of the same button press", async () => {
    const ctx = await openApp({ MOCK_LATENCY_MS: "0" });
    const created = await ctx.generation.create({
      guildId: GUILD,
      channelId: null,
      userId: "200000000000000004",
      prompt: "a dragon",
      count: 2,
      aspectRatio: "1:1",
    });
    if (!created.ok) throw new Error(created.reason);
    await ctx.generation.run(created.generationId);
    const outcomes = await race(
      sharedEnv({
        RACE_SCENARIO: "pick",
        RACE_JOB: created.generationId,
        RACE_USER: "200000000000000004",
        RACE_PRESS: "300000000000000001",
      }),
    );
    expect(count(outcomes, "recorded")).toBe(1);
    expect(count(outcomes, "already_recorded")).toBe(19);
    const picks = await ctx.data.db
      .selectFrom("selections")
      .select("interactionId")
      .where("generationId", "=", created.generationId)
      .execute();
    expect(picks).toEqual([{ interactionId: "300000000000000001" }]);
  });

  it("create each slot's prediction once: 2 processes running the same 4 slots", async () => {
    const fake = await replicate.start({ latencyMs: 300 });
    const ctx = await openApp(replicate.env);
    const created = await ctx.generation.create({
      guildId: GUILD,
      channelId: null,
      userId: "200000000000000005",
      prompt: "a lighthouse",
      count: 4,
      aspectRatio: "1:1",
    });
    if (!created.ok) throw new Error(created.reason);
    await race(
      sharedEnv({
        ...replicate.env,
        REPLICATE_API_TOKEN: TEST_REPLICATE_TOKEN,
        PREDICTION_POLL_MS: "25",
        RACE_SCENARIO: "run",
        RACE_JOB: created.generationId,
        RACE_PARALLEL: "1",
      }),
    );
    // The guarantee: one create per slot, whoever runs it. (Which prediction a losing process then adopts for a
    // slot is a guess among identical inputs; running one slot in two live processes at once is what the fleet's
    // queue rules out with one job per slot. Every slot ends, and only with a prediction that was created.)
    expect(fake.creates).toHaveLength(4);
    const images = await ctx.repos.images.forGeneration(created.generationId);
    expect(images.every((i) => i.status === "succeeded" || i.status === "failed")).toBe(true);
    for (const image of images.filter((i) => i.predictionId !== null)) {
      expect(fake.creates.map((c) => c.id)).toContain(image.predictionId);
    }
  });
});
