// The data_exports table: members' data exports, for the once-per-window limit and the sweep of expired ZIPs.
import type { Executor } from "../database.ts";
import type { DataExportsTable } from "../schema.ts";

export type DataExportRow = DataExportsTable;

export class DataExportsRepo {
  constructor(private readonly db: Executor) {}

  /** The member's newest export started after `since` (epoch ms), if any. */
  async latestSince(userId: string, since: number): Promise<DataExportRow | undefined> {
    return this.db
      .selectFrom("dataExports")
      .selectAll()
      .where("userId", "=", userId)
      .where("createdAt", ">", since)
      .orderBy("createdAt", "desc")
      .limit(1)
      .executeTakeFirst();
  }

  async insert(row: DataExportRow): Promise<void> {
    await this.db.insertInto("dataExports").values(row).execute();
  }

  /** Records the stored ZIP of an export and when its link (and so the ZIP) expires. */
  /** Names the stored ZIP in its row; false when the row is gone (the member erased their data meanwhile). */
  async attachFile(id: string, fileName: string, bytes: number, expiresAt: number): Promise<boolean> {
    const updated = await this.db
      .updateTable("dataExports")
      .set({ fileName, bytes, expiresAt })
      .where("id", "=", id)
      .executeTakeFirst();
    return updated.numUpdatedRows > 0n;
  }

  async get(id: string): Promise<DataExportRow | undefined> {
    return this.db.selectFrom("dataExports").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("dataExports").where("id", "=", id).execute();
  }

  /**
   * Forgets a member's exports (an erasure): their rows are deleted, and the names of their stored ZIPs are
   * returned for the caller to remove (or schedule as pending deletions in the same transaction).
   */
  async removeForUser(userId: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom("dataExports")
      .where("userId", "=", userId)
      .returning("fileName")
      .execute();
    return rows.flatMap((r) => (r.fileName ? [r.fileName] : []));
  }

  /** Up to `limit` rows whose time is over at `now`, oldest first. */
  async expired(now: number, limit: number): Promise<DataExportRow[]> {
    return this.db
      .selectFrom("dataExports")
      .selectAll()
      .where("expiresAt", "<=", now)
      .orderBy("expiresAt")
      .limit(limit)
      .execute();
  }

  /** The stored ZIPs some row still stands for. */
  async liveFileNames(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom("dataExports")
      .select("fileName")
      .where("fileName", "is not", null)
      .execute();
    return new Set(rows.map((r) => r.fileName as string));
  }
}
