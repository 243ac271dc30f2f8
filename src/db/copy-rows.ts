// Copying an install's rows to another database (npm run storage:copy): by primary key, a page at a time, safe
// to run again; then every table compared row by row on both sides, in key order.
import { type Kysely, sql } from "kysely";
import type { Engine } from "./database.ts";
import type { Tables } from "./schema.ts";

interface TableSpec {
  table: keyof Tables;
  key: string[];
  serial?: string;
  /** Key columns that hold integers (ordered as numbers, not by text bytes); a serial `id` is one too. */
  integerKeys?: string[];
}

/** Tables in an order that satisfies their foreign keys, each with its primary key. */
const TABLES: ReadonlyArray<TableSpec> = [
  { table: "generations", key: ["id"] },
  { table: "generationReferences", key: ["generationId", "position"], integerKeys: ["position"] },
  { table: "images", key: ["id"] },
  { table: "selections", key: ["id"], serial: "selections" },
  { table: "videos", key: ["id"] },
  { table: "guildSettings", key: ["guildId"] },
  { table: "libraryEntries", key: ["id"] },
  { table: "usageLedger", key: ["id"], serial: "usage_ledger" },
  { table: "auditLog", key: ["id"], serial: "audit_log" },
  { table: "pendingDeletions", key: ["fileName"] },
  { table: "pendingMessageEdits", key: ["kind", "jobId"] },
  { table: "erasures", key: ["id"] },
  { table: "guildDepartures", key: ["guildId"] },
];

/** A copy that would mix two installs: nothing more is written, and the run fails with this message. */
export class CopyRefusedError extends Error {}

/** One side of a copy: a database and its engine (which decides how text keys are ordered). */
export interface Rows {
  db: Kysely<Tables>;
  engine: Engine;
}

/** Rows read (and compared) a page at a time, unless a run asks for other pages (`--page-size`). */
export const DEFAULT_PAGE_SIZE = 500;
/** The largest page a run may ask for: a page of every table's rows must stay small in memory. */
export const MAX_PAGE_SIZE = 10_000;

/** What a target database holds, read before it is migrated or written. */
export interface TargetInstall {
  /** Its `meta.install_id`; undefined for a new database or one from before install ids. */
  installId: string | undefined;
  /** The first table storage:copy moves that holds a row there; undefined when none does. */
  holdsRowsIn: string | undefined;
}

/**
 * What the target database is, read only (nothing is migrated or written): its install id, and whether any
 * table the copy moves holds a row. Tables a database of an earlier release does not have yet count as empty.
 */
export async function readTargetInstall(target: Rows): Promise<TargetInstall> {
  const installId = (await tableExists(target, "meta"))
    ? (await target.db.selectFrom("meta").select("value").where("key", "=", "install_id").executeTakeFirst())
        ?.value
    : undefined;
  for (const { table } of TABLES) {
    if ((await tableExists(target, snake(table))) && (await hasRows(target.db, table))) {
      return { installId, holdsRowsIn: table };
    }
  }
  return { installId, holdsRowsIn: undefined };
}

/**
 * Refuses a target database that belongs to another install: one whose install id is not the source's and that
 * holds a row in any table the copy moves. One with the source's id is this install (an earlier copy); one
 * without rows is an empty install, which the copy adopts.
 */
