// The pending_deletions table: files whose rows are marked deleted but which may still be on disk. A row is
// written in the transaction that marks the file's row deleted and cleared once the file is gone, so a crash in
// between leaves a note for the next start instead of an orphan nobody knows about.
import type { Executor } from "../database.ts";

export class PendingDeletionsRepo {
  constructor(private readonly db: Executor) {}

  /** Call inside the transaction that marks the files' rows deleted. */
  async schedule(fileNames: readonly string[], at: number): Promise<void> {
    if (fileNames.length === 0) return;
    await this.db
      .insertInto("pendingDeletions")
      .values(fileNames.map((fileName) => ({ fileName, scheduledAt: at })))
      .onConflict((oc) => oc.column("fileName").doNothing())
      .execute();
  }

  async clear(fileName: string): Promise<void> {
    await this.db.deleteFrom("pendingDeletions").where("fileName", "=", fileName).execute();
  }

  async all(): Promise<string[]> {
    const rows = await this.db
      .selectFrom("pendingDeletions")
      .select("fileName")
      .orderBy("scheduledAt")
      .orderBy("fileName")
      .execute();
    return rows.map((r) => r.fileName);
  }
}
