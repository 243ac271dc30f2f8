// `npm run storage:copy -- --to-database <postgres url> --to-storage <s3://bucket/prefix>`: copies an install's
// rows and stored files (from what DATA_DIR, DATABASE_URL and STORAGE_URL name now; by default SQLite and files
// under DATA_DIR) to PostgreSQL and S3-compatible storage. Either target may be given alone.
//
// Safe to run again: rows are inserted by primary key and skipped when there, objects are copied only when the
// target lacks them or holds other bytes. Every run then checks that each table has as many rows on both sides
// and that every stored file's bytes on the target hash to the sha256 its row recorded. Stop the bot first:
// rows written during a copy may be missed (a second run picks them up).
import { parseArgs } from "node:util";
import { EXIT_CONFIG, readEnvironment } from "./app/startup.ts";
import { type CopyTargets, copyInstall, copySettingsOrExit } from "./app/storage-copy.ts";
import { CopyRefusedError } from "./db/copy-rows.ts";
import { StorageUnavailableError } from "./kit/errors.ts";

function usage(): never {
  console.error(
    "usage: npm run storage:copy -- [--to-database postgres://user:password@host:5432/db] [--to-storage s3://bucket/prefix]\n" +
      "The source is the install DATA_DIR, DATABASE_URL and STORAGE_URL name now. S3_ENDPOINT, S3_REGION,\n" +
      "S3_FORCE_PATH_STYLE and the AWS_* credentials apply to the target bucket.",
  );
  process.exit(EXIT_CONFIG);
}

/** --to-database and --to-storage, at least one of them, or the usage and exit code 2. */
function targetsOrUsage(): CopyTargets {
  let args: { "to-database"?: string; "to-storage"?: string };
  try {
    args = parseArgs({
      options: { "to-database": { type: "string" }, "to-storage": { type: "string" } },
      strict: true,
    }).values;
  } catch (err) {
    console.error((err as Error).message);
    usage();
  }
  if (!args["to-database"] && !args["to-storage"]) usage();
  return { toDatabase: args["to-database"], toStorage: args["to-storage"] };
}

async function main(): Promise<void> {
  const targets = targetsOrUsage();
  const { source, target } = copySettingsOrExit(readEnvironment(), targets);
  if (!(await copyInstall(source, target))) {
    console.error(
      "storage:copy found differences (above); the source is unchanged. Fix them and run it again.",
    );
    process.exit(1);
  }
  console.log("storage:copy done: every row and every file is on the target, verified.");
}

try {
  await main();
} catch (err) {
  if (err instanceof StorageUnavailableError) {
    console.error(`storage:copy: ${err.variable} ${err.message}`);
    process.exit(EXIT_CONFIG);
  }
  if (err instanceof CopyRefusedError) {
    console.error(`storage:copy: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
