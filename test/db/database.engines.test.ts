// The database layer on the engine this project runs (SQLite, or PostgreSQL in the "engines" tier): its
// migrations apply once, in one transaction, and a failing one leaves nothing of itself or of those before it.
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Kysely, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { openDataStore } from "../../src/db/data-store.ts";
import {
  currentVersion,
  type DatabaseSettings,
  databaseSettings,
  type Engine,
  migrate,
  openAndMigrate,
  openKysely,
  readMigrations,
} from "../../src/db/database.ts";
import type { Tables } from "../../src/db/schema.ts";
import { makeTempDir, sharedEngines, type TempDir, testConfig } from "../support/env.ts";

const MIGRATIONS_DIR = join(import.meta.dirname, "..", "..", "src", "db", "migrations");

let dir: TempDir | undefined;
const open: Array<{ destroy(): Promise<void> }> = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.destroy();
  dir?.remove();
  dir = undefined;
});

/** A new directory and where its rows live: DATA_DIR/bot.sqlite, or its own empty PostgreSQL schema. */
function freshSettings(): DatabaseSettings {
  dir = makeTempDir();
  return databaseSettings(testConfig(dir.path));
}

/** Opens the database without migrating it. */
function connect(settings: DatabaseSettings): { db: Kysely<Tables>; engine: Engine } {
  const opened = openKysely(settings);
  open.push(opened.db);
  return opened;
}

