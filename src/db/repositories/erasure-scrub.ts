// What /privacy delete does to the rows, in the erasure's transaction: every row of the member's is removed or
// kept as a tombstone with no text and no id of theirs (`ERASED`), every row of others' that named them names
// their pseudonym instead, and what is still to be done outside the database (files, uploads, predictions,
// messages) is read before the rows that name it are scrubbed. Bulk statements keyed by the member's id.
import type { ExpressionBuilder } from "kysely";
import type { Executor } from "../database.ts";
import type { Tables } from "../schema.ts";
import { ownGenerations, ownImages, scrubLineage, videosFramedBy } from "./erasure-links.ts";
import type { ErasureCounts } from "./erasures-repo.ts";
import type { PendingMessageEdit } from "./pending-message-edits-repo.ts";
import { uploadedUrlsOf } from "./videos-repo.ts";

/** What a scrubbed row's owner and deleter read: no member's id, and what the bot's messages say for it. */
export const ERASED = "erased";
const OPEN = ["pending", "running"] as const;

/** Everything the scrub found that lives outside the database, and the counts. */
export interface ScrubResult {
  counts: ErasureCounts;
  files: string[];
  uploads: string[];
  predictions: string[];
  edits: PendingMessageEdit[];
  /** Videos that were still being made: their reservations go back. */
  openVideos: string[];
  /** The library entries removed with the member's images, by server: the mod log says so. */
  libraryByGuild: Map<string, string[]>;
}

export interface ScrubRequest {
  userId: string;
  subject: string;
  now: number;
  /** Today's UTC day: the ledger keeps only its rows. */
  today: string;
}

export class ErasureScrub {
  constructor(private readonly db: Executor) {}

  private ownGenerations(userId: string) {
    return ownGenerations(this.db, userId);
  }

  private ownImages(userId: string) {
    return ownImages(this.db, userId);
  }

  /** What an erasure would remove now, without changing anything (the confirmation's summary). */
  async preview(
    userId: string,
  ): Promise<
    Pick<ErasureCounts, "generations" | "images" | "videos" | "picks" | "libraryEntries" | "blockedPrompts">
  > {
    const count = async (q: { executeTakeFirst(): Promise<{ n: number | string | bigint } | undefined> }) =>
      Number((await q.executeTakeFirst())?.n ?? 0);
    const own = this.ownImages(userId);
    return {
      generations: await count(
        this.db
          .selectFrom("generations")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("userId", "=", userId),
      ),
      images: await count(
        this.db
          .selectFrom("images")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("generationId", "in", this.ownGenerations(userId))
          .where("status", "=", "succeeded")
          .where("deletedAt", "is", null),
      ),
      videos: await count(
        this.db
          .selectFrom("videos")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("userId", "=", userId)
          .where("deletedAt", "is", null),
      ),
      picks: await count(
        this.db
          .selectFrom("selections")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("userId", "=", userId),
      ),
      libraryEntries: await count(
        this.db
          .selectFrom("libraryEntries")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("imageId", "in", own),
      ),
      blockedPrompts: await count(
        this.db
          .selectFrom("auditLog")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("actorId", "=", userId)
          .where("action", "=", "prompt_blocked"),
      ),
    };
  }

  /** Scrubs everything of the member's; the caller's transaction holds the member's lock. */
  async scrub(request: ScrubRequest): Promise<ScrubResult> {
    const counts = await this.preview(request.userId);
    const images = await this.scrubImages(request);
    const videos = await this.scrubVideos(request);
    const library = await this.scrubLibrary(request);
    // Data exports (/privacy export): their rows, and any ZIP still stored behind a link.
    const exports = await this.db
      .deleteFrom("dataExports")
      .where("userId", "=", request.userId)
      .returning("fileName")
      .execute();
    const picks = await this.db
      .deleteFrom("selections")
      .where((eb) =>
        eb.or([eb("userId", "=", request.userId), eb("imageId", "in", this.ownImages(request.userId))]),
      )
      .executeTakeFirst();
    const generations = await this.scrubGenerations(request);
    const ledger = await this.scrubLedger(request);
    await this.scrubAudit(request);
    return {
      counts: {
        ...counts,
        picks: Number(picks.numDeletedRows),
        uploads: 0,
        cancelled: images.predictions.length + videos.predictions.length + images.queued + videos.queued,
        ...ledger,
      },
      files: [
        ...images.files,
        ...videos.files,
        ...library.files,
        ...exports.flatMap((e) => (e.fileName ? [e.fileName] : [])),
      ],
      uploads: [...new Set([...generations.uploads, ...videos.uploads])],
      predictions: [...images.predictions, ...videos.predictions],
      edits: [...generations.edits, ...videos.edits],
      openVideos: videos.open,
      libraryByGuild: library.byGuild,
    };
  }

