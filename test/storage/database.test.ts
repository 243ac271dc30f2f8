import { afterEach, describe, expect, it } from "vitest";
import { migrate, openDatabase, readMigrations } from "../../src/storage/database.ts";
import { makeTempDir, type TempDir } from "../support/env.ts";

let dir: TempDir;
afterEach(() => dir?.remove());

describe("database", () => {
  it("opens with WAL, foreign keys and a busy timeout, at the latest schema version", () => {
    dir = makeTempDir();
    const db = openDatabase(`${dir.path}/bot.sqlite`);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
    expect(db.pragma("user_version", { simple: true })).toBe(readMigrations().length);
    db.close();
  });

  it("is safe to migrate twice, and to reopen an existing database", () => {
    dir = makeTempDir();
    const file = `${dir.path}/bot.sqlite`;
    const db = openDatabase(file);
    db.prepare(
      "INSERT INTO generations (id, user_id, prompt, model, requested, status, created_at) VALUES ('g', 'u', 'p', 'm', 1, 'running', 1)",
    ).run();
    expect(migrate(db)).toEqual([]);
    db.close();
    const again = openDatabase(file);
    expect(again.prepare("SELECT count(*) AS n FROM generations").get()).toEqual({ n: 1 });
    again.close();
  });

  it("rolls a failing migration back whole and leaves the version where it was", () => {
    dir = makeTempDir();
    const db = openDatabase(`${dir.path}/bot.sqlite`);
    const version = db.pragma("user_version", { simple: true }) as number;
    const broken = [
      ...readMigrations(),
      { version: version + 1, name: "broken", sql: "CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);" },
    ];
    expect(() => migrate(db, broken)).toThrow(/nowhere/);
    expect(db.pragma("user_version", { simple: true })).toBe(version);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    db.close();
  });

  it("enforces foreign keys", () => {
    dir = makeTempDir();
    const db = openDatabase(`${dir.path}/bot.sqlite`);
    expect(() =>
      db
        .prepare(
          "INSERT INTO images (id, generation_id, slot, status, created_at) VALUES ('i', 'nope', 1, 'pending', 1)",
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });
});
