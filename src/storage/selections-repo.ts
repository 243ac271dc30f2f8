// The selections table: a history of picks; a user's newest row in a guild is their current pick.
import type { Db } from "./database.ts";

export interface SelectionRow {
  id: number;
  guildId: string | null;
  userId: string;
  imageId: string;
  generationId: string;
  selectedAt: number;
}

const COLUMNS = `id, guild_id AS guildId, user_id AS userId, image_id AS imageId,
  generation_id AS generationId, selected_at AS selectedAt`;

export class SelectionsRepo {
  private readonly insertStmt;
  private readonly currentStmt;
  private readonly latestForGenerationStmt;

  constructor(db: Db) {
    this.insertStmt =
      db.prepare(`INSERT INTO selections (guild_id, user_id, image_id, generation_id, selected_at)
      VALUES (@guildId, @userId, @imageId, @generationId, @selectedAt)`);
    this.currentStmt = db.prepare<[string, string | null], SelectionRow>(
      `SELECT ${COLUMNS} FROM selections WHERE user_id = ? AND guild_id IS ? ORDER BY id DESC LIMIT 1`,
    );
    this.latestForGenerationStmt = db.prepare<[string], SelectionRow>(
      `SELECT ${COLUMNS} FROM selections WHERE generation_id = ? ORDER BY id DESC LIMIT 1`,
    );
  }

  insert(row: Omit<SelectionRow, "id">): SelectionRow {
    const result = this.insertStmt.run(row);
    return { id: Number(result.lastInsertRowid), ...row };
  }

  current(userId: string, guildId: string | null): SelectionRow | undefined {
    return this.currentStmt.get(userId, guildId);
  }

  latestForGeneration(generationId: string): SelectionRow | undefined {
    return this.latestForGenerationStmt.get(generationId);
  }
}
