// `npm run migrate`: brings the database up to the latest schema and says what it did. `npm start` does the
// same on its own; this is for applying a new release's migrations before starting it.

import { configOrExit, EXIT_CONFIG, readEnvironment } from "./app/startup.ts";
import {
  currentVersion,
  databaseSettings,
  openAndMigrate,
  readMigrations,
  redactUrl,
} from "./db/database.ts";
import { StorageUnavailableError } from "./kit/errors.ts";

// Checked as npm start checks it (a bad DATABASE_URL is named the same way), but migrating needs no Discord or
// Replicate settings: the mock provider spares it a token.
const config = configOrExit({ ...readEnvironment(), IMAGE_PROVIDER: "mock" }, { discordToken: false });
const settings = databaseSettings(config);
const where = settings.kind === "postgres" ? redactUrl(settings.url) : settings.file;
try {
  const { db, applied } = await openAndMigrate(settings);
  const version = await currentVersion(db);
  await db.destroy();
  const latest = readMigrations().at(-1)?.version ?? 0;
  console.log(
    applied.length === 0
      ? `${where} is at schema version ${version} of ${latest}: nothing to apply.`
      : `${where} is now at schema version ${version} of ${latest}; applied ${applied.map((m) => `${String(m.version).padStart(4, "0")}_${m.name}`).join(", ")}.`,
  );
} catch (err) {
  if (!(err instanceof StorageUnavailableError)) throw err;
  console.error(`Cannot migrate: ${err.variable} ${err.message}`);
  process.exit(EXIT_CONFIG);
}
