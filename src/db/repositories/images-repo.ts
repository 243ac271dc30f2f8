// The images table: one row per slot of a generation; a succeeded row names its file in the file store.
import type { FailureCode } from "../../kit/failures.ts";
import type { Executor } from "../database.ts";
import type { ImagesTable } from "../schema.ts";
import { JobRows, type JobState } from "./job-rows.ts";

export type ImageStatus = ImagesTable["status"];

/** A slot as the bot reads it: every column but the create mark, which only JobRows reads. */
export interface ImageRow extends Omit<ImagesTable, "createSentAt" | "errorCode" | "predictMs"> {
  errorCode: FailureCode | null;
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

const COLUMNS = [
  "i.id",
  "i.generationId",
  "i.slot",
  "i.status",
  "i.model",
  "i.predictionId",
  "i.fileName",
  "i.mime",
  "i.bytes",
  "i.width",
  "i.height",
  "i.sha256",
  "i.errorCode",
  "i.errorMessage",
  "i.createdAt",
  "i.finishedAt",
  "i.deletedAt",
  "i.deletedBy",
] as const;
const OWNER = ["g.userId", "g.guildId", "g.prompt", "g.params"] as const;
const OPEN = ["pending", "running"] as const;

export class ImagesRepo {
  /** The row's prediction job columns: whether to create, recover or poll. */
  readonly jobs: JobRows;

  constructor(private readonly db: Executor) {
    this.jobs = new JobRows(db, "images");
  }

  private withOwner() {
    return this.db
      .selectFrom("images as i")
      .innerJoin("generations as g", "g.id", "i.generationId")
      .select([...COLUMNS, ...OWNER]);
  }

  /** Marks a stored image deleted (its file is removed by the caller); false when it already was. */
  async markDeleted(id: string, at: number, by: string): Promise<boolean> {
    const result = await this.db
      .updateTable("images")
      .set({ deletedAt: at, deletedBy: by })
      .where("id", "=", id)
      .where("deletedAt", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** The file names rows still stand for: every other file in images/ is an orphan. */
  async liveFileNames(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom("images")
      .select("fileName")
      .where("fileName", "is not", null)
      .where("deletedAt", "is", null)
      .execute();
    return new Set(rows.map((r) => r.fileName as string));
  }

  async insertPending(id: string, generationId: string, slot: number, createdAt: number): Promise<void> {
    await this.db
      .insertInto("images")
      .values({ id, generationId, slot, status: "pending", createdAt })
      .execute();
  }

  /** What each slot's prediction job reads (JobRows.state), for all of a generation's slots in one query. */
  async jobStates(generationId: string): Promise<Map<string, JobState>> {
    const rows = await this.db
      .selectFrom("images")
      .select(["id", "status", "predictionId", "createSentAt", "model"])
      .where("generationId", "=", generationId)
      .execute();
    return new Map(rows.map(({ id, ...state }) => [id, state]));
  }

  async forGeneration(generationId: string): Promise<ImageRow[]> {
    const rows = await this.db
      .selectFrom("images as i")
      .select(COLUMNS)
      .where("i.generationId", "=", generationId)
      .orderBy("i.slot")
      .execute();
    return rows as ImageRow[];
  }

  async get(id: string): Promise<ImageWithOwner | undefined> {
    return (await this.withOwner().where("i.id", "=", id).executeTakeFirst()) as ImageWithOwner | undefined;
  }

  /**
   * Records the prediction id the moment it exists: a restart polls it instead of paying again. False when
   * the row has ended or already records another prediction (two runs' creates: the first one recorded wins).
   */
  async markStarted(id: string, predictionId: string, model: string): Promise<boolean> {
    const result = await this.db
      .updateTable("images")
      .set({ status: "running", predictionId, model })
      .where("id", "=", id)
      .where("status", "in", OPEN)
      .where((eb) => eb.or([eb("predictionId", "is", null), eb("predictionId", "=", predictionId)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Records a stored image; says whether its row was deleted meanwhile (a purge while it was being made), in
   * the same statement, or undefined when the row had already ended or is gone.
   */
  async markSucceeded(
    id: string,
    file: StoredFileFacts,
    finishedAt: number,
    predictMs?: number,
  ): Promise<{ deleted: boolean } | undefined> {
    const row = await this.db
      .updateTable("images")
      .set({
        status: "succeeded",
        fileName: file.fileName,
        mime: file.mime,
        bytes: file.bytes,
        width: file.width,
        height: file.height,
        sha256: file.sha256,
        finishedAt,
        predictMs: predictMs === undefined ? null : Math.round(predictMs),
      })
      .where("id", "=", id)
      .where("status", "in", OPEN)
      .returning("deletedAt")
      .executeTakeFirst();
    return row && { deleted: row.deletedAt !== null };
  }

  /** The running times (ms) of `model`'s latest predictions that reported one, oldest first. */
  async recentPredictionTimes(model: string, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom("images")
      .select(["predictMs", "finishedAt"])
      .where("model", "=", model)
      .where("predictMs", "is not", null)
      .orderBy("finishedAt", "desc")
      .limit(limit)
      .execute();
    return rows.reverse().map((r) => Number(r.predictMs));
  }

  async markFailed(
    id: string,
    errorCode: FailureCode,
    errorMessage: string,
    finishedAt: number,
  ): Promise<void> {
    await this.db
      .updateTable("images")
      .set({ status: "failed", errorCode, errorMessage: errorMessage.slice(0, 500), finishedAt })
      .where("id", "=", id)
      .where("status", "in", OPEN)
      .execute();
  }

  /** A user's stored images in one guild (or in DMs when guildId is null), newest first. */
  async listByUser(
    userId: string,
    guildId: string | null,
    limit: number,
    offset: number,
  ): Promise<ImageWithOwner[]> {
    const rows = await this.withOwner()
      .where("g.userId", "=", userId)
      .where("g.guildId", "is not distinct from", guildId)
      .where("i.status", "=", "succeeded")
      .where("i.deletedAt", "is", null)
      .orderBy("i.finishedAt", "desc")
      .orderBy("i.slot")
      .limit(limit)
      .offset(offset)
      .execute();
    return rows as ImageWithOwner[];
  }

  /** A user's slots in one guild still being made (pending or running), not deleted. */
  async unfinishedByUser(userId: string, guildId: string | null): Promise<ImageWithOwner[]> {
    const rows = await this.withOwner()
      .where("g.userId", "=", userId)
      .where("g.guildId", "is not distinct from", guildId)
      .where("i.status", "in", OPEN)
      .where("i.deletedAt", "is", null)
      .execute();
    return rows as ImageWithOwner[];
  }

  async countByUser(userId: string, guildId: string | null): Promise<number> {
    const row = await this.db
      .selectFrom("images as i")
      .innerJoin("generations as g", "g.id", "i.generationId")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("g.userId", "=", userId)
      .where("g.guildId", "is not distinct from", guildId)
      .where("i.status", "=", "succeeded")
      .where("i.deletedAt", "is", null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
