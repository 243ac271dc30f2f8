import { afterEach, describe, expect, it } from "vitest";
import { type DataStore, openDataStore } from "../../../src/db/data-store.ts";
import { databaseSettings } from "../../../src/db/database.ts";
import type { LedgerEntry, UsageKind } from "../../../src/db/repositories/usage-repo.ts";
import { admissionLocks } from "../../../src/features/limits/admission.ts";
import { Pseudonyms } from "../../../src/features/limits/pseudonyms.ts";
import { QuotaService, type UserCap, utcDay } from "../../../src/features/limits/quota.ts";
import { systemClock } from "../../../src/kit/clock.ts";
import { IMAGE_MODEL_PRICES_USD } from "../../../src/providers/image-models.ts";
import { VIDEO_MODEL_PRICES_USD } from "../../../src/providers/video-models.ts";
import { makeTempDir, type TempDir, testConfig } from "../../support/env.ts";

let store: DataStore | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await store?.close();
  dir?.remove();
  store = dir = undefined;
});

async function setup(
  now = { t: Date.UTC(2026, 10, 24, 23, 0) },
  userCap: UserCap = { images: 1000, videos: 1000 },
) {
  dir = makeTempDir();
  // This run's database: SQLite under the temp dir, or its own PostgreSQL schema in the engines tier.
  const data = await openDataStore(databaseSettings(testConfig(dir.path)));
  store = data;
  const settings = data.repos.guildSettings;
  const quota = new QuotaService({
    usage: data.repos.usage,
    settings,
    defaults: { imagesPerUser: 8, imagesPerGuild: 10, videosPerUser: 1, videosPerGuild: 2 },
    userCap,
    prices: { ...IMAGE_MODEL_PRICES_USD, ...VIDEO_MODEL_PRICES_USD },
    clock: { ...systemClock, now: () => now.t },
    pseudonyms: new Pseudonyms(data.repos.meta),
  });
  /** A reservation in its own transaction, under the locks admission takes, as the bot makes one. */
  const reserve = (request: Omit<LedgerEntry, "day" | "createdAt">) =>
    data.transaction((tx) => quota.reserve(request, tx), {
      locks: admissionLocks(request.userId, request.guildId),
    });
  const refund = (jobId: string, kind: UsageKind, units: number) =>
    data.transaction((tx) => quota.refund(jobId, kind, units, tx));
  return { data, quota, reserve, refund, settings, now };
}

const image = (userId: string, jobId: string, units = 4, guildId: string | null = "g1") => ({
  guildId,
  userId,
  kind: "image" as const,
  units,
  jobId,
  model: "google/imagen-4",
});

describe("QuotaService", () => {
  it("reserves until the user's allowance is used, then refuses with what is used and when it resets", async () => {
    const { reserve } = await setup();
    expect(await reserve(image("alice", "j1"))).toEqual({ ok: true });
    expect(await reserve(image("alice", "j2"))).toEqual({ ok: true });
    const refused = await reserve(image("alice", "j3", 1));
    expect(refused).toEqual({
      ok: false,
      scope: "user",
      kind: "image",
      used: 8,
      limit: 8,
      resetsAt: Date.UTC(2026, 10, 25),
    });
  });

  it("refuses when the guild's allowance is used up, even for a member with allowance left", async () => {
    const { reserve } = await setup();
    await reserve(image("alice", "j1"));
    await reserve(image("alice", "j2"));
    expect(await reserve(image("bob", "j3", 4))).toMatchObject({
      ok: false,
      scope: "guild",
      used: 8,
      limit: 10,
    });
    expect(await reserve(image("bob", "j4", 2))).toEqual({ ok: true });
  });

  it("refunds failed slots, never more than a job holds, on the day it reserved", async () => {
    const { quota, now, reserve, refund } = await setup();
    const reservedAt = now.t;
    await reserve(image("alice", "j1"));
    now.t += 2 * 60 * 60 * 1000; // past midnight UTC: the refund still belongs to yesterday
    await refund("j1", "image", 1);
    await refund("j1", "image", 10);
    expect((await quota.report("alice", "g1")).day).toBe(utcDay(now.t));
    now.t = reservedAt;
    expect((await quota.report("alice", "g1")).user.images).toEqual({ used: 0, limit: 8, remaining: 8 });
  });

  it("starts afresh each UTC day, applies guild overrides, and gives DMs the defaults and no guild line", async () => {
    const { quota, settings, now, reserve } = await setup();
    await reserve(image("alice", "j1"));
    await reserve(image("alice", "j2"));
    now.t += 60 * 60 * 1000 + 1;
    expect(await reserve(image("alice", "j3"))).toEqual({ ok: true });
    await settings.save({ ...(await settings.get("g1")), dailyImagesPerUser: 2 }, "mod", now.t);
    expect(await reserve(image("bob", "j4", 3))).toMatchObject({ ok: false, scope: "user", limit: 2 });
    expect((await quota.allowances(null)).imagesPerUser).toBe(8);
    expect((await quota.report("alice", null)).guild).toBeUndefined();
  });

  it("reports use and an approximate cost from the price table", async () => {
    const { quota, reserve } = await setup();
    await reserve(image("alice", "j1", 3));
    await reserve({
      guildId: "g1",
      userId: "alice",
      kind: "video",
      units: 1,
      jobId: "v1",
      model: "minimax/video-01",
    });
    const report = await quota.report("alice", "g1");
    expect(report.user.images).toEqual({ used: 3, limit: 8, remaining: 5 });
    expect(report.user.videos).toEqual({ used: 1, limit: 1, remaining: 0 });
    expect(report.user.estimatedUsd).toBeCloseTo(3 * 0.04 + 0.5);
    expect(report.guild?.images).toEqual({ used: 3, limit: 10, remaining: 7 });
  });
});

