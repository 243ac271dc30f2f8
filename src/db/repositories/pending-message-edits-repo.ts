// The pending_message_edits table: grids and video messages that still show a deleted image or video. A row is
// written in the transaction that marks the deletion and cleared once the message was edited, so a crash in
// between leaves the edit to the next start instead of leaving the image in the channel.
import type { Executor } from "../database.ts";

export type MessageKind = "grid" | "video";

export interface PendingMessageEdit {
  kind: MessageKind;
  /** The generation (for a grid) or the video whose message it is. */
  jobId: string;
}

export class PendingMessageEditsRepo {
  constructor(private readonly db: Executor) {}

  /** Call inside the transaction that marks the deletion. */
  async schedule(edits: readonly PendingMessageEdit[], at: number): Promise<void> {
    if (edits.length === 0) return;
    await this.db
      .insertInto("pendingMessageEdits")
      .values(edits.map((e) => ({ kind: e.kind, jobId: e.jobId, scheduledAt: at })))
      .onConflict((oc) => oc.columns(["kind", "jobId"]).doNothing())
      .execute();
  }

  async clear(edit: PendingMessageEdit): Promise<void> {
    await this.db
      .deleteFrom("pendingMessageEdits")
      .where("kind", "=", edit.kind)
      .where("jobId", "=", edit.jobId)
      .execute();
  }

  async all(): Promise<PendingMessageEdit[]> {
    return this.db
      .selectFrom("pendingMessageEdits")
      .select(["kind", "jobId"])
      .orderBy("scheduledAt")
      .orderBy("kind")
      .orderBy("jobId")
      .execute();
  }
}
