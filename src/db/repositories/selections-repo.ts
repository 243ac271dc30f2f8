// The selections table: a history of picks; a user's newest row in a guild is their current pick.
import type { Executor } from "../database.ts";

export interface SelectionRow {
  id: number;
  guildId: string | null;
  userId: string;
  imageId: string;
  generationId: string;
  selectedAt: number;
}

const COLUMNS = ["id", "guildId", "userId", "imageId", "generationId", "selectedAt"] as const;

export class SelectionsRepo {
  constructor(private readonly db: Executor) {}

  /**
   * Records a pick. A press (its interaction id) is recorded once: the same press handled again, by a retry or
   * by another process, records nothing and gets undefined.
   */
  async insert(
    row: Omit<SelectionRow, "id"> & { interactionId: string | null },
  ): Promise<SelectionRow | undefined> {
    const inserted = await this.db
      .insertInto("selections")
      .values({
        guildId: row.guildId,
        userId: row.userId,
        imageId: row.imageId,
        generationId: row.generationId,
        selectedAt: row.selectedAt,
        interactionId: row.interactionId,
      })
      .onConflict((oc) => oc.doNothing())
      .returning(COLUMNS)
      .executeTakeFirst();
    return inserted && { ...inserted, id: Number(inserted.id) };
  }

  async current(userId: string, guildId: string | null): Promise<SelectionRow | undefined> {
    const row = await this.db
      .selectFrom("selections")
      .select(COLUMNS)
      .where("userId", "=", userId)
      .where("guildId", "is not distinct from", guildId)
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row && { ...row, id: Number(row.id) };
  }

  async latestForGeneration(generationId: string): Promise<SelectionRow | undefined> {
    const row = await this.db
      .selectFrom("selections")
      .select(COLUMNS)
      .where("generationId", "=", generationId)
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row && { ...row, id: Number(row.id) };
  }
}
