// What `npm run storage:copy` does: reads the source's and the target's settings, opens both sides, refuses a
// target that belongs to another install, copies the rows and the files, checks every one, and says what it did.
// src/storage-copy.ts is its entry point.
import { type Config, ConfigError, loadConfig } from "../config/load.ts";
import {
  adoptInstallId,
  CopyRefusedError,
  compareTables,
  copyTables,
  installIdOf,
  liveStoredFiles,
  type Rows,
  readTargetInstall,
  refuseAnotherInstall,
  type TargetInstall,
} from "../db/copy-rows.ts";
import {
  type DatabaseSettings,
  databaseSettings,
  openAndMigrate,
  openKysely,
  redactUrl,
} from "../db/database.ts";
import { PSEUDONYM_KEY_META_KEY } from "../features/limits/pseudonyms.ts";
import { copyFiles } from "../files/copy-files.ts";
import { FileStore } from "../files/file-store.ts";
import { openObjectStore } from "../files/open-object-store.ts";
import { LINK_SECRET_META_KEY } from "../files/signed-links.ts";
import { StorageUnavailableError } from "../kit/errors.ts";
import { EXIT_CONFIG } from "./startup.ts";

/** Where to copy to (TO_DATABASE_URL or --to-database, --to-storage); what is not given stays where the source is. */
export interface CopyTargets {
  toDatabase: string | undefined;
  /** What gave `toDatabase`, to name in messages: the variable, or the flag (a URL without a password). */
  databaseFrom: "TO_DATABASE_URL" | "--to-database";
  toStorage: string | undefined;
  /** Rows read and compared at a time (--page-size). */
  pageSize: number;
}

/**
 * The source's settings (what DATA_DIR, DATABASE_URL and STORAGE_URL name now) and the target's, or every
 * problem in one message, named by the flag that gave the value, and exit code 2.
 */
