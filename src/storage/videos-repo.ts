// The videos table: one row per /video request, linked to its reference image and that image's generation.
import type { FailureCode } from "../domain/failures.ts";
import type { Db } from "./database.ts";
import { JobRows } from "./job-rows.ts";

export type VideoStatus = "pending" | "running" | "succeeded" | "failed";

export interface VideoRow {
  id: string;
  referenceImageId: string;
  generationId: string;
  guildId: string | null;
  channelId: string | null;
  userId: string;
  prompt: string;
  model: string;
  params: string;
  status: VideoStatus;
  predictionId: string | null;
  fileName: string | null;
  mime: string | null;
  bytes: number | null;
  sha256: string | null;
  /** The provider's own URL of the output, kept for a video too large to upload (Replicate keeps it an hour). */
  outputUrl: string | null;
  errorCode: FailureCode | null;
  errorMessage: string | null;
  interactionId: string | null;
  interactionToken: string | null;
  applicationId: string | null;
  messageId: string | null;
  createdAt: number;
  finishedAt: number | null;
  deliveredAt: number | null;
  /** Set when the video's reference was deleted: the video is removed with it. */
  deletedAt: number | null;
  deletedBy: string | null;
}

export type NewVideo = Pick<
  VideoRow,
  | "id"
  | "referenceImageId"
  | "generationId"
  | "guildId"
  | "channelId"
  | "userId"
  | "prompt"
  | "model"
  | "params"
  | "interactionId"
  | "interactionToken"
  | "applicationId"
  | "createdAt"
>;

const COLUMNS = `id, reference_image_id AS referenceImageId, generation_id AS generationId, guild_id AS guildId,
  channel_id AS channelId, user_id AS userId, prompt, model, params, status, prediction_id AS predictionId,
  file_name AS fileName, mime, bytes, sha256, output_url AS outputUrl, error_code AS errorCode,
  error_message AS errorMessage, interaction_id AS interactionId, interaction_token AS interactionToken,
  application_id AS applicationId, message_id AS messageId, created_at AS createdAt, finished_at AS finishedAt,
  delivered_at AS deliveredAt, deleted_at AS deletedAt, deleted_by AS deletedBy`;

export class VideosRepo {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly startedStmt;
  private readonly succeededStmt;
  private readonly failedStmt;
  private readonly deliveredStmt;
  private readonly messageStmt;
  private readonly undeliveredStmt;
  private readonly byImageStmt;
  private readonly runningStmt;
  private readonly liveForImageStmt;
  private readonly deleteForImageStmt;
  private readonly liveFilesStmt;

  /** The row's prediction job columns: whether to create, recover or poll. */
  readonly jobs: JobRows;

