// The videos table: one row per /video request, linked to its reference image and that image's generation.

import type { ExpressionBuilder } from "kysely";
import type { FailureCode } from "../../kit/failures.ts";
import type { Executor } from "../database.ts";
import type { Tables, VideosTable } from "../schema.ts";
import { JobRows } from "./job-rows.ts";

export type VideoStatus = VideosTable["status"];

/** A video as the bot reads it: every column but the create mark, which only JobRows reads. */
export interface VideoRow extends Omit<VideosTable, "createSentAt" | "errorCode"> {
  errorCode: FailureCode | null;
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
> &
  Partial<Pick<VideoRow, "locale" | "publicLocale">> & { delivery?: VideosTable["delivery"] };

const COLUMNS = [
  "id",
  "referenceImageId",
  "generationId",
  "guildId",
  "channelId",
  "userId",
  "prompt",
  "model",
  "params",
  "status",
  "predictionId",
  "fileName",
  "mime",
  "bytes",
  "sha256",
  "outputUrl",
  "errorCode",
  "errorMessage",
  "interactionId",
  "interactionToken",
  "applicationId",
  "messageId",
  "createdAt",
  "finishedAt",
  "deliveredAt",
  "deletedAt",
  "deletedBy",
  "locale",
  "publicLocale",
  "delivery",
  "deliveredLaterAt",
  "laterNoticeAt",
] as const;
const OPEN = ["pending", "running"] as const;

/**
 * The videos that show an image: started from it (`referenceImageId`), or naming it in their params as their end
 * frame or a reference image (`"<id>"` appears there only as those, or as the key of that image's upload URL).
 * Image ids are UUIDs, so the pattern holds no LIKE wildcard. A scan of the params: only deletions ask it.
 */
function showsImage(imageId: string) {
  if (!/^[0-9a-f-]{36}$/i.test(imageId)) throw new Error("an image id is a UUID");
  return (eb: ExpressionBuilder<Tables, "videos">) =>
    eb.or([eb("referenceImageId", "=", imageId), eb("params", "like", `%"${imageId}"%`)]);
}

export class VideosRepo {
  /** The row's prediction job columns: whether to create, recover or poll. */
  readonly jobs: JobRows;

  constructor(private readonly db: Executor) {
    this.jobs = new JobRows(db, "videos");
  }

  /**
   * Marks every video made from an image deleted (started from it, ending on it, or with it among its reference
   * images), with the image; returns them as they were just before.
   * Call inside the transaction that deletes the image. A video still being made ends here as failed, so it is
   * neither delivered nor resumed; the file its prediction may still write has no row to stand for and is
   * removed.
   */
  async markDeletedForImage(imageId: string, at: number, by: string): Promise<VideoRow[]> {
    const videos = (await this.db
      .selectFrom("videos")
      .select(COLUMNS)
      .where(showsImage(imageId))
      .where("deletedAt", "is", null)
      .orderBy("createdAt")
      .execute()) as VideoRow[];
    if (videos.length === 0) return videos;
    await this.db
      .updateTable("videos")
      .set({ deletedAt: at, deletedBy: by })
      .where(showsImage(imageId))
      .where("deletedAt", "is", null)
      .execute();
    await this.db
      .updateTable("videos")
      .set((eb) => ({
        status: "failed",
        errorCode: "provider_error",
        errorMessage: "its reference was deleted",
        finishedAt: eb.fn.coalesce("finishedAt", eb.val(at)),
      }))
      .where(showsImage(imageId))
      .where("deletedAt", "=", at)
      .where("status", "in", OPEN)
      .execute();
    return videos;
  }

  /** The file names rows still stand for: every other file in videos/ is an orphan. */
  async liveFileNames(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom("videos")
      .select("fileName")
      .where("fileName", "is not", null)
      .where("deletedAt", "is", null)
      .execute();
    return new Set(rows.map((r) => r.fileName as string));
  }

