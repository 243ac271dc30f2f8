// Copying an install's rows to another database (npm run storage:copy): by primary key, a batch at a time, safe
// to run again; then every table compared row by row on both sides.
import { type Kysely, sql } from "kysely";
import type { Engine } from "./database.ts";
import type { Tables } from "./schema.ts";

interface TableSpec {
  table: keyof Tables;
  key: string[];
  serial?: string;
}

/** Tables in an order that satisfies their foreign keys, each with its primary key. */
const TABLES: ReadonlyArray<TableSpec> = [
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

/** A copy that would mix two installs: nothing more is written, and the run fails with this message. */
export class CopyRefusedError extends Error {}

/**
 * The target keeps the source's install id (its files' owner mark names it). A target that already holds
 * another install's rows is refused before anything is written. `metaKeys` name the other meta entries that
 * belong to the install and move with it (a generated key, say), unless the target has its own.
 */
export async function adoptInstallId(
  from: Kysely<Tables>,
  to: Kysely<Tables>,
  metaKeys: readonly string[],
): Promise<string> {
  const id = async (db: Kysely<Tables>) =>
    (await db.selectFrom("meta").select("value").where("key", "=", "install_id").executeTakeFirstOrThrow())
      .value;
  const [sourceId, targetId] = [await id(from), await id(to)];
  if (sourceId !== targetId) {
    for (const { table } of TABLES) {
      if ((await countRows(to, table)) > 0) {
        throw new CopyRefusedError(
          `the target database already holds another install's rows (${table}): copy into an empty one`,
        );
      }
    }
    await to.updateTable("meta").set({ value: sourceId }).where("key", "=", "install_id").execute();
  }
  for (const key of metaKeys) {
    const entry = await from.selectFrom("meta").select("value").where("key", "=", key).executeTakeFirst();
    if (entry) {
      await to
        .insertInto("meta")
        .values({ key, value: entry.value })
        .onConflict((oc) => oc.column("key").doNothing())
        .execute();
    }
  }
  return sourceId;
}

type Untyped = Kysely<Record<string, Record<string, unknown>>>;

/** Rows of a table in primary-key order, a batch at a time. */
async function* rowsOf(db: Kysely<Tables>, spec: TableSpec) {
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

/** What copying one table did: rows read on the source, and how many of them were new or changed. */
export interface TableCopied {
  table: string;
  read: number;
  written: number;
}

/** Copies every table in foreign-key order, telling what it did as each one is done. */
export async function* copyTables(
  from: Kysely<Tables>,
  to: Kysely<Tables>,
  engine: Engine,
): AsyncGenerator<TableCopied> {
  for (const spec of TABLES) yield await copyTable(spec, from, to, engine);
}

/**
 * Writes the source's rows by primary key: a new row is inserted, a row whose values changed since the last
 * copy (a reference deleted, a setting changed) is updated, an equal one is left alone.
 */
async function copyTable(
  spec: TableSpec,
  from: Kysely<Tables>,
  to: Kysely<Tables>,
  engine: Engine,
): Promise<TableCopied> {
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
  return { table: spec.table, read, written };
}

/** One row as comparable text: its columns in name order, numbers as numbers whichever engine read them. */
const canonical = (row: Record<string, unknown>) =>
  JSON.stringify(
    Object.keys(row)
      .sort()
      .map((k) => [k, typeof row[k] === "bigint" ? Number(row[k]) : row[k]]),
  );

/** A table whose rows differ between the two sides. */
export interface TableDifference {
  table: string;
  /** Rows on the source. */
  count: number;
  /** Source rows the target lacks. */
  missing: number;
  /** Source rows the target holds with other values. */
  differ: number;
  /** Target rows the source does not have. */
  extra: number;
}

/**
 * Compares every table row by row, in key order, on both sides: yields each table with a row missing, extra
 * (written on the target since an earlier copy, say) or different.
 */
export async function* compareTables(
  from: Kysely<Tables>,
  to: Kysely<Tables>,
): AsyncGenerator<TableDifference> {
  for (const spec of TABLES) {
    const difference = await compareTable(spec, from, to);
    if (difference.missing + difference.differ + difference.extra > 0) yield difference;
  }
}

async function compareTable(
  spec: TableSpec,
  from: Kysely<Tables>,
  to: Kysely<Tables>,
): Promise<TableDifference> {
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
  return { table: spec.table, count, missing, differ, extra: target.size };
}

/** The stored files live rows name (images and videos not deleted), with what each row recorded of them. */
export async function liveStoredFiles(
  db: Kysely<Tables>,
): Promise<Array<{ fileName: string; sha256: string | null; mime: string | null }>> {
  const named = [
    ...(await db
      .selectFrom("images")
      .select(["fileName", "sha256", "mime"])
      .where("fileName", "is not", null)
      .where("deletedAt", "is", null)
      .execute()),
    ...(await db
      .selectFrom("videos")
      .select(["fileName", "sha256", "mime"])
      .where("fileName", "is not", null)
      .where("deletedAt", "is", null)
      .execute()),
  ];
  return named.map((row) => ({ ...row, fileName: row.fileName as string }));
}