export function refuseAnotherInstall(sourceId: string, target: TargetInstall): void {
  if (target.installId !== sourceId && target.holdsRowsIn !== undefined) {
    throw new CopyRefusedError(
      `the target database already holds another install's rows (${target.holdsRowsIn}): its install id is ${target.installId ?? "unset"}, this install's ${sourceId}; copy into an empty database, or one an earlier copy of this install made`,
    );
  }
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

async function tableExists({ db, engine }: Rows, table: string): Promise<boolean> {
  const found =
    engine === "postgres"
      ? await sql<{ found: string | null }>`SELECT to_regclass(${table})::text AS found`.execute(db)
      : await sql<{
          found: string | null;
        }>`SELECT name AS found FROM sqlite_master WHERE type = 'table' AND name = ${table}`.execute(db);
  return Boolean(found.rows[0]?.found);
}

const hasRows = async (db: Kysely<Tables>, table: string) =>
  (await (db as unknown as Untyped).selectFrom(table).select(sql`1`.as("one")).limit(1).execute()).length > 0;

/** The source's install id. */
export const installIdOf = async (db: Kysely<Tables>) =>
  (await db.selectFrom("meta").select("value").where("key", "=", "install_id").executeTakeFirstOrThrow())
    .value;

/**
 * The target keeps the source's install id (its files' owner mark names it). A target that already holds
 * another install's rows is refused before anything is written. `metaKeys` name the other meta entries that
 * belong to the install and move with it (a generated key, say): an adopted empty install's own are replaced,
 * an earlier copy's are kept.
 */
export async function adoptInstallId(
  from: Kysely<Tables>,
  to: Rows,
  metaKeys: readonly string[],
): Promise<string> {
  const sourceId = await installIdOf(from);
  const target = await readTargetInstall(to);
  refuseAnotherInstall(sourceId, target);
  const adopting = target.installId !== sourceId;
  if (adopting) {
    await to.db.updateTable("meta").set({ value: sourceId }).where("key", "=", "install_id").execute();
  }
  for (const key of metaKeys) {
    const entry = await from.selectFrom("meta").select("value").where("key", "=", key).executeTakeFirst();
    if (!entry) continue;
    await to.db
      .insertInto("meta")
      .values({ key, value: entry.value })
      .onConflict((oc) =>
        adopting ? oc.column("key").doUpdateSet({ value: entry.value }) : oc.column("key").doNothing(),
      )
      .execute();
  }
  return sourceId;
}

type Untyped = Kysely<Record<string, Record<string, unknown>>>;
type Row = Record<string, unknown>;

/** A key column holding whole numbers (the auto-numbered ids); every other key column holds text. */
const numeric = (spec: TableSpec, column: string) =>
  (spec.serial !== undefined && column === "id") || (spec.integerKeys?.includes(column) ?? false);

/**
 * A key column as it is ordered and compared: text by its bytes on both engines (SQLite's default; PostgreSQL's
 * own collation would order `a-b` and `ab` by other rules), so two sides read in the same order.
 */
const keyExpression = (side: Rows, spec: TableSpec, column: string) =>
  side.engine === "postgres" && !numeric(spec, column)
    ? sql`${sql.ref(column)} COLLATE "C"`
    : sql`${sql.ref(column)}`;

/**
 * Rows of a table in key order, a page at a time: each page starts after the last key of the one before, so a
 * page costs the same wherever it is in the table, and only one page is ever in memory.
 */
async function* pagesOf(side: Rows, spec: TableSpec, pageSize: number): AsyncGenerator<Row[]> {
  let after: Row | undefined;
  for (;;) {
    let query = (side.db as unknown as Untyped).selectFrom(spec.table).selectAll();
    if (after) {
      const last = after;
      // (k1, k2, …) > (v1, v2, …), spelt out: k1 > v1, or k1 = v1 and k2 > v2, and so on.
      query = query.where((eb) =>
        eb.or(
          spec.key.map((column, i) =>
            eb.and([
              ...spec.key.slice(0, i).map((c) => eb(keyExpression(side, spec, c), "=", last[c])),
              eb(keyExpression(side, spec, column), ">", last[column]),
            ]),
          ),
        ),
      );
    }
    for (const column of spec.key) query = query.orderBy(keyExpression(side, spec, column));
    const rows = await query.limit(pageSize).execute();
    if (rows.length > 0) yield rows;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1];
  }
}

async function* rowsInKeyOrder(side: Rows, spec: TableSpec, pageSize: number): AsyncGenerator<Row> {
  for await (const rows of pagesOf(side, spec, pageSize)) yield* rows;
}

/** How two rows' keys are ordered, by the same rules both databases ordered them by (see keyExpression). */
function compareKeys(spec: TableSpec, a: Row, b: Row): number {
  for (const column of spec.key) {
    const order = numeric(spec, column)
      ? Number(a[column]) - Number(b[column])
      : Buffer.compare(Buffer.from(String(a[column])), Buffer.from(String(b[column])));
    if (order !== 0) return order;
  }
  return 0;
}