describe("the bot-wide cap per member", () => {
  it("counts a member's images in every server and DM together, and a refund gives them back", async () => {
    const { quota, reserve, refund } = await setup(undefined, { images: 10, videos: 1 });
    expect(await reserve(image("alice", "j1", 4, "g1"))).toEqual({ ok: true });
    expect(await reserve(image("alice", "j2", 4, "g2"))).toEqual({ ok: true });
    // Each server's allowance (8) still has room; the cap across them does not.
    expect(await reserve(image("alice", "j3", 4, null))).toEqual({
      ok: false,
      scope: "everywhere",
      kind: "image",
      used: 8,
      limit: 10,
      resetsAt: Date.UTC(2026, 10, 25),
    });
    expect(await reserve(image("alice", "j3", 4, "g3"))).toMatchObject({ ok: false, scope: "everywhere" });
    // Another member is not affected.
    expect(await reserve(image("bob", "j4", 4, "g3"))).toEqual({ ok: true });
    await refund("j1", "image", 2);
    expect(await reserve(image("alice", "j5", 4, null))).toEqual({ ok: true });
    expect(await quota.report("alice", "g2")).toMatchObject({
      user: { images: { used: 4, limit: 8, remaining: 4 } },
      everywhere: { images: { used: 10, limit: 10, remaining: 0 }, videos: { used: 0, limit: 1 } },
    });
    expect((await quota.report("alice", null)).everywhere.images.used).toBe(10);
  });

  it("caps videos on their own count", async () => {
    const { reserve } = await setup(undefined, { images: 100, videos: 1 });
    const video = (jobId: string, guildId: string) => ({
      guildId,
      userId: "alice",
      kind: "video" as const,
      units: 1,
      jobId,
      model: "minimax/video-01",
    });
    expect(await reserve(video("v1", "g1"))).toEqual({ ok: true });
    expect(await reserve(video("v2", "g2"))).toMatchObject({
      ok: false,
      scope: "everywhere",
      kind: "video",
      used: 1,
      limit: 1,
    });
    expect(await reserve(image("alice", "j1", 4, "g2"))).toEqual({ ok: true });
  });

  it("is part of the caller's transaction: a request that is rolled back holds nothing", async () => {
    const { quota, data, reserve } = await setup(undefined, { images: 4, videos: 1 });
    const request = image("alice", "j1", 4, "g1");
    await expect(
      data.transaction(
        async (tx) => {
          expect(await quota.reserve(request, tx)).toEqual({ ok: true });
          throw new Error("the generation could not be recorded");
        },
        { locks: admissionLocks(request.userId, request.guildId) },
      ),
    ).rejects.toThrow("could not be recorded");
    expect(await reserve(image("alice", "j2", 4, "g2"))).toEqual({ ok: true });
  });
});
