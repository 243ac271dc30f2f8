// A bot.sqlite written by an earlier release (schema 0003: test/fixtures/README.md says how it was made) opens
// with today's code: the migrator adopts its PRAGMA user_version into schema_migrations, the later migrations
// apply, and every row it held is still there, value for value. About SQLite files only: it runs once.
import { copyFileSync } from "node:fs";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import { openDataStore } from "../../src/db/data-store.ts";
import { currentVersion, databaseSettings, readMigrations } from "../../src/db/database.ts";
import type { AppContext } from "../../src/features/context.ts";
import { captureLogger, makeTempDir, type TempDir, testConfig } from "../support/env.ts";
import { runScript } from "../support/spawn.ts";

const FIXTURE = new URL("../fixtures/bot-0003.sqlite", import.meta.url);
const TABLES = [
  "generations",
  "images",
  "selections",
  "videos",
  "usage_ledger",
  "guild_settings",
  "audit_log",
] as const;

let dir: TempDir | undefined;
let app: AppContext | undefined;
afterEach(async () => {
  await app?.close();
  dir?.remove();
  app = dir = undefined;
});

/** Every row of every table, keyed by table, as the given database holds it. */
function snapshot(db: Database.Database): Record<string, unknown[]> {
  return Object.fromEntries(
    TABLES.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all() as unknown[]]),
  );
}

describe("a database from schema 0003", () => {
  it("migrates forward to today's schema with every row and value kept", async () => {
    dir = makeTempDir();
    const file = `${dir.path}/bot.sqlite`;
    copyFileSync(FIXTURE, file);
    const old = new Database(file, { readonly: true });
    expect(old.pragma("user_version", { simple: true })).toBe(3);
    const before = snapshot(old);
    old.close();
    expect(Object.values(before).every((rows) => rows.length > 0)).toBe(true);

    const migrations = readMigrations();
    const store = await openDataStore(databaseSettings({ dataDir: dir.path }));
    expect(store.engine).toBe("sqlite");
    expect(await currentVersion(store.db)).toBe(migrations.at(-1)?.version);
    // Versions 1-3 adopted from the file's PRAGMA user_version, the later ones applied, each recorded once.
    expect(
      await store.db.selectFrom("schemaMigrations").select(["version", "name"]).orderBy("version").execute(),
    ).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })));
    await store.close();

    const db = new Database(file, { readonly: true });
    // The migrator only reads user_version: the old version stays there, the current one is in schema_migrations.
    expect(db.pragma("user_version", { simple: true })).toBe(3);
    const after = snapshot(db);
    db.close();
    for (const table of TABLES) {
      // New columns may be added, with their defaults; every old column keeps its value in every row.
      expect(after[table], table).toHaveLength(before[table]?.length ?? -1);
      after[table]?.forEach((row, i) => {
        expect(row, `${table} row ${i + 1}`).toMatchObject(before[table]?.[i] as object);
      });
    }
  });

  it("serves the old rows through today's services: references, picks, usage, settings and the audit log", async () => {
    dir = makeTempDir();
    copyFileSync(FIXTURE, `${dir.path}/bot.sqlite`);
    app = await createAppContext(testConfig(dir.path, { IMAGE_PROVIDER: "mock" }), captureLogger().logger);
    expect(app.data.engine).toBe("sqlite");
    const guild = "100000000000000001";
    const alice = "500000000000000001";
    const pick = await app.references.currentSelection(alice, guild);
    expect(pick?.image.prompt).toBe("silver robot [mock:safety_blocked:2]");
    expect((await app.references.listImages(alice, guild, 1, 10)).total).toBe(4); // 3 of 4, and the quiet bard's 1
    expect((await app.references.listImages("500000000000000002", guild, 1, 10)).total).toBe(1); // one was deleted
    expect(await app.video.forImage(pick?.image.id ?? "")).toHaveLength(1);
    expect(await app.guildSettings.get(guild)).toMatchObject({
      dailyImagesPerUser: 30,
      blocklist: ["gore", "nud*"],
      safetyFilterLevel: "block_only_high",
    });
    expect((await app.moderation.recentActions(guild, 5)).map((a) => a.action)).toEqual(["prompt_blocked"]);
    expect(await app.generation.undelivered()).toEqual([]);
  });

  it("npm run migrate applies the later migrations, says which, and then that nothing is left", async () => {
    dir = makeTempDir();
    copyFileSync(FIXTURE, `${dir.path}/bot.sqlite`);
    const migrations = readMigrations();
    const latest = migrations.at(-1)?.version;
    const first = await runScript("src/migrate.ts", { DATA_DIR: dir.path });
    expect(first.status).toBe(0);
    expect(first.output).toContain(
      `is now at schema version ${latest} of ${latest}; applied 0004_durable_deletions`,
    );
    // Exactly those after the file's version 3: 0001-0003 are adopted, not applied again.
    const later = migrations.slice(3).map((m) => `${String(m.version).padStart(4, "0")}_${m.name}`);
    expect(first.output).toContain(`applied ${later.join(", ")}.`);
    const again = await runScript("src/migrate.ts", { DATA_DIR: dir.path });
    expect(again.status).toBe(0);
    expect(again.output).toContain(`is at schema version ${latest} of ${latest}: nothing to apply.`);
  });
});