/** What copying one table did: rows read on the source, and how many of them were new or changed. */
export interface TableCopied {
  table: string;
  read: number;
  written: number;
}

/** Copies every table in foreign-key order, a page at a time, telling what it did as each one is done. */
export async function* copyTables(
  from: Rows,
  to: Rows,
  pageSize = DEFAULT_PAGE_SIZE,
): AsyncGenerator<TableCopied> {
  for (const spec of TABLES) yield await copyTable(spec, from, to, pageSize);
}

/**
 * Writes the source's rows by primary key: a new row is inserted, a row whose values changed since the last
 * copy (a reference deleted, a setting changed) is updated, an equal one is left alone.
 */
async function copyTable(spec: TableSpec, from: Rows, to: Rows, pageSize: number): Promise<TableCopied> {
  let read = 0;
  let written = 0;
  for await (const rows of pagesOf(from, spec, pageSize)) {
    read += rows.length;
    const columns = Object.keys(rows[0] ?? {}).filter((c) => !spec.key.includes(c));
    const result = await (to.db as unknown as Untyped)
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
  if (spec.serial && to.engine === "postgres") {
    await sql`SELECT setval(pg_get_serial_sequence(${spec.serial}, 'id'), coalesce(max(id), 0) + 1, false)
      FROM ${sql.table(spec.serial)}`.execute(to.db);
  }
  return { table: spec.table, read, written };
}

/** One row as comparable text: its columns in name order, numbers as numbers whichever engine read them. */
const canonical = (row: Row) =>
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
 * Compares every table row by row on both sides: yields each table with a row missing, extra (written on the
 * target since an earlier copy, say) or different. Both sides are read in key order, a page at a time, and
 * walked side by side, so no more than a page of each is in memory, however large the table.
 */
export async function* compareTables(
  from: Rows,
  to: Rows,
  pageSize = DEFAULT_PAGE_SIZE,
): AsyncGenerator<TableDifference> {
  for (const spec of TABLES) {
    const difference = await compareTable(spec, from, to, pageSize);
    if (difference.missing + difference.differ + difference.extra > 0) yield difference;
  }
}

async function compareTable(
  spec: TableSpec,
  from: Rows,
  to: Rows,
  pageSize: number,
): Promise<TableDifference> {
  const d: TableDifference = { table: spec.table, count: 0, missing: 0, differ: 0, extra: 0 };
  const source = rowsInKeyOrder(from, spec, pageSize);
  const target = rowsInKeyOrder(to, spec, pageSize);
  let a = await source.next();
  let b = await target.next();
  while (!a.done || !b.done) {
    // The side whose key comes first holds a row the other lacks; equal keys are the same row on both.
    const order = a.done ? 1 : b.done ? -1 : compareKeys(spec, a.value, b.value);
    if (order > 0) {
      d.extra++;
      b = await target.next();
      continue;
    }
    d.count++;
    if (order < 0) d.missing++;
    else if (canonical(a.value as Row) !== canonical(b.value as Row)) d.differ++;
    a = await source.next();
    if (order === 0) b = await target.next();
  }
  return d;
}

/** A file a live row names, with what the row recorded of it. */
export interface StoredFile {
  fileName: string;
  sha256: string | null;
  mime: string | null;
  bytes: number | null;
}

/** The stored files live rows name (images and videos not deleted), a page at a time, in id order. */
export async function* liveStoredFiles(
  db: Kysely<Tables>,
  pageSize = DEFAULT_PAGE_SIZE,
): AsyncGenerator<StoredFile> {
  for (const table of ["images", "videos"] as const) {
    let after: string | undefined;
    for (;;) {
      let query = db
        .selectFrom(table)
        .select(["id", "fileName", "sha256", "mime", "bytes"])
        .where("fileName", "is not", null)
        .where("deletedAt", "is", null);
      if (after !== undefined) query = query.where("id", ">", after);
      const rows = await query.orderBy("id").limit(pageSize).execute();
      for (const { id: _, ...row } of rows) yield { ...row, fileName: row.fileName as string };
      if (rows.length < pageSize) break;
      after = rows[rows.length - 1]?.id;
    }
  }
}
