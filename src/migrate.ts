// `npm run migrate`: brings the database up to the latest schema and says what it did. `npm start` does the
// same on its own; this is for applying a new release's migrations before starting it.
import { DEFAULT_DATA_DIR } from "./services/config.ts";
import { readEnvironment } from "./startup.ts";
import { databaseFile, openAndMigrate, readMigrations } from "./storage/database.ts";

// Only DATA_DIR matters here: migrating needs no Discord or Replicate settings.
const file = databaseFile(readEnvironment().DATA_DIR?.trim() || DEFAULT_DATA_DIR);
const { db, applied } = openAndMigrate(file);
const version = db.pragma("user_version", { simple: true }) as number;
db.close();
const latest = readMigrations().length;
console.log(
  applied.length === 0
    ? `${file} is at schema version ${version} of ${latest}: nothing to apply.`
    : `${file} is now at schema version ${version} of ${latest}; applied ${applied.map((m) => `${String(m.version).padStart(4, "0")}_${m.name}`).join(", ")}.`,
);
