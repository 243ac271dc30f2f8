// `npm run storage:copy -- --to-database <postgres url> --to-storage <s3://bucket/prefix>`: copies an install's
// rows and stored files (from what DATA_DIR, DATABASE_URL and STORAGE_URL name now; by default SQLite and files
// under DATA_DIR) to PostgreSQL and S3-compatible storage. Either target may be given alone.
//
// Safe to run again: rows are inserted by primary key and skipped when there, objects are copied only when the
// target lacks them or holds other bytes. Every run then checks that each table has as many rows on both sides
// and that every stored file's bytes on the target hash to the sha256 its row recorded. Stop the bot first:
// rows written during a copy may be missed (a second run picks them up).
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { EXIT_CONFIG, readEnvironment } from "./app/startup.ts";
import { ConfigError, loadConfig } from "./config/load.ts";
import { databaseSettings, type Engine, openAndMigrate, redactUrl } from "./db/database.ts";
import type { Tables } from "./db/schema.ts";
import { FileStore } from "./files/file-store.ts";
import { ObjectNotFoundError } from "./files/object-store.ts";
import { openObjectStore } from "./files/open-object-store.ts";
import { LINK_SECRET_META_KEY } from "./files/signed-links.ts";
import { StorageUnavailableError } from "./kit/errors.ts";

/** Tables in an order that satisfies their foreign keys, each with its primary key. */
const TABLES: ReadonlyArray<{ table: keyof Tables; key: string[]; serial?: string }> = [
  { table: "generations", key: ["id"] },
  { table: "images", key: ["id"] },
  { table: "selections", key: ["id"], serial: "selections" },
  { table: "videos", key: ["id"] },
  { table: "guildSettings", key: ["guildId"] },
  { table: "libraryEntries", key: ["id"] },
  { table: "usageLedger", key: ["id"], serial: "usage_ledger" },
  { table: "auditLog", key: ["id"], serial: "audit_log" },
  { table: "pendingDeletions", key: ["fileName"] },
  { table: "pendingMessageEdits", key: ["kind", "jobId"] },
];
const BATCH = 500;

class CopyError extends Error {}

function usage(): never {
  console.error(
    "usage: npm run storage:copy -- [--to-database postgres://user:password@host:5432/db] [--to-storage s3://bucket/prefix]\n" +
      "The source is the install DATA_DIR, DATABASE_URL and STORAGE_URL name now. S3_ENDPOINT, S3_REGION,\n" +
      "S3_FORCE_PATH_STYLE and the AWS_* credentials apply to the target bucket.",
  );
  process.exit(EXIT_CONFIG);
}

