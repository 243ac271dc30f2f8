// What image slots and videos share as prediction jobs: the columns that say whether to create, recover or
// poll, read and written the same way in both tables.
import type { Db } from "./database.ts";

/** A prediction job's durable state, as its row (an image slot's or a video's) holds it. */
export interface JobState {
  status: "pending" | "running" | "succeeded" | "failed";
  predictionId: string | null;
  /** When a create was about to be sent for this row (epoch ms); null while none was. */
  createSentAt: number | null;
}

/** The job columns of one table; `table` is one of two constants, never input. */
export class JobRows {
  private readonly stateStmt;
  private readonly createSentStmt;
  private readonly heldIdsStmt;

  constructor(db: Db, table: "images" | "videos") {
    this.stateStmt = db.prepare<[string], JobState>(`SELECT status, prediction_id AS predictionId,
      create_sent_at AS createSentAt FROM ${table} WHERE id = ?`);
    this.createSentStmt = db.prepare(`UPDATE ${table} SET create_sent_at = ? WHERE id = ?
      AND status IN ('pending', 'running') AND prediction_id IS NULL AND create_sent_at IS NULL`);
    this.heldIdsStmt = db
      .prepare<[string, number], string>(`SELECT prediction_id FROM ${table} WHERE prediction_id IS NOT NULL
        AND id <> ? AND (finished_at IS NULL OR finished_at >= ?)`)
      .pluck();
  }

  /** What the row's prediction job reads to know whether to create, recover or poll. */
  state(id: string): JobState | undefined {
    return this.stateStmt.get(id);
  }

  /**
   * Records that a create is about to be sent for the row, before it leaves; false when the row already has a
   * prediction id or a create sent (it must then be polled or recovered, never created again).
   */
  markCreateSent(id: string, at: number): boolean {
    return this.createSentStmt.run(at, id).changes > 0;
  }

  /** Prediction ids other rows hold that may have been created since `since`: never adopted for this row. */
  predictionIdsHeldElsewhere(id: string, since: number): string[] {
    return this.heldIdsStmt.all(id, since);
  }
}
