// The images table: one row per slot of a generation; a succeeded row names its file in the file store.
import type { FailureCode } from "../domain/failures.ts";
import type { Db } from "./database.ts";
import { JobRows } from "./job-rows.ts";

export type ImageStatus = "pending" | "running" | "succeeded" | "failed";

export interface ImageRow {
  id: string;
  generationId: string;
  slot: number;
  status: ImageStatus;
  model: string | null;
  predictionId: string | null;
  fileName: string | null;
  mime: string | null;
  bytes: number | null;
  width: number | null;
  height: number | null;
  sha256: string | null;
  errorCode: FailureCode | null;
  errorMessage: string | null;
  createdAt: number;
  finishedAt: number | null;
  deletedAt: number | null;
  /** Who deleted it: its owner, or a moderator. */
  deletedBy: string | null;
}

/** An image joined with what a viewer needs to know about its generation. */
export interface ImageWithOwner extends ImageRow {
  userId: string;
  guildId: string | null;
  prompt: string;
  params: string;
}

export interface StoredFileFacts {
  fileName: string;
  mime: string;
  bytes: number;
  width: number;
  height: number;
  sha256: string;
}

const COLUMNS = `i.id, i.generation_id AS generationId, i.slot, i.status, i.model, i.prediction_id AS predictionId,
  i.file_name AS fileName, i.mime, i.bytes, i.width, i.height, i.sha256, i.error_code AS errorCode,
  i.error_message AS errorMessage, i.created_at AS createdAt, i.finished_at AS finishedAt,
  i.deleted_at AS deletedAt, i.deleted_by AS deletedBy`;
const WITH_OWNER = `${COLUMNS}, g.user_id AS userId, g.guild_id AS guildId, g.prompt, g.params
  FROM images i JOIN generations g ON g.id = i.generation_id`;

export class ImagesRepo {
  private readonly insertStmt;
  private readonly byGenerationStmt;
  private readonly getStmt;
  private readonly startedStmt;
  private readonly succeededStmt;
  private readonly failedStmt;
  private readonly byUserStmt;
  private readonly countByUserStmt;
  private readonly unfinishedByUserStmt;
  private readonly deleteStmt;
  private readonly liveFilesStmt;

  /** The row's prediction job columns: whether to create, recover or poll. */
  readonly jobs: JobRows;

  constructor(db: Db) {
    this.jobs = new JobRows(db, "images");
    this.insertStmt = db.prepare(`INSERT INTO images (id, generation_id, slot, status, created_at)
      VALUES (?, ?, ?, 'pending', ?)`);
    this.byGenerationStmt = db.prepare<[string], ImageRow>(
      `SELECT ${COLUMNS} FROM images i WHERE i.generation_id = ? ORDER BY i.slot`,
    );
    this.getStmt = db.prepare<[string], ImageWithOwner>(`SELECT ${WITH_OWNER} WHERE i.id = ?`);
    this.startedStmt = db.prepare(`UPDATE images SET status = 'running', prediction_id = @predictionId,
      model = @model WHERE id = @id AND status IN ('pending', 'running')`);
    this.succeededStmt =
      db.prepare(`UPDATE images SET status = 'succeeded', file_name = @fileName, mime = @mime,
      bytes = @bytes, width = @width, height = @height, sha256 = @sha256, finished_at = @finishedAt
      WHERE id = @id AND status IN ('pending', 'running')`);
    this.failedStmt = db.prepare(`UPDATE images SET status = 'failed', error_code = @errorCode,
      error_message = @errorMessage, finished_at = @finishedAt WHERE id = @id AND status IN ('pending', 'running')`);
    this.byUserStmt = db.prepare<[string, string | null, number, number], ImageWithOwner>(
      `SELECT ${WITH_OWNER} WHERE g.user_id = ? AND g.guild_id IS ? AND i.status = 'succeeded'
       AND i.deleted_at IS NULL ORDER BY i.finished_at DESC, i.slot LIMIT ? OFFSET ?`,
    );
    this.unfinishedByUserStmt = db.prepare<[string, string | null], ImageWithOwner>(
      `SELECT ${WITH_OWNER} WHERE g.user_id = ? AND g.guild_id IS ? AND i.status IN ('pending', 'running')
       AND i.deleted_at IS NULL`,
    );
    this.deleteStmt = db.prepare(
      "UPDATE images SET deleted_at = ?, deleted_by = ? WHERE id = ? AND deleted_at IS NULL",
    );
    this.liveFilesStmt = db
      .prepare<[], string>("SELECT file_name FROM images WHERE file_name IS NOT NULL AND deleted_at IS NULL")
      .pluck();
    this.countByUserStmt = db.prepare<[string, string | null], { n: number }>(
      `SELECT count(*) AS n FROM images i JOIN generations g ON g.id = i.generation_id
       WHERE g.user_id = ? AND g.guild_id IS ? AND i.status = 'succeeded' AND i.deleted_at IS NULL`,
    );
  }

  /** Marks a stored image deleted (its file is removed by the caller); false when it already was. */
  markDeleted(id: string, at: number, by: string): boolean {
    return this.deleteStmt.run(at, by, id).changes > 0;
  }

  /** The file names rows still stand for: every other file in images/ is an orphan. */
  liveFileNames(): Set<string> {
    return new Set(this.liveFilesStmt.all());
  }

  insertPending(id: string, generationId: string, slot: number, createdAt: number): void {
    this.insertStmt.run(id, generationId, slot, createdAt);
  }

  forGeneration(generationId: string): ImageRow[] {
    return this.byGenerationStmt.all(generationId);
  }

  get(id: string): ImageWithOwner | undefined {
    return this.getStmt.get(id);
  }

  /** Records the prediction id the moment it exists: a restart polls it instead of paying again. */
  markStarted(id: string, predictionId: string, model: string): void {
    this.startedStmt.run({ id, predictionId, model });
  }

  markSucceeded(id: string, file: StoredFileFacts, finishedAt: number): void {
    this.succeededStmt.run({ id, ...file, finishedAt });
  }

  markFailed(id: string, errorCode: FailureCode, errorMessage: string, finishedAt: number): void {
    this.failedStmt.run({ id, errorCode, errorMessage: errorMessage.slice(0, 500), finishedAt });
  }

  /** A user's stored images in one guild (or in DMs when guildId is null), newest first. */
  listByUser(userId: string, guildId: string | null, limit: number, offset: number): ImageWithOwner[] {
    return this.byUserStmt.all(userId, guildId, limit, offset);
  }

  /** A user's slots in one guild still being made (pending or running), not deleted. */
  unfinishedByUser(userId: string, guildId: string | null): ImageWithOwner[] {
    return this.unfinishedByUserStmt.all(userId, guildId);
  }

  countByUser(userId: string, guildId: string | null): number {
    return this.countByUserStmt.get(userId, guildId)?.n ?? 0;
  }
}