export function copySettingsOrExit(
  env: Record<string, string | undefined>,
  targets: CopyTargets,
): { source: Config; target: Config } {
  // Only storage settings matter; the mock provider spares the copy a Replicate token.
  const base = { ...env, IMAGE_PROVIDER: "mock" };
  // S3_* describe the bucket; a side on local files must not read them as its own.
  const withStorage = (storageUrl: string | undefined) =>
    storageUrl?.trim()
      ? { ...base, STORAGE_URL: storageUrl }
      : {
          ...base,
          STORAGE_URL: undefined,
          S3_ENDPOINT: undefined,
          S3_REGION: undefined,
          S3_FORCE_PATH_STYLE: undefined,
        };
  try {
    return {
      source: loadConfig(withStorage(env.STORAGE_URL)),
      target: loadConfig({
        ...withStorage(targets.toStorage ?? env.STORAGE_URL),
        DATABASE_URL: targets.toDatabase ?? env.DATABASE_URL,
      }),
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(
      err.message.replaceAll("DATABASE_URL", targets.databaseFrom).replaceAll("STORAGE_URL", "--to-storage"),
    );
    process.exit(EXIT_CONFIG);
  }
}

/** One side of the copy: its database and its object store. */
interface Side extends Rows {
  files: FileStore;
  /** The database as the output names it (a PostgreSQL URL without its password, or the SQLite file). */
  rows: string;
}

/**
 * Copies every row and every live file from `source` to `target` and checks them all, saying what it did.
 * False when a difference was found (the output names it); a refusal throws CopyRefusedError.
 */
export async function copyInstall(source: Config, target: Config, targets: CopyTargets): Promise<boolean> {
  const [from, to] = await openSides(source, target, targets.databaseFrom);
  console.log(`rows:  ${from.rows} → ${to.rows}`);
  console.log(`files: ${from.files.objects.description} → ${to.files.objects.description}`);
  try {
    return await copyBetween(from, to, targets.pageSize);
  } finally {
    await from.db.destroy();
    await to.db.destroy();
    from.files.close();
    to.files.close();
  }
}

/**
 * Both sides opened, the target's database and bucket checked to be this install's (or empty) before anything
 * is written to them, then the target migrated; a target's failure is named by what gave it.
 */
async function openSides(source: Config, target: Config, databaseFrom: string): Promise<[Side, Side]> {
  const from = await openAndMigrate(databaseSettings(source));
  const sourceId = await installIdOf(from.db);
  const sameRows = describeRows(source) === describeRows(target);
  const fromFiles = new FileStore(openObjectStore(source.storage, source.dataDir));
  const toFiles = new FileStore(openObjectStore(target.storage, target.dataDir));
  const closeAll = async () => {
    await from.db.destroy();
    fromFiles.close();
    toFiles.close();
  };
  let prior: TargetInstall | undefined;
  try {
    prior = sameRows ? undefined : await probeTarget(databaseSettings(target), sourceId);
  } catch (err) {
    await closeAll();
    throw asFlag(err, databaseFrom);
  }
  try {
    await toFiles.objects.check();
    await refuseForeignStorage(toFiles, sourceId, prior);
  } catch (err) {
    await closeAll();
    throw asFlag(err, "--to-storage");
  }
  const to = await openAndMigrate(databaseSettings(target)).catch(async (err: unknown) => {
    await closeAll();
    throw asFlag(err, databaseFrom);
  });
  return [
    { db: from.db, engine: from.engine, files: fromFiles, rows: describeRows(source) },
    { db: to.db, engine: to.engine, files: toFiles, rows: describeRows(target) },
  ];
}

/** What the target database holds, read without migrating it; another install's is refused here. */
async function probeTarget(settings: DatabaseSettings, sourceId: string): Promise<TargetInstall> {
  const probe = openKysely(settings);
  try {
    const found = await readTargetInstall(probe);
    refuseAnotherInstall(sourceId, found);
    return found;
  } finally {
    await probe.db.destroy();
  }
}

/**
 * Refuses a target store whose owner mark names another install: not this one, and not the empty install the
 * copy adopts (a database a bot was started on once, with its prefix). Reads only.
 */
async function refuseForeignStorage(
  files: FileStore,
  sourceId: string,
  prior: TargetInstall | undefined,
): Promise<void> {
  const owner = await files.owner();
  if (owner === undefined || owner === sourceId) return;
  if (prior && prior.holdsRowsIn === undefined && owner === prior.installId) return;
  throw new CopyRefusedError(
    `${files.objects.description} belongs to another install (its owner mark names install ${owner}, this install is ${sourceId}): give the copy its own prefix`,
  );
}

const describeRows = (c: Config) => (c.databaseUrl ? redactUrl(c.databaseUrl) : `${c.dataDir}/bot.sqlite`);

/** A target's storage error, named by the flag or variable that gave it. */
function asFlag(err: unknown, flag: string): unknown {
  return err instanceof StorageUnavailableError
    ? new StorageUnavailableError(flag, err.message, { cause: err })
    : err;
}

/** The copy itself, each step skipped when both sides are the same place. True when everything matched. */
async function copyBetween(from: Side, to: Side, pageSize: number): Promise<boolean> {
  // The generated key of signed links (LINK_SECRET unset) comes along, so links made before the move still work.
  const installId = await adoptInstallId(from.db, to, [LINK_SECRET_META_KEY, PSEUDONYM_KEY_META_KEY]);
  if ((await to.files.owner()) !== installId) await to.files.markOwner(installId);
  if (from.rows !== to.rows) {
    for await (const { table, read, written } of copyTables(from, to, pageSize)) {
      console.log(
        `  ${table}: ${read} rows, ${written} written (new or changed), ${read - written} unchanged`,
      );
    }
  }
  let failed = await reportRowDifferences(from, to, pageSize);
  if (from.files.objects.description !== to.files.objects.description) {
    failed = (await copyAndReportFiles(from, to, pageSize)) || failed;
  }
  return !failed;
}

/** Prints each table whose rows differ between the sides; true when one does. */
async function reportRowDifferences(from: Side, to: Side, pageSize: number): Promise<boolean> {
  let failed = false;
  for await (const d of compareTables(from, to, pageSize)) {
    failed = true;
    console.error(
      `  ${d.table}: ${d.count} rows on the source; on the target ${d.missing} missing, ${d.differ} different, ${d.extra} not on the source`,
    );
  }
  if (!failed) console.log("  every row is on the target with the same values, and no other");
  return failed;
}

/** Copies the files live rows name and prints what became of them; true when one could not be copied. */
async function copyAndReportFiles(from: Side, to: Side, pageSize: number): Promise<boolean> {
  const { named, copied, present, problems } = await copyFiles(
    liveStoredFiles(from.db, pageSize),
    from.files,
    to.files,
  );
  console.log(
    `  files: ${named} named by rows, ${copied} copied, ${present} already there, ${named - problems.length} verified by sha256`,
  );
  for (const p of problems) console.error(`  ${p}`);
  return problems.length > 0;
}
