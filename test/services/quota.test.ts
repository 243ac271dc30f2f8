import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/domain/clock.ts";
import { IMAGE_MODEL_PRICES_USD } from "../../src/services/providers/image-models.ts";
import { VIDEO_MODEL_PRICES_USD } from "../../src/services/providers/video-models.ts";
import { QuotaService, type UserCap, utcDay } from "../../src/services/quota.ts";
import { openDatabase } from "../../src/storage/database.ts";
import { GuildSettingsRepo } from "../../src/storage/guild-settings-repo.ts";
import { UsageRepo } from "../../src/storage/usage-repo.ts";
import { makeTempDir, type TempDir } from "../support/env.ts";

let dir: TempDir | undefined;
afterEach(() => {
  dir?.remove();
  dir = undefined;
});

function setup(
  now = { t: Date.UTC(2026, 10, 24, 23, 0) },
  userCap: UserCap = { images: 1000, videos: 1000 },
) {
  dir = makeTempDir();
  const db = openDatabase(`${dir.path}/bot.sqlite`);
  const settings = new GuildSettingsRepo(db);
  const quota = new QuotaService({
    db,
    usage: new UsageRepo(db),
    settings,
    defaults: { imagesPerUser: 8, imagesPerGuild: 10, videosPerUser: 1, videosPerGuild: 2 },
    userCap,
    prices: { ...IMAGE_MODEL_PRICES_USD, ...VIDEO_MODEL_PRICES_USD },
    clock: { ...systemClock, now: () => now.t },
  });
  return { db, quota, settings, now };
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
  it("reserves until the user's allowance is used, then refuses with what is used and when it resets", () => {
    const { quota } = setup();
    expect(quota.reserve(image("alice", "j1"))).toEqual({ ok: true });
    expect(quota.reserve(image("alice", "j2"))).toEqual({ ok: true });
    const refused = quota.reserve(image("alice", "j3", 1));
    expect(refused).toEqual({
      ok: false,
      scope: "user",
      kind: "image",
      used: 8,
      limit: 8,
      resetsAt: Date.UTC(2026, 10, 25),
    });
  });

  it("refuses when the guild's allowance is used up, even for a member with allowance left", () => {
    const { quota } = setup();
    quota.reserve(image("alice", "j1"));
    quota.reserve(image("alice", "j2"));
    expect(quota.reserve(image("bob", "j3", 4))).toMatchObject({
      ok: false,
      scope: "guild",
      used: 8,
      limit: 10,
    });
    expect(quota.reserve(image("bob", "j4", 2))).toEqual({ ok: true });
  });

  it("refunds failed slots, never more than a job holds, on the day it reserved", () => {
    const { quota, now } = setup();
    const reservedAt = now.t;
    quota.reserve(image("alice", "j1"));
    now.t += 2 * 60 * 60 * 1000; // past midnight UTC: the refund still belongs to yesterday
    quota.refund("j1", "image", 1);
    quota.refund("j1", "image", 10);
    expect(quota.report("alice", "g1").day).toBe(utcDay(now.t));
    now.t = reservedAt;
    expect(quota.report("alice", "g1").user.images).toEqual({ used: 0, limit: 8, remaining: 8 });
  });

  it("starts afresh each UTC day, applies guild overrides, and gives DMs the defaults and no guild line", () => {
    const { quota, settings, now } = setup();
    quota.reserve(image("alice", "j1"));
    quota.reserve(image("alice", "j2"));
    now.t += 60 * 60 * 1000 + 1;
    expect(quota.reserve(image("alice", "j3"))).toEqual({ ok: true });
    settings.save({ ...settings.get("g1"), dailyImagesPerUser: 2 }, "mod", now.t);
    expect(quota.reserve(image("bob", "j4", 3))).toMatchObject({ ok: false, scope: "user", limit: 2 });
    expect(quota.allowances(null).imagesPerUser).toBe(8);
    expect(quota.report("alice", null).guild).toBeUndefined();
  });

  it("reports use and an approximate cost from the price table", () => {
    const { quota } = setup();
    quota.reserve(image("alice", "j1", 3));
    quota.reserve({
      guildId: "g1",
      userId: "alice",
      kind: "video",
      units: 1,
      jobId: "v1",
      model: "minimax/video-01",
    });
    const report = quota.report("alice", "g1");
    expect(report.user.images).toEqual({ used: 3, limit: 8, remaining: 5 });
    expect(report.user.videos).toEqual({ used: 1, limit: 1, remaining: 0 });
    expect(report.user.estimatedUsd).toBeCloseTo(3 * 0.04 + 0.5);
    expect(report.guild?.images).toEqual({ used: 3, limit: 10, remaining: 7 });
  });
});

describe("the bot-wide cap per member", () => {
  it("counts a member's images in every server and DM together, and a refund gives them back", () => {
    const { quota } = setup(undefined, { images: 10, videos: 1 });
    expect(quota.reserve(image("alice", "j1", 4, "g1"))).toEqual({ ok: true });
    expect(quota.reserve(image("alice", "j2", 4, "g2"))).toEqual({ ok: true });
    // Each server's allowance (8) still has room; the cap across them does not.
    expect(quota.reserve(image("alice", "j3", 4, null))).toEqual({
      ok: false,
      scope: "everywhere",
      kind: "image",
      used: 8,
      limit: 10,
      resetsAt: Date.UTC(2026, 10, 25),
    });
    expect(quota.reserve(image("alice", "j3", 4, "g3"))).toMatchObject({ ok: false, scope: "everywhere" });
    // Another member is not affected.
    expect(quota.reserve(image("bob", "j4", 4, "g3"))).toEqual({ ok: true });
    quota.refund("j1", "image", 2);
    expect(quota.reserve(image("alice", "j5", 4, null))).toEqual({ ok: true });
    expect(quota.report("alice", "g2")).toMatchObject({
      user: { images: { used: 4, limit: 8, remaining: 4 } },
      everywhere: { images: { used: 10, limit: 10, remaining: 0 }, videos: { used: 0, limit: 1 } },
    });
    expect(quota.report("alice", null).everywhere.images.used).toBe(10);
  });

  it("caps videos on their own count", () => {
    const { quota } = setup(undefined, { images: 100, videos: 1 });
    const video = (jobId: string, guildId: string) => ({
      guildId,
      userId: "alice",
      kind: "video" as const,
      units: 1,
      jobId,
      model: "minimax/video-01",
    });
    expect(quota.reserve(video("v1", "g1"))).toEqual({ ok: true });
    expect(quota.reserve(video("v2", "g2"))).toMatchObject({
      ok: false,
      scope: "everywhere",
      kind: "video",
      used: 1,
      limit: 1,
    });
    expect(quota.reserve(image("alice", "j1", 4, "g2"))).toEqual({ ok: true });
  });

  it("is part of the caller's transaction: a request that is rolled back holds nothing", () => {
    const { quota, db } = setup(undefined, { images: 4, videos: 1 });
    expect(() =>
      db.transaction(() => {
        expect(quota.reserve(image("alice", "j1", 4, "g1"))).toEqual({ ok: true });
        throw new Error("the generation could not be recorded");
      })(),
    ).toThrow("could not be recorded");
    expect(quota.reserve(image("alice", "j2", 4, "g2"))).toEqual({ ok: true });
  });
});
