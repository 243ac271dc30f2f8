// `TO_DATABASE_URL=postgres://… npm run storage:copy -- [--to-storage s3://bucket/prefix]`: copies an install's
// rows and stored files (from what DATA_DIR, DATABASE_URL and STORAGE_URL name now; by default SQLite and files
// under DATA_DIR) to PostgreSQL and S3-compatible storage. Either target may be given alone. The target
// database comes from the environment: a command line is visible to every user of the host, so
// `--to-database` takes only a URL without a password.
//
// Safe to run again: rows are inserted by primary key and skipped when there, objects are copied only when the
// target lacks them or holds other bytes. A target that belongs to another install is refused before anything
// is written. Every run then compares each table row by row on both sides (in key order, a page at a time) and
// checks every stored file on the target against the sha256 its row recorded. Stop the bot first: rows written
// during a copy may be missed (a second run picks them up).
import { parseArgs } from "node:util";
import { EXIT_CONFIG, readEnvironment } from "./app/startup.ts";
import { type CopyTargets, copyInstall, copySettingsOrExit } from "./app/storage-copy.ts";
import { CopyRefusedError, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./db/copy-rows.ts";
import { StorageUnavailableError } from "./kit/errors.ts";

function usage(problem?: string): never {
  if (problem) console.error(`storage:copy: ${problem}`);
  console.error(
    "usage: npm run storage:copy -- [--to-storage s3://bucket/prefix] [--to-database postgres://user@host:5432/db] [--page-size N]\n" +
      "The target database comes from TO_DATABASE_URL=postgres://user:password@host:5432/db in the environment;\n" +
      "--to-database takes only a URL without a password (a command line is visible to other users of the host).\n" +
      "The source is the install DATA_DIR, DATABASE_URL and STORAGE_URL name now. S3_ENDPOINT, S3_REGION,\n" +
      `S3_FORCE_PATH_STYLE and the AWS_* credentials apply to the target bucket. --page-size: rows read and compared at a time (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}).`,
  );
  process.exit(EXIT_CONFIG);
}

/** Query parameters that carry a secret (`password`, `sslpassword`, …); `sslkey` and `sslcert` are only paths. */
const SECRET_PARAM = /pass|secret|token/i;

/** Whether a URL carries a password, in its user part or as a query parameter `pg` would read. */
function holdsPassword(url: string): boolean {
  try {
    const u = new URL(url);
    return u.password !== "" || [...u.searchParams.keys()].some((name) => SECRET_PARAM.test(name));
  } catch {
    return false; // not a URL: the settings' own check says what is wrong with it
  }
}

/** The target database: TO_DATABASE_URL, or --to-database without a password; refused otherwise. */
function targetDatabase(
  env: Record<string, string | undefined>,
  flag: string | undefined,
): Pick<CopyTargets, "toDatabase" | "databaseFrom"> {
  const variable = env.TO_DATABASE_URL?.trim() || undefined;
  if (flag !== undefined && variable !== undefined) {
    usage("give the target database once: TO_DATABASE_URL or --to-database, not both");
  }
  if (flag !== undefined && holdsPassword(flag)) {
    usage(
      "--to-database must not carry a password: other users of this host can read a command line. Set TO_DATABASE_URL=postgres://user:password@host:5432/db in the environment instead",
    );
  }
  return variable !== undefined
    ? { toDatabase: variable, databaseFrom: "TO_DATABASE_URL" }
    : { toDatabase: flag, databaseFrom: "--to-database" };
}

function pageSizeOrUsage(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    usage(`--page-size must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return n;
}

/** The targets (a database, a bucket or both) and the page size, or the usage and exit code 2. */
function targetsOrUsage(env: Record<string, string | undefined>): CopyTargets {
  let args: { "to-database"?: string[]; "to-storage"?: string; "page-size"?: string };
  try {
    args = parseArgs({
      options: {
        // Every value is checked: a password in any of several would still sit in the command line.
        "to-database": { type: "string", multiple: true },
        "to-storage": { type: "string" },
        "page-size": { type: "string" },
      },
      strict: true,
    }).values;
  } catch (err) {
    usage((err as Error).message);
  }
  const flags = args["to-database"] ?? [];
  if (flags.length > 1) usage("give --to-database once");
  const database = targetDatabase(env, flags[0]);
  if (!database.toDatabase && !args["to-storage"]) usage();
  return { ...database, toStorage: args["to-storage"], pageSize: pageSizeOrUsage(args["page-size"]) };
}

async function main(): Promise<void> {
  const env = readEnvironment();
  const targets = targetsOrUsage(env);
  const { source, target } = copySettingsOrExit(env, targets);
  if (!(await copyInstall(source, target, targets))) {
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