/** The tables the database holds (on PostgreSQL, in the schema it was given). */
async function tableNames(db: Kysely<Tables>, engine: Engine): Promise<string[]> {
  const { rows } =
    engine === "sqlite"
      ? await sql<{ name: string }>`SELECT name FROM sqlite_master
          WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`.execute(db)
      : await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = current_schema() ORDER BY table_name`.execute(db);
  return rows.map((r) => r.name);
}

const insertGeneration = (db: Kysely<Tables>) =>
  sql`INSERT INTO generations (id, user_id, prompt, model, requested, status, created_at)
    VALUES ('g', 'u', 'p', 'm', 1, 'running', 1)`.execute(db);

const countGenerations = async (db: Kysely<Tables>) =>
  Number(
    (
      await db
        .selectFrom("generations")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Today's migrations copied to a temp directory, with one more after them that fails half-way through. */
function migrationsWithBrokenOne(): ReturnType<typeof readMigrations> {
  const copies = makeTempDir("crbot-migrations-");
  try {
    cpSync(MIGRATIONS_DIR, copies.path, { recursive: true });
    const next = String((readMigrations().at(-1)?.version ?? 0) + 1).padStart(4, "0");
    writeFileSync(
      join(copies.path, `${next}_broken.sql`),
      "CREATE TABLE half (x INTEGER);\nINSERT INTO half (x) VALUES (1);\nINSERT INTO nowhere VALUES (1);\n",
    );
    return readMigrations(copies.path);
  } finally {
    copies.remove();
  }
}

// SQLite's own pragmas: the engines tier does not register this group at all (nothing to skip).
if (!sharedEngines()) {
  describe("the SQLite file", () => {
    it("opens with WAL, foreign keys and a busy timeout, at the latest schema version", async () => {
      const settings = freshSettings();
      const store = await openDataStore(settings);
      open.push(store.db);
      const pragma = async (name: string) =>
        Object.values(
          (await sql.raw<Record<string, unknown>>(`PRAGMA ${name}`).execute(store.db)).rows[0] ?? {},
        )[0];
      expect(store.engine).toBe("sqlite");
      expect(await pragma("journal_mode")).toBe("wal");
      expect(await pragma("foreign_keys")).toBe(1);
      expect(await pragma("busy_timeout")).toBe(5000);
      // The version lives in schema_migrations now, on both engines; PRAGMA user_version is only read from older
      // files (migrate-forward.test.ts), never written.
      expect(await currentVersion(store.db)).toBe(readMigrations().at(-1)?.version);
      expect(await pragma("user_version")).toBe(0);
    });
  });
}

describe(`migrations on ${sharedEngines() ? "PostgreSQL" : "SQLite"}`, () => {
  it("apply once, each recorded in schema_migrations; a second open applies nothing and keeps the rows", async () => {
    const settings = freshSettings();
    const migrations = readMigrations();
    const first = await openAndMigrate(settings);
    open.push(first.db);
    expect(first.applied.map((m) => m.version)).toEqual(migrations.map((m) => m.version));
    const recorded = await first.db
      .selectFrom("schemaMigrations")
      .select(["version", "name"])
      .orderBy("version")
      .execute();
    expect(recorded).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })));
    await insertGeneration(first.db);
    // Migrating the same database again, in the same process: nothing left to apply.
    expect(await migrate(first.db, first.engine)).toEqual([]);
    // The database's random id and its pseudonym key are made once.
    expect(
      (await first.db.selectFrom("meta").select("key").orderBy("key").execute()).map((r) => r.key),
    ).toEqual(["install_id", "pseudonym_key"]);
    await first.db.destroy();
    open.pop();

    const again = await openAndMigrate(settings);
    open.push(again.db);
    expect(again.applied).toEqual([]);
    expect(await currentVersion(again.db)).toBe(migrations.at(-1)?.version);
    expect(await countGenerations(again.db)).toBe(1);
    expect(await again.db.selectFrom("schemaMigrations").select("version").execute()).toHaveLength(
      migrations.length,
    );
  });

  it("apply a migration numbered below one already applied (two branches' migrations landing in either order)", async () => {
    const settings = freshSettings();
    const all = readMigrations();
    // A database that got every migration but one in the middle, as when a later-numbered file merged first.
    const skipped = all[all.length - 2] as (typeof all)[number];
    const { db, engine } = connect(settings);
    open.push(db);
    const applied = await migrate(
      db,
      engine,
      all.filter((m) => m !== skipped),
    );
    expect(applied.map((m) => m.version)).not.toContain(skipped.version);

    expect((await migrate(db, engine, all)).map((m) => m.version)).toEqual([skipped.version]);
    expect(
      (await db.selectFrom("schemaMigrations").select("version").orderBy("version").execute()).map((r) =>
        Number(r.version),
      ),
    ).toEqual(all.map((m) => m.version));
    expect(await migrate(db, engine, all)).toEqual([]);
  });

  it("roll a failing migration back whole on an up-to-date database: the version stays, nothing of it remains", async () => {
    const settings = freshSettings();
    const store = await openDataStore(settings);
    open.push(store.db);
    const version = await currentVersion(store.db);
    const tablesBefore = await tableNames(store.db, store.engine);
    await insertGeneration(store.db);
    const broken = migrationsWithBrokenOne();
    expect(broken.at(-1)).toMatchObject({ version: version + 1, name: "broken" });

    await expect(migrate(store.db, store.engine, broken)).rejects.toThrow(/nowhere/);
    expect(await currentVersion(store.db)).toBe(version);
    expect(await tableNames(store.db, store.engine)).toEqual(tablesBefore);
    expect(await tableNames(store.db, store.engine)).not.toContain("half");
    expect(await countGenerations(store.db)).toBe(1);
  });

  it("roll every pending migration back with a failing one on an empty database: no table is left at all", async () => {
    const settings = freshSettings();
    const { db, engine } = connect(settings);
    expect(await tableNames(db, engine)).toEqual([]);

    await expect(migrate(db, engine, migrationsWithBrokenOne())).rejects.toThrow(/nowhere/);
    // Not the first migrations' tables, not schema_migrations, not the broken one's.
    expect(await tableNames(db, engine)).toEqual([]);

    // The database is still usable: today's migrations then apply from the start.
    expect((await migrate(db, engine)).map((m) => m.version)).toEqual(readMigrations().map((m) => m.version));
  });

  it("enforces foreign keys", async () => {
    const store = await openDataStore(freshSettings());
    open.push(store.db);
    await expect(
      sql`INSERT INTO images (id, generation_id, slot, status, created_at)
        VALUES ('i', 'nope', 1, 'pending', 1)`.execute(store.db),
    ).rejects.toThrow(/foreign key/i);
  });

  it("records a generation with its slots and returns them as a read then finds them", async () => {
    const store = await openDataStore(freshSettings());
    open.push(store.db);
    const recorded = await store.transaction((tx) =>
      tx.generations.insertWithSlots(
        {
          id: "g1",
          guildId: "guild",
          channelId: "channel",
          userId: "user",
          interactionId: "interaction",
          interactionToken: "token",
          applicationId: "app",
          prompt: "a knight in \u2018blue\u2019 armour",
          params: { aspectRatio: "1:1", safetyFilterLevel: "block_only_high" },
          model: "google/imagen-4",
          requested: 3,
          createdAt: 1_764_000_000_123,
          parentImageId: null,
        },
        ["s1", "s2", "s3"],
      ),
    );
    const { generations, images } = store.repos;
    expect(recorded.generation).toStrictEqual(await generations.get("g1"));
    expect(recorded.images).toStrictEqual(await images.forGeneration("g1"));
    expect(recorded.images.map((i) => i.slot)).toEqual([1, 2, 3]);
    expect(recorded.states).toStrictEqual(await images.jobStates("g1"));
  });

  it("reads an admission's settings, running jobs and sums in one statement, as the separate reads find them", async () => {
    const store = await openDataStore(freshSettings());
    open.push(store.db);
    const r = store.repos;
    const generation = (id: string, userId: string) => ({
      id,
      guildId: "g1",
      channelId: "c",
      userId,
      interactionId: null,
      interactionToken: null,
      applicationId: null,
      prompt: "p",
      params: { aspectRatio: "1:1" },
      model: "m",
      requested: 1,
      createdAt: 1,
    });
    // u has a generation running, one settled and a video open; v has a generation running.
    await r.generations.insertWithSlots(generation("run-u", "u"), ["img-u"]);
    await r.generations.insertWithSlots(generation("done-u", "u"), ["img-done"]);
    await r.generations.finish("done-u", "succeeded", 2);
    await r.generations.insertWithSlots(generation("run-v", "v"), ["img-v"]);
    await r.videos.insert({
      id: "vid-u",
      referenceImageId: "img-done",
      generationId: "done-u",
      guildId: "g1",
      channelId: "c",
      userId: "u",
      prompt: "p",
      model: "m",
      params: "{}",
      interactionId: null,
      interactionToken: null,
      applicationId: null,
      createdAt: 3,
    });
    const settings = {
      guildId: "g1",
      dailyImagesPerUser: 7,
      dailyImagesPerGuild: null,
      dailyVideosPerUser: null,
      dailyVideosPerGuild: 2,
      blocklist: ["dragon", "castle"],
      safetyFilterLevel: "block_only_high",
      modLogChannelId: "log",
      curatorRoleId: null,
    };
    await r.guildSettings.save(settings, "mod", 4);
    const day = "2026-12-01";
    const spent = [
      { userId: "u", guildId: "g1", units: 3 },
      { userId: "u", guildId: "g2", units: 2 },
      { userId: "u", guildId: null, units: 1 },
      { userId: "v", guildId: "g1", units: 5 },
      { userId: "u", guildId: "g1", units: -1 },
    ];
    for (const [i, e] of spent.entries()) {
      await r.usage.add({ day, kind: "image", jobId: `j${i}`, model: "m", createdAt: 5, ...e });
    }
    // Neither another kind nor another day counts.
    await r.usage.add({
      day,
      kind: "video",
      guildId: "g1",
      userId: "u",
      units: 20,
      jobId: "jv",
      model: "m",
      createdAt: 5,
    });
    await r.usage.add({
      day: "2026-11-30",
      kind: "image",
      guildId: "g1",
      userId: "u",
      units: 9,
      jobId: "jo",
      model: "m",
      createdAt: 5,
    });

    const inServer = await store.transaction((tx) => tx.admission.read("u", ["u"], "g1", day, "image"));
    expect(inServer).toStrictEqual({
      settings,
      running: 2,
      used: { byUser: 2, everywhere: 5, byGuild: 7 },
    });
    expect(inServer.settings).toStrictEqual(await r.guildSettings.get("g1"));
    expect(inServer.used).toStrictEqual(await r.usage.usedFor(day, ["u"], "g1", "image"));
    // A server that never changed a setting, and DMs.
    const elsewhere = await store.transaction((tx) => tx.admission.read("v", ["v"], "g3", day, "image"));
    expect(elsewhere).toStrictEqual({
      settings: await r.guildSettings.get("g3"),
      running: 1,
      used: { byUser: 0, everywhere: 5, byGuild: 0 },
    });
    expect(await store.transaction((tx) => tx.admission.read("u", ["u"], null, day, "image"))).toStrictEqual({
      settings: undefined,
      running: 2,
      used: { byUser: 1, everywhere: 5, byGuild: 0 },
    });
    expect(await r.usage.usedFor(day, ["u"], null, "image")).toStrictEqual({
      byUser: 1,
      everywhere: 5,
      byGuild: 0,
    });
  });
});