async function main(): Promise<void> {
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
  const env = readEnvironment();
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
  let source: ReturnType<typeof loadConfig>;
  let target: ReturnType<typeof loadConfig>;
  try {
    source = loadConfig(withStorage(env.STORAGE_URL));
    target = loadConfig({
      ...withStorage(args["to-storage"] ?? env.STORAGE_URL),
      DATABASE_URL: args["to-database"] ?? env.DATABASE_URL,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(
      err.message.replaceAll("DATABASE_URL", "--to-database").replaceAll("STORAGE_URL", "--to-storage"),
    );
    process.exit(EXIT_CONFIG);
  }
  const from = await openAndMigrate(databaseSettings(source));
  const to = await openAndMigrate(databaseSettings(target)).catch(async (err: unknown) => {
    await from.db.destroy();
    throw asFlag(err, "--to-database");
  });
  const fromFiles = new FileStore(openObjectStore(source.storage, source.dataDir));
  const toFiles = new FileStore(openObjectStore(target.storage, target.dataDir));
  try {
    await toFiles.objects.check();
  } catch (err) {
    await Promise.all([from.db.destroy(), to.db.destroy()]);
    throw asFlag(err, "--to-storage");
  }
  const describe = (c: typeof source) =>
    c.databaseUrl ? redactUrl(c.databaseUrl) : `${c.dataDir}/bot.sqlite`;
  console.log(`rows:  ${describe(source)} → ${describe(target)}`);
  console.log(`files: ${fromFiles.objects.description} → ${toFiles.objects.description}`);
  let failed = false;
  try {
    const installId = await adoptInstallId(from.db, to.db);
    if (describe(source) !== describe(target)) {
      for (const spec of TABLES) await copyTable(spec, from.db, to.db, to.engine);
    }
    if (!(await toFiles.owns(installId))) {
      throw new CopyError(
        `${toFiles.objects.description} belongs to another install's database: give this one its own prefix`,
      );
    }
    failed = (await verifyRows(from.db, to.db)) || failed;
    if (fromFiles.objects.description !== toFiles.objects.description) {
      failed = (await copyFiles(from.db, fromFiles, toFiles)) || failed;
    }
  } finally {
    await from.db.destroy();
    await to.db.destroy();
    fromFiles.close();
    toFiles.close();
  }
  if (failed) {
    console.error(
      "storage:copy found differences (above); the source is unchanged. Fix them and run it again.",
    );
    process.exit(1);
  }
  console.log("storage:copy done: every row and every file is on the target, verified.");
}

/** A target's storage error, named by the flag that gave it. */
function asFlag(err: unknown, flag: string): unknown {
  return err instanceof StorageUnavailableError
    ? new StorageUnavailableError(flag, err.message, { cause: err })
    : err;
}

/**
 * The target keeps the source's install id (its files' owner mark names it). A target that already holds
 * another install's rows is refused before anything is written.
 */
async function adoptInstallId(from: Kysely<Tables>, to: Kysely<Tables>): Promise<string> {
  const id = async (db: Kysely<Tables>) =>
    (await db.selectFrom("meta").select("value").where("key", "=", "install_id").executeTakeFirstOrThrow())
      .value;
  const [sourceId, targetId] = [await id(from), await id(to)];
  if (sourceId !== targetId) {
    for (const { table } of TABLES) {
      if ((await countRows(to, table)) > 0) {
        throw new CopyError(
          `the target database already holds another install's rows (${table}): copy into an empty one`,
        );
      }
    }
    await to.updateTable("meta").set({ value: sourceId }).where("key", "=", "install_id").execute();
  }
  // The generated key of signed links (LINK_SECRET unset) comes along, so links made before the move still work.
  const linkKey = await from
    .selectFrom("meta")
    .select("value")
    .where("key", "=", LINK_SECRET_META_KEY)
    .executeTakeFirst();
  if (linkKey) {
    await to
      .insertInto("meta")
      .values({ key: LINK_SECRET_META_KEY, value: linkKey.value })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
  }
  return sourceId;
}

type Untyped = Kysely<Record<string, Record<string, unknown>>>;

/** Rows of a table in primary-key order, a batch at a time. */
async function* rowsOf(db: Kysely<Tables>, spec: (typeof TABLES)[number]) {
  for (let offset = 0; ; offset += BATCH) {
    let query = (db as unknown as Untyped).selectFrom(spec.table).selectAll();
    for (const column of spec.key) query = query.orderBy(column);
    const rows = await query.limit(BATCH).offset(offset).execute();
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < BATCH) return;
  }
}

const countRows = async (db: Kysely<Tables>, table: string) =>
  Number(
    (
      await (db as unknown as Untyped)
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

/**
 * Writes the source's rows by primary key: a new row is inserted, a row whose values changed since the last
 * copy (a reference deleted, a setting changed) is updated, an equal one is left alone.
 */
async function copyTable(
  spec: (typeof TABLES)[number],
  from: Kysely<Tables>,
  to: Kysely<Tables>,
  engine: Engine,
): Promise<void> {
  let read = 0;
  let written = 0;
  for await (const rows of rowsOf(from, spec)) {
    read += rows.length;
    const columns = Object.keys(rows[0] ?? {}).filter((c) => !spec.key.includes(c));
    const result = await (to as unknown as Untyped)
      .insertInto(spec.table)
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(spec.key)
          .doUpdateSet((eb) => Object.fromEntries(columns.map((c) => [c, eb.ref(`excluded.${c}`)])))
          .where((eb) =>
            eb.or(
              columns.map((c) =>
                eb(eb.ref(`${spec.table}.${c}`), "is distinct from", eb.ref(`excluded.${c}`)),
              ),
            ),
          ),
      )
      .executeTakeFirst();
    written += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  // Rows kept their ids; PostgreSQL's identity must continue after the highest, or the next insert collides.
  if (spec.serial && engine === "postgres") {
    await sql`SELECT setval(pg_get_serial_sequence(${spec.serial}, 'id'), coalesce(max(id), 0) + 1, false)
      FROM ${sql.table(spec.serial)}`.execute(to);
  }
  console.log(
    `  ${spec.table}: ${read} rows, ${written} written (new or changed), ${read - written} unchanged`,
  );
}

/** One row as comparable text: its columns in name order, numbers as numbers whichever engine read them. */
const canonical = (row: Record<string, unknown>) =>
  JSON.stringify(
    Object.keys(row)
      .sort()
      .map((k) => [k, typeof row[k] === "bigint" ? Number(row[k]) : row[k]]),
  );

/**
 * Compares every table row by row, in key order, on both sides: any row missing, extra (written on the target
 * since an earlier copy, say) or different is reported, and the copy fails.
 */
async function verifyRows(from: Kysely<Tables>, to: Kysely<Tables>): Promise<boolean> {
  let failed = false;
  for (const spec of TABLES) {
    const target = new Map<string, string>();
    const keyOf = (row: Record<string, unknown>) => spec.key.map((k) => String(row[k])).join("/");
    for await (const rows of rowsOf(to, spec)) for (const row of rows) target.set(keyOf(row), canonical(row));
    let differ = 0;
    let missing = 0;
    let count = 0;
    for await (const rows of rowsOf(from, spec)) {
      for (const row of rows) {
        count++;
        const there = target.get(keyOf(row));
        if (there === undefined) missing++;
        else if (there !== canonical(row)) differ++;
        target.delete(keyOf(row));
      }
    }
    if (missing + differ + target.size > 0) {
      failed = true;
      console.error(
        `  ${spec.table}: ${count} rows on the source; on the target ${missing} missing, ${differ} different, ${target.size} not on the source`,
      );
    }
  }
  if (!failed) console.log("  every row is on the target with the same values, and no other");
  return failed;
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** Copies every file a live row names, unless the target already holds the same bytes; then checks each. */
async function copyFiles(from: Kysely<Tables>, source: FileStore, target: FileStore): Promise<boolean> {
  const named = [
    ...(await from
      .selectFrom("images")
      .select(["fileName", "sha256", "mime"])
      .where("fileName", "is not", null)
      .where("deletedAt", "is", null)
      .execute()),
    ...(await from
      .selectFrom("videos")
      .select(["fileName", "sha256", "mime"])
      .where("fileName", "is not", null)
      .where("deletedAt", "is", null)
      .execute()),
  ];
  let copied = 0;
  let present = 0;
  const problems: string[] = [];
  for (const row of named) {
    const fileName = row.fileName as string;
    const key = target.keyOf(fileName);
    const onTarget = await readOrNone(target, fileName);
    if (onTarget && sha256(onTarget) === row.sha256) {
      present++;
      continue;
    }
    const bytes = await readOrNone(source, fileName);
    if (!bytes) {
      problems.push(`${fileName}: missing on the source`);
      continue;
    }
    if (sha256(bytes) !== row.sha256) {
      problems.push(`${fileName}: the source's bytes do not match the sha256 its row recorded`);
      continue;
    }
    await target.objects.put(key, bytes, {
      contentType: row.mime ?? "application/octet-stream",
      sha256: row.sha256,
    });
    const back = await readOrNone(target, fileName);
    if (!back || sha256(back) !== row.sha256) {
      problems.push(`${fileName}: read back from the target with other bytes`);
      continue;
    }
    copied++;
  }
  console.log(
    `  files: ${named.length} named by rows, ${copied} copied, ${present} already there, ${named.length - problems.length} verified by sha256`,
  );
  for (const p of problems) console.error(`  ${p}`);
  return problems.length > 0;
}

async function readOrNone(files: FileStore, fileName: string): Promise<Buffer | undefined> {
  try {
    return await files.read(fileName);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}

try {
  await main();
} catch (err) {
  if (err instanceof StorageUnavailableError) {
    console.error(`storage:copy: ${err.variable} ${err.message}`);
    process.exit(EXIT_CONFIG);
  }
  if (err instanceof CopyError) {
    console.error(`storage:copy: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