  /** Every slot of the member's generations: deleted, its file scheduled, a slot still running ended. */
  private async scrubImages({ userId, subject, now }: ScrubRequest) {
    const rows = await this.db
      .selectFrom("images")
      .select(["id", "fileName", "status", "predictionId"])
      .where("generationId", "in", this.ownGenerations(userId))
      .execute();
    const open = rows.filter((r) => (OPEN as readonly string[]).includes(r.status));
    // What the member deleted as a moderator names them: their pseudonym now.
    await this.db.updateTable("images").set({ deletedBy: subject }).where("deletedBy", "=", userId).execute();
    await this.db
      .updateTable("images")
      .set({ status: "failed", errorCode: "erased", finishedAt: now })
      .where("generationId", "in", this.ownGenerations(userId))
      .where("status", "in", OPEN)
      .execute();
    await this.db
      .updateTable("images")
      .set({ deletedAt: now })
      .where("generationId", "in", this.ownGenerations(userId))
      .where("deletedAt", "is", null)
      .execute();
    await this.db
      .updateTable("images")
      .set({ deletedBy: ERASED, errorMessage: null, sha256: null })
      .where("generationId", "in", this.ownGenerations(userId))
      .execute();
    return {
      files: rows.flatMap((r) => (r.fileName ? [r.fileName] : [])),
      predictions: open.flatMap((r) => (r.predictionId ? [r.predictionId] : [])),
      queued: open.filter((r) => !r.predictionId).length,
    };
  }

  /**
   * The member's videos, and others' videos made from the member's images: started from one, ending on one or
   * given one as a reference image (they show the member's image).
   */
  private async scrubVideos({ userId, subject, now }: ScrubRequest) {
    const framed = await videosFramedBy(this.db, userId);
    const whose = (eb: ExpressionBuilder<Tables, "videos">) =>
      eb.or([
        eb("userId", "=", userId),
        eb("referenceImageId", "in", this.ownImages(userId)),
        ...(framed.length > 0 ? [eb("id", "in", framed)] : []),
      ]);
    const rows = await this.videosQuery().where(whose).execute();
    const open = rows.filter((r) => (OPEN as readonly string[]).includes(r.status));
    await this.db.updateTable("videos").set({ deletedBy: subject }).where("deletedBy", "=", userId).execute();
    await this.db
      .updateTable("videos")
      .set({ status: "failed", errorCode: "erased", finishedAt: now })
      .where(whose)
      .where("status", "in", OPEN)
      .execute();
    await this.db
      .updateTable("videos")
      .set({ deletedAt: now })
      .where(whose)
      .where("deletedAt", "is", null)
      .execute();
    // Others' videos keep their own prompt; only the upload of the member's image (params) goes.
    await this.db
      .updateTable("videos")
      .set({ deletedBy: ERASED, params: "{}", outputUrl: null, sha256: null, errorMessage: null })
      .where(whose)
      .execute();
    await this.db
      .updateTable("videos")
      .set({ userId: ERASED, prompt: "" })
      .where("userId", "=", userId)
      .execute();
    return {
      files: rows.flatMap((r) => (r.fileName ? [r.fileName] : [])),
      uploads: rows.flatMap((r) => uploadedUrlsOf(r)),
      predictions: open.flatMap((r) => (r.predictionId ? [r.predictionId] : [])),
      queued: open.filter((r) => !r.predictionId).length,
      open: open.map((r) => r.id),
      edits: rows.map((r) => ({ kind: "video" as const, jobId: r.id })),
    };
  }

  private videosQuery() {
    return this.db.selectFrom("videos").select(["id", "fileName", "status", "predictionId", "params"]);
  }

  /** The libraries' entries of the member's images go (with their previews); entries they added lose their name. */
  private async scrubLibrary({ userId, subject }: ScrubRequest) {
    const entries = await this.db
      .selectFrom("libraryEntries")
      .select(["id", "guildId", "name", "thumbnailFile"])
      .where("imageId", "in", this.ownImages(userId))
      .execute();
    await this.db.deleteFrom("libraryEntries").where("imageId", "in", this.ownImages(userId)).execute();
    // An entry the member added of someone else's image is the server's: it stays, without their note.
    await this.db
      .updateTable("libraryEntries")
      .set({ addedBy: subject, note: null })
      .where("addedBy", "=", userId)
      .execute();
    const byGuild = new Map<string, string[]>();
    for (const e of entries) byGuild.set(e.guildId, [...(byGuild.get(e.guildId) ?? []), e.name]);
    return { files: entries.flatMap((e) => (e.thumbnailFile ? [e.thumbnailFile] : [])), byGuild };
  }