  async insert(row: NewVideo): Promise<void> {
    await this.db
      .insertInto("videos")
      .values({
        id: row.id,
        referenceImageId: row.referenceImageId,
        generationId: row.generationId,
        guildId: row.guildId,
        channelId: row.channelId,
        userId: row.userId,
        prompt: row.prompt,
        model: row.model,
        params: row.params,
        interactionId: row.interactionId,
        interactionToken: row.interactionToken,
        applicationId: row.applicationId,
        locale: row.locale ?? null,
        publicLocale: row.publicLocale ?? null,
        createdAt: row.createdAt,
        status: "pending",
        delivery: row.delivery ?? "channel",
      })
      .execute();
  }

  async get(id: string): Promise<VideoRow | undefined> {
    return (await this.db.selectFrom("videos").select(COLUMNS).where("id", "=", id).executeTakeFirst()) as
      | VideoRow
      | undefined;
  }

  /** As ImagesRepo.markStarted: false when the row has ended or already records another prediction. */
  async markStarted(id: string, predictionId: string): Promise<boolean> {
    const result = await this.db
      .updateTable("videos")
      .set({ status: "running", predictionId })
      .where("id", "=", id)
      .where("status", "in", OPEN)
      .where((eb) => eb.or([eb("predictionId", "is", null), eb("predictionId", "=", predictionId)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async markSucceeded(
    id: string,
    file: { fileName: string; mime: string; bytes: number; sha256: string },
    outputUrl: string | null,
    finishedAt: number,
  ): Promise<void> {
    await this.db
      .updateTable("videos")
      .set({
        status: "succeeded",
        fileName: file.fileName,
        mime: file.mime,
        bytes: file.bytes,
        sha256: file.sha256,
        outputUrl,
        finishedAt,
      })
      .where("id", "=", id)
      .where("status", "in", OPEN)
      .execute();
  }

  /**
   * Records where one of the video's images was uploaded for its create (`image`: "start" for the start
   * reference, kept in `params.referenceUrl`; else the image's id, in `params.uploadedUrls`), unless a URL is
   * recorded for it already, and returns the recorded one: every run and every process then sends the same
   * input, so a create lost in a restart can be found again by it. The params are replaced only while they are
   * as read (two processes recording at once: the second reads the first's URL on its next try).
   */
  async rememberUploadedUrl(id: string, image: string, url: string): Promise<string | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await this.db.selectFrom("videos").select("params").where("id", "=", id).executeTakeFirst();
      if (!row) return undefined;
      const known = uploadedUrlOf(row, image);
      if (known) return known;
      const params = videoParamsOf(row);
      const next: VideoParams =
        image === "start"
          ? { ...params, referenceUrl: url }
          : { ...params, uploadedUrls: { ...params.uploadedUrls, [image]: url } };
      const result = await this.db
        .updateTable("videos")
        .set({ params: JSON.stringify(next) })
        .where("id", "=", id)
        .where("params", "=", row.params)
        .executeTakeFirst();
      if (result.numUpdatedRows > 0n) return url;
    }
    return uploadedUrlOf(
      await this.db.selectFrom("videos").select("params").where("id", "=", id).executeTakeFirst(),
      image,
    );
  }

  /** Marks a video failed; false when it had already ended. */
  async markFailed(
    id: string,
    errorCode: FailureCode,
    errorMessage: string,
    finishedAt: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("videos")
      .set({ status: "failed", errorCode, errorMessage: errorMessage.slice(0, 500), finishedAt })
      .where("id", "=", id)
      .where("status", "in", OPEN)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async runningCount(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom("videos")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("userId", "=", userId)
      .where("status", "in", OPEN)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async markDelivered(id: string, at: number): Promise<void> {
    await this.db.updateTable("videos").set({ deliveredAt: at }).where("id", "=", id).execute();
  }

  async setMessageId(id: string, messageId: string): Promise<void> {
    await this.db.updateTable("videos").set({ messageId }).where("id", "=", id).execute();
  }

  /** Jobs whose result has not reached Discord yet: running, or finished while the bot was away. */
  async undelivered(): Promise<VideoRow[]> {
    return (await this.db
      .selectFrom("videos")
      .select(COLUMNS)
      .where("deliveredAt", "is", null)
      .orderBy("createdAt")
      .execute()) as VideoRow[];
  }

  async forImage(imageId: string): Promise<VideoRow[]> {
    return (await this.db
      .selectFrom("videos")
      .select(COLUMNS)
      .where("referenceImageId", "=", imageId)
      .orderBy("createdAt", "desc")
      .limit(25)
      .execute()) as VideoRow[];
  }

  /**
   * The latest `limit` live videos made from an image, newest first; `userId`: only that member's. A library
   * image may have thousands: the limit keeps one reply from reading them all (countForImage counts them).
   */
  async latestForImage(imageId: string, limit: number, userId?: string): Promise<VideoRow[]> {
    let query = this.db
      .selectFrom("videos")
      .select(COLUMNS)
      .where("referenceImageId", "=", imageId)
      .where("deletedAt", "is", null);
    if (userId !== undefined) query = query.where("userId", "=", userId);
    return (await query.orderBy("createdAt", "desc").limit(limit).execute()) as VideoRow[];
  }

  /** How many live videos were made from an image; `userId`: only that member's. */
  async countForImage(imageId: string, userId?: string): Promise<number> {
    let query = this.db
      .selectFrom("videos")
      .select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("referenceImageId", "=", imageId)
      .where("deletedAt", "is", null);
    if (userId !== undefined) query = query.where("userId", "=", userId);
    const row = await query.executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}

/** What a video row's `params` (JSON) hold: what was asked beyond the prompt, and where images were uploaded. */
export interface VideoParams {
  /** The table model chosen (the row's own model is the mock's in mock mode). */
  spec?: string;
  durationSeconds?: number;
  /** Absent where the video follows its start image. */
  aspectRatio?: string;
  /** The last frame, a stored image. */
  endImageId?: string;
  /** References beyond the start one, sent with it as the model's reference images. */
  referenceImageIds?: string[];
  /** Where the start reference was uploaded (see rememberUploadedUrl). */
  referenceUrl?: string;
  /** Where each other image was uploaded, by image id. */
  uploadedUrls?: Record<string, string>;
}

/** A row's params; `{}` when they cannot be read (never written so, but a row is not trusted to be well-formed). */
export function videoParamsOf(row: { params: string }): VideoParams {
  try {
    const parsed: unknown = JSON.parse(row.params);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as VideoParams) : {};
  } catch {
    return {};
  }
}

/** The URL recorded for one of a row's images ("start", or an image id), if any (see rememberUploadedUrl). */
export function uploadedUrlOf(row: { params: string } | undefined, image: string): string | undefined {
  if (!row) return undefined;
  const params = videoParamsOf(row);
  const url = image === "start" ? params.referenceUrl : params.uploadedUrls?.[image];
  return typeof url === "string" ? url : undefined;
}

/** Every upload URL a video row recorded: its start reference's and its other images' (to delete them all). */
export function uploadedUrlsOf(row: { params: string }): string[] {
  const params = videoParamsOf(row);
  return [params.referenceUrl, ...Object.values(params.uploadedUrls ?? {})].filter(
    (url): url is string => typeof url === "string",
  );
}

/** The start reference's URL a video row recorded, if any. */
export function referenceUrlOf(row: { params: string } | undefined): string | undefined {
  return uploadedUrlOf(row, "start");
}

/**
 * The member's jobs still running, images and videos together, as two selections of any query (an admission's
 * reads, AdmissionReads): generations running, videos open.
 */
export function runningJobCounts(db: Executor, userId: string) {
  return [
    db
      .selectFrom("generations")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("userId", "=", userId)
      .where("status", "=", "running")
      .as("runningImages"),
    db
      .selectFrom("videos")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("userId", "=", userId)
      .where("status", "in", OPEN)
      .as("runningVideos"),
  ] as const;
}

/** The total of a runningJobCounts row. */
export function runningJobsOf(
  row: { runningImages: number | string | null; runningVideos: number | string | null } | undefined,
): number {
  return Number(row?.runningImages ?? 0) + Number(row?.runningVideos ?? 0);
}
