// The pending_deletions table: files whose rows are marked deleted but which may still be on disk. A row is
// written in the transaction that marks the file's row deleted and cleared once the file is gone, so a crash in
// between leaves a note for the next start instead of an orphan nobody knows about.
import type { Db } from "./database.ts";

export class PendingDeletionsRepo {
  private readonly scheduleStmt;
  private readonly clearStmt;
  private readonly allStmt;

  constructor(db: Db) {
    this.scheduleStmt = db.prepare(
      "INSERT INTO pending_deletions (file_name, scheduled_at) VALUES (?, ?) ON CONFLICT (file_name) DO NOTHING",
    );
    this.clearStmt = db.prepare("DELETE FROM pending_deletions WHERE file_name = ?");
    this.allStmt = db.prepare<[], { fileName: string }>(
      "SELECT file_name AS fileName FROM pending_deletions ORDER BY scheduled_at, file_name",
    );
  }

  /** Call inside the transaction that marks the files' rows deleted. */
  schedule(fileNames: readonly string[], at: number): void {
    for (const name of fileNames) this.scheduleStmt.run(name, at);
  }

  clear(fileName: string): void {
    this.clearStmt.run(fileName);
  }

  all(): string[] {
    return this.allStmt.all().map((r) => r.fileName);
  }
}
