// The erasures table: each /privacy delete, journalled. Written in the erasure's transaction with the member's
// id; finished (the id cleared, the work emptied) once the files, uploads, predictions and messages are dealt
// with, so a crash in between leaves the rest to the next start.
import type { Executor } from "../database.ts";

/** What an erasure still has to do outside the database. */
export interface ErasureWork {
  /** Replicate Files API URLs of uploads of the member's images. */
  uploads: string[];
  /** Predictions still running for the member (or drawn from their images), to cancel. */
  predictions: string[];
  /** Stored files to remove (also in pending_deletions, which start-up recovery finishes). */
  files: string[];
}

/** What an erasure removed, by kind: the member's answer, and what stays on the journal row. */
export interface ErasureCounts {
  generations: number;
  images: number;
  videos: number;
  picks: number;
  libraryEntries: number;
  /** Blocked prompts in the audit log: kept under the pseudonym, without their text. */
  blockedPrompts: number;
  /** Today's ledger rows kept under the pseudonym; older ones are deleted. */
  ledgerRowsKept: number;
  ledgerRowsDeleted: number;
  uploads: number;
  /** Requests still running that were cancelled. */
  cancelled: number;
}

export interface ErasureRow {
  id: string;
  subject: string;
  userId: string | null;
  requestedAt: number;
  finishedAt: number | null;
  work: ErasureWork;
  counts: ErasureCounts;
}

const EMPTY_WORK: ErasureWork = { uploads: [], predictions: [], files: [] };

export class ErasuresRepo {
  constructor(private readonly db: Executor) {}

  async insert(row: Omit<ErasureRow, "finishedAt">): Promise<void> {
    await this.db
      .insertInto("erasures")
      .values({
        id: row.id,
        subject: row.subject,
        userId: row.userId,
        requestedAt: row.requestedAt,
        finishedAt: null,
        work: JSON.stringify(row.work),
        counts: JSON.stringify(row.counts),
      })
      .execute();
  }

  /** The latest erasure of a pseudonym: the hourly limit's reading. */
  async latestFor(subject: string): Promise<ErasureRow | undefined> {
    const row = await this.db
      .selectFrom("erasures")
      .selectAll()
      .where("subject", "=", subject)
      .orderBy("requestedAt", "desc")
      .limit(1)
      .executeTakeFirst();
    return row && parse(row);
  }

  async get(id: string): Promise<ErasureRow | undefined> {
    const row = await this.db.selectFrom("erasures").selectAll().where("id", "=", id).executeTakeFirst();
    return row && parse(row);
  }

  /** Erasures a crash (or a failure outside the database) left unfinished, oldest first. */
  async unfinished(): Promise<string[]> {
    const rows = await this.db
      .selectFrom("erasures")
      .select("id")
      .where("finishedAt", "is", null)
      .orderBy("requestedAt")
      .execute();
    return rows.map((r) => r.id);
  }

  /** Done: the member's id and the work list go; the pseudonym, the time and the counts stay. */
  async finish(id: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable("erasures")
      .set({ finishedAt: at, userId: null, work: JSON.stringify(EMPTY_WORK) })
      .where("id", "=", id)
      .where("finishedAt", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

function parse(row: {
  id: string;
  subject: string;
  userId: string | null;
  requestedAt: number;
  finishedAt: number | null;
  work: string;
  counts: string;
}): ErasureRow {
  return {
    ...row,
    requestedAt: Number(row.requestedAt),
    finishedAt: row.finishedAt === null ? null : Number(row.finishedAt),
    work: { ...EMPTY_WORK, ...(JSON.parse(row.work) as Partial<ErasureWork>) },
    counts: JSON.parse(row.counts) as ErasureCounts,
  };
}
