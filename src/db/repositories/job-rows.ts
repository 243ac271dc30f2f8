// What image slots and videos share as prediction jobs: the columns that say whether to create, recover or
// poll, read and written the same way in both tables.
import type { Executor } from "../database.ts";

/** A prediction job's durable state, as its row (an image slot's or a video's) holds it. */
export interface JobState {
  status: "pending" | "running" | "succeeded" | "failed";
  predictionId: string | null;
  /** When a create was about to be sent for this row (epoch ms); null while none was. */
  createSentAt: number | null;
  /** The model that runs (or ran) it; an image slot's is null until its prediction starts. */
  model: string | null;
}

/** The job columns of one table; `table` is one of two constants, never input. */
export class JobRows {
  constructor(
    private readonly db: Executor,
    private readonly table: "images" | "videos",
  ) {}

  /** What the row's prediction job reads to know whether to create, recover or poll. */
  async state(id: string): Promise<JobState | undefined> {
    return this.db
      .selectFrom(this.table)
      .select(["status", "predictionId", "createSentAt", "model"])
      .where("id", "=", id)
      .executeTakeFirst();
  }

  /**
   * Records that a create is about to be sent for the row, before it leaves; false when the row already has a
   * prediction id or a create sent (it must then be polled or recovered, never created again). With
   * `previous`, the create marked sent then, which the provider was found never to have made, is replaced.
   * One statement, so of two processes racing for the same row exactly one gets true.
   */
  async markCreateSent(id: string, at: number, previous?: number): Promise<boolean> {
    const open = this.db
      .updateTable(this.table)
      .set({ createSentAt: at })
      .where("id", "=", id)
      .where("status", "in", ["pending", "running"])
      .where("predictionId", "is", null);
    const result = await (previous === undefined
      ? open.where("createSentAt", "is", null)
      : open.where("createSentAt", "=", previous)
    ).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * How many of `ids` are open with no prediction recorded: jobs a worker took whose create has not reached the
   * provider as far as the row knows (not sent, or sent with no answer yet), which start before any job still
   * waiting (see queue-places.ts). A create on its way counts: it may arrive after a place is shown.
   */
  async countUncreated(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const row = await this.db
      .selectFrom(this.table)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("id", "in", ids)
      .where("status", "in", ["pending", "running"])
      .where("predictionId", "is", null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Prediction ids other rows hold that may have been created since `since`: never adopted for this row. */
  async predictionIdsHeldElsewhere(id: string, since: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom(this.table)
      .select("predictionId")
      .where("predictionId", "is not", null)
      .where("id", "<>", id)
      .where((eb) => eb.or([eb("finishedAt", "is", null), eb("finishedAt", ">=", since)]))
      .execute();
    return rows.map((r) => r.predictionId as string);
  }
}