  constructor(db: Db) {
    this.jobs = new JobRows(db, "videos");
    this.insertStmt =
      db.prepare(`INSERT INTO videos (id, reference_image_id, generation_id, guild_id, channel_id,
      user_id, prompt, model, params, status, interaction_id, interaction_token, application_id, created_at)
      VALUES (@id, @referenceImageId, @generationId, @guildId, @channelId, @userId, @prompt, @model, @params,
      'pending', @interactionId, @interactionToken, @applicationId, @createdAt)`);
    this.getStmt = db.prepare<[string], VideoRow>(`SELECT ${COLUMNS} FROM videos WHERE id = ?`);
    this.startedStmt = db.prepare(`UPDATE videos SET status = 'running', prediction_id = @predictionId
      WHERE id = @id AND status IN ('pending', 'running')`);
    this.succeededStmt =
      db.prepare(`UPDATE videos SET status = 'succeeded', file_name = @fileName, mime = @mime,
      bytes = @bytes, sha256 = @sha256, output_url = @outputUrl, finished_at = @finishedAt
      WHERE id = @id AND status IN ('pending', 'running')`);
    this.failedStmt = db.prepare(`UPDATE videos SET status = 'failed', error_code = @errorCode,
      error_message = @errorMessage, finished_at = @finishedAt WHERE id = @id AND status IN ('pending', 'running')`);
    this.deliveredStmt = db.prepare("UPDATE videos SET delivered_at = ? WHERE id = ?");
    this.messageStmt = db.prepare("UPDATE videos SET message_id = ? WHERE id = ?");
    this.undeliveredStmt = db.prepare<[], VideoRow>(
      `SELECT ${COLUMNS} FROM videos WHERE delivered_at IS NULL ORDER BY created_at`,
    );
    this.runningStmt = db.prepare<[string], { n: number }>(
      "SELECT count(*) AS n FROM videos WHERE user_id = ? AND status IN ('pending', 'running')",
    );
    this.byImageStmt = db.prepare<[string], VideoRow>(
      `SELECT ${COLUMNS} FROM videos WHERE reference_image_id = ? ORDER BY created_at DESC LIMIT 25`,
    );
    this.liveForImageStmt = db.prepare<[string], VideoRow>(
      `SELECT ${COLUMNS} FROM videos WHERE reference_image_id = ? AND deleted_at IS NULL ORDER BY created_at`,
    );
    // A video still being made ends here as failed, so it is neither delivered nor resumed; the file its
    // prediction may still write has no row to stand for and is removed.
    this.deleteForImageStmt = db.prepare(`UPDATE videos SET deleted_at = @at, deleted_by = @by,
      status = CASE WHEN status IN ('pending', 'running') THEN 'failed' ELSE status END,
      error_code = CASE WHEN status IN ('pending', 'running') THEN 'provider_error' ELSE error_code END,
      error_message = CASE WHEN status IN ('pending', 'running') THEN 'its reference was deleted'
        ELSE error_message END,
      finished_at = coalesce(finished_at, @at)
      WHERE reference_image_id = @imageId AND deleted_at IS NULL`);
    this.liveFilesStmt = db
      .prepare<[], string>("SELECT file_name FROM videos WHERE file_name IS NOT NULL AND deleted_at IS NULL")
      .pluck();
  }

  /**
   * Marks every video made from an image deleted, with the image; returns them as they were just before.
   * Call inside the transaction that deletes the image.
   */
  markDeletedForImage(imageId: string, at: number, by: string): VideoRow[] {
    const videos = this.liveForImageStmt.all(imageId);
    if (videos.length > 0) this.deleteForImageStmt.run({ imageId, at, by });
    return videos;
  }

  /** The file names rows still stand for: every other file in videos/ is an orphan. */
  liveFileNames(): Set<string> {
    return new Set(this.liveFilesStmt.all());
  }

  insert(row: NewVideo): void {
    this.insertStmt.run(row);
  }

  get(id: string): VideoRow | undefined {
    return this.getStmt.get(id);
  }

  markStarted(id: string, predictionId: string): void {
    this.startedStmt.run({ id, predictionId });
  }

  markSucceeded(
    id: string,
    file: { fileName: string; mime: string; bytes: number; sha256: string },
    outputUrl: string | null,
    finishedAt: number,
  ): void {
    this.succeededStmt.run({ id, ...file, outputUrl, finishedAt });
  }

  /** Marks a video failed; false when it had already ended. */
  markFailed(id: string, errorCode: FailureCode, errorMessage: string, finishedAt: number): boolean {
    return (
      this.failedStmt.run({ id, errorCode, errorMessage: errorMessage.slice(0, 500), finishedAt }).changes > 0
    );
  }

  runningCount(userId: string): number {
    return this.runningStmt.get(userId)?.n ?? 0;
  }

  markDelivered(id: string, at: number): void {
    this.deliveredStmt.run(at, id);
  }

  setMessageId(id: string, messageId: string): void {
    this.messageStmt.run(messageId, id);
  }

  /** Jobs whose result has not reached Discord yet: running, or finished while the bot was away. */
  undelivered(): VideoRow[] {
    return this.undeliveredStmt.all();
  }

  forImage(imageId: string): VideoRow[] {
    return this.byImageStmt.all(imageId);
  }
}
