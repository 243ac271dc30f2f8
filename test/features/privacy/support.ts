// What the /privacy delete tests share: the marker scan over every byte the bot keeps (DATA_DIR's files, every
// text cell of PostgreSQL) and over the sandbox's stored messages.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import type { AppContext } from "../../../src/features/context.ts";
import type { DiscordSandbox } from "../../../src/sandbox/server.ts";

export const MARKER = "zxqvmarker";

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every file under DATA_DIR (the SQLite database, its -wal and -shm included) read raw: which hold the marker. */
export function markerFiles(dataDir: string): { scanned: number; found: string[] } {
  const files = filesUnder(dataDir);
  const needle = Buffer.from(MARKER, "utf8");
  return { scanned: files.length, found: files.filter((f) => readFileSync(f).includes(needle)) };
}

/** Every text column of every table in the run's PostgreSQL schema: the cells holding the marker. */
export async function markerCells(ctx: AppContext): Promise<{ scanned: number; found: string[] }> {
  if (ctx.data.engine !== "postgres") return { scanned: 0, found: [] };
  const { rows: columns } = await sql<{ tableName: string; columnName: string }>`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying')`.execute(
    ctx.data.db,
  );
  const found: string[] = [];
  for (const { tableName, columnName } of columns) {
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(tableName)}
      WHERE ${sql.ref(columnName)} LIKE ${`%${MARKER}%`}`.execute(ctx.data.db);
    if (Number(rows[0]?.n ?? 0) > 0) found.push(`${tableName}.${columnName}`);
  }
  return { scanned: columns.length, found };
}

/** The sandbox's stored messages that show the marker (content, embeds, components, attachments' names). */
export function markerMessages(sandbox: DiscordSandbox): string[] {
  return [...sandbox.messages.values()].filter((m) => JSON.stringify(m).includes(MARKER)).map((m) => m.id);
}
