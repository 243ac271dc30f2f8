// The pending_message_edits table: grids and video messages that still show a deleted image or video. A row is
// written in the transaction that marks the deletion and cleared once the message was edited, so a crash in
// between leaves the edit to the next start instead of leaving the image in the channel.
import type { Db } from "./database.ts";

export type MessageKind = "grid" | "video";

export interface PendingMessageEdit {
  kind: MessageKind;
  /** The generation (for a grid) or the video whose message it is. */
  jobId: string;
}

export class PendingMessageEditsRepo {
  private readonly scheduleStmt;
  private readonly clearStmt;
  private readonly allStmt;

  constructor(db: Db) {
    this.scheduleStmt = db.prepare(
      `INSERT INTO pending_message_edits (kind, job_id, scheduled_at) VALUES (?, ?, ?)
       ON CONFLICT (kind, job_id) DO NOTHING`,
    );
    this.clearStmt = db.prepare("DELETE FROM pending_message_edits WHERE kind = ? AND job_id = ?");
    this.allStmt = db.prepare<[], PendingMessageEdit>(
      "SELECT kind, job_id AS jobId FROM pending_message_edits ORDER BY scheduled_at, kind, job_id",
    );
  }

  /** Call inside the transaction that marks the deletion. */
  schedule(edits: readonly PendingMessageEdit[], at: number): void {
    for (const edit of edits) this.scheduleStmt.run(edit.kind, edit.jobId, at);
  }

  clear(edit: PendingMessageEdit): void {
    this.clearStmt.run(edit.kind, edit.jobId);
  }

  all(): PendingMessageEdit[] {
    return this.allStmt.all();
  }
}