  /** The member's generations lose every text and id; others' drawn from the member's images lose the link. */
  private async scrubGenerations({ userId }: ScrubRequest) {
    const lineage = await scrubLineage(this.db, userId);
    const own = await this.db
      .selectFrom("generations")
      .select(["id", "referenceUrl"])
      .where("userId", "=", userId)
      .execute();
    const children = await this.db
      .selectFrom("generations")
      .select(["id", "referenceUrl"])
      .where("parentImageId", "in", this.ownImages(userId))
      .where("userId", "<>", userId)
      .execute();
    await this.db
      .updateTable("generations")
      .set({ parentImageId: null, referenceUrl: null })
      .where("parentImageId", "in", this.ownImages(userId))
      .execute();
    await this.db
      .updateTable("generations")
      .set({ userId: ERASED, prompt: "", params: "{}", parentImageId: null, referenceUrl: null })
      .where("userId", "=", userId)
      .execute();
    const edited = new Set([...own, ...children].map((g) => g.id));
    return {
      uploads: [
        ...[...own, ...children].flatMap((g) => (g.referenceUrl ? [g.referenceUrl] : [])),
        ...lineage.uploads,
      ],
      edits: [
        ...[...own, ...children].map((g) => ({ kind: "grid" as const, jobId: g.id })),
        ...lineage.children
          .filter((id) => !edited.has(id))
          .map((id) => ({ kind: "grid" as const, jobId: id })),
      ],
    };
  }

  /**
   * Once their messages were edited, erased rows no longer need the interactions (tokens, ids) nor the
   * predictions of slots and videos that ended.
   */
  async forgetInteractions(): Promise<void> {
    await this.db
      .updateTable("generations")
      .set({ interactionId: null, interactionToken: null, applicationId: null })
      .where("userId", "=", ERASED)
      .where("status", "<>", "running")
      .execute();
    await this.db
      .updateTable("videos")
      .set({ interactionId: null, interactionToken: null, applicationId: null, predictionId: null })
      .where("userId", "=", ERASED)
      .where("status", "not in", OPEN)
      .execute();
    await this.db
      .updateTable("images")
      .set({ predictionId: null })
      .where("deletedBy", "=", ERASED)
      .where("status", "not in", OPEN)
      .execute();
  }

  /** Only today's rows stay (the allowances count them until midnight), under the pseudonym. */
  private async scrubLedger({ userId, subject, today }: ScrubRequest) {
    const deleted = await this.db
      .deleteFrom("usageLedger")
      .where("userId", "=", userId)
      .where("day", "<>", today)
      .executeTakeFirst();
    const kept = await this.db
      .updateTable("usageLedger")
      .set({ userId: subject })
      .where("userId", "=", userId)
      .executeTakeFirst();
    return { ledgerRowsKept: Number(kept.numUpdatedRows), ledgerRowsDeleted: Number(deleted.numDeletedRows) };
  }

  /** Audit rows stay for moderators, under the pseudonym and without a prompt or a note in their details. */
  private async scrubAudit({ userId, subject }: ScrubRequest) {
    const rows = await this.db
      .selectFrom("auditLog")
      .select(["id", "actorId", "targetUserId", "details"])
      .where((eb) => eb.or([eb("actorId", "=", userId), eb("targetUserId", "=", userId)]))
      .execute();
    for (const row of rows) {
      await this.db
        .updateTable("auditLog")
        .set({
          actorId: row.actorId === userId ? subject : row.actorId,
          targetUserId: row.targetUserId === userId ? subject : row.targetUserId,
          details: scrubDetails(row.details),
        })
        .where("id", "=", row.id)
        .execute();
    }
    await this.db
      .updateTable("guildSettings")
      .set({ updatedBy: subject })
      .where("updatedBy", "=", userId)
      .execute();
  }
}

/** An audit row's details without the member's words: a blocked prompt's text, a note. */
function scrubDetails(raw: string): string {
  try {
    const details = JSON.parse(raw) as Record<string, unknown>;
    const { prompt: _prompt, note: _note, ...kept } = details;
    return JSON.stringify({ ...kept, ...("prompt" in details ? { prompt: null } : {}) });
  } catch {
    return "{}";
  }
}
