// Opens the SQLite database and brings its schema up to date from the numbered files in migrations/.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

export type Db = Database.Database;

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => /^(\d{4})_([\w-]+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([file, version, name]) => ({
      version: Number(version),
      name: name as string,
      sql: readFileSync(`${dir}/${file}`, "utf8"),
    }))
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.version}_${m.name} is out of sequence`);
  });
  return migrations;
}

/** Applies each migration newer than PRAGMA user_version in its own transaction; returns those applied. */
export function migrate(db: Db, migrations = readMigrations()): Migration[] {
  const current = db.pragma("user_version", { simple: true }) as number;
  const pending = migrations.filter((m) => m.version > current);
  for (const m of pending) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return pending;
}

export function openDatabase(file: string): Db {
  return openAndMigrate(file).db;
}

/** Opens the database and brings it up to date, saying which migrations that took (npm run migrate prints it). */
export function openAndMigrate(file: string): { db: Db; applied: Migration[] } {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  db.pragma("synchronous = NORMAL");
  return { db, applied: migrate(db) };
}

/** The path of the database file under a data directory. */
export const databaseFile = (dataDir: string) => join(dataDir, "bot.sqlite");
