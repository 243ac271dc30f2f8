// /privacy delete: a member's right to have everything of theirs removed, in every server and DM. One
// transaction scrubs the rows and journals the rest (erasures, pending_deletions, pending_message_edits); the
// work outside the database (predictions cancelled, Replicate uploads deleted, files removed) follows, then the
// Discord layer edits the messages and `complete` closes the journal and checkpoints SQLite's WAL. A crash
// anywhere in between is finished by `unfinished` + `finishWork` + `complete` at the next start.
import { randomUUID } from "node:crypto";
import type { DataStore } from "../../db/data-store.ts";
import type { ErasureCounts, ErasureRow } from "../../db/repositories/erasures-repo.ts";
import type { PendingMessageEdit } from "../../db/repositories/pending-message-edits-repo.ts";
import type { Clock } from "../../kit/clock.ts";
import type { Logger } from "../../kit/logger.ts";
import type { PredictionProvider, ReferenceHost } from "../../providers/types.ts";
import type { Pseudonyms } from "../limits/pseudonyms.ts";
import { type QuotaService, utcDay } from "../limits/quota.ts";
import type { ReferenceService } from "../references/reference-service.ts";

/** A member may erase once in this long: the limit is durable (the journal's pseudonymous rows). */
export const ERASURE_INTERVAL_MS = 60 * 60 * 1000;

export type ErasurePreview = Pick<
  ErasureCounts,
  "generations" | "images" | "videos" | "picks" | "libraryEntries" | "blockedPrompts"
>;

export type ErasureOutcome =
  | {
      ok: true;
      id: string;
      counts: ErasureCounts;
      edits: PendingMessageEdit[];
      /** Library entries removed with the member's images, by server: each server's mod log says so. */
      libraryByGuild: Map<string, string[]>;
      /**
       * Whether the work outside the database (cancels, upload deletes, files) was all done; when not, the
       * erasure stays unfinished and the next start tries that work again before it is completed.
       */
      workDone: boolean;
    }
  | { ok: false; reason: "too_soon"; retryAt: number };

export interface ErasureServiceDeps {
  data: DataStore;
  references: ReferenceService;
  quota: QuotaService;
  pseudonyms: Pseudonyms;
  /** Cancels the member's running predictions and deletes their uploads (the same account for all). */
  predictions: Pick<PredictionProvider<unknown>, "cancel"> & ReferenceHost;
  clock: Clock;
  logger: Logger;
}

export class ErasureService {
  constructor(private readonly deps: ErasureServiceDeps) {}

  /** What an erasure would remove now: the confirmation's summary. */
  preview(userId: string): Promise<ErasurePreview> {
    return this.deps.data.repos.erasureScrub.preview(userId);
  }

  /** When the member may erase again, if not now. */
  async nextAllowed(userId: string): Promise<number | undefined> {
    const latest = await this.deps.data.repos.erasures.latestFor(await this.deps.pseudonyms.of(userId));
    const next = latest ? latest.requestedAt + ERASURE_INTERVAL_MS : 0;
    return next > this.deps.clock.now() ? next : undefined;
  }

  /**
   * Erases everything of the member's in one transaction (under the member's lock, so no request of theirs
   * is admitted halfway), then does the work outside the database. The caller edits the messages (`edits`) and
   * then calls `complete`.
   */
  async erase(userId: string): Promise<ErasureOutcome> {
    const { data, clock, pseudonyms, quota } = this.deps;
    const subject = await pseudonyms.of(userId);
    const outcome = await data.transaction(
      async (tx): Promise<ErasureOutcome> => {
        const now = clock.now();
        const latest = await tx.erasures.latestFor(subject);
        if (latest && latest.requestedAt + ERASURE_INTERVAL_MS > now) {
          return { ok: false, reason: "too_soon", retryAt: latest.requestedAt + ERASURE_INTERVAL_MS };
        }
        const scrub = await tx.erasureScrub.scrub({ userId, subject, now, today: utcDay(now) });
        await tx.pendingDeletions.schedule(scrub.files, now);
        await tx.pendingMessageEdits.schedule(scrub.edits, now);
        // A video still being made costs nothing (a refund never gives back more than the job holds; an image
        // slot's goes back when its generation settles, as for any failed slot).
        for (const videoId of scrub.openVideos) await quota.refund(videoId, "video", 1, tx);
        const id = randomUUID();
        const counts = { ...scrub.counts, uploads: scrub.uploads.length };
        const work = { uploads: scrub.uploads, predictions: scrub.predictions, files: scrub.files };
        await tx.erasures.insert({ id, subject, userId, requestedAt: now, work, counts });
        return {
          ok: true,
          id,
          counts,
          edits: scrub.edits,
          libraryByGuild: scrub.libraryByGuild,
          workDone: false,
        };
      },
      { locks: [`user:${userId}`] },
    );
    if (!outcome.ok) return outcome;
    let workDone = false;
    try {
      workDone = await this.finishWork(outcome.id);
    } catch (err) {
      // Committed already: what failed (a cancel, an upload delete) is tried again at the next start.
      this.deps.logger.warn({ err, erasureId: outcome.id }, "erasure work outside the database failed");
    }
    return { ...outcome, workDone };
  }

  /** Erasures a crash left unfinished: the next start finishes them. */
  unfinished(): Promise<string[]> {
    return this.deps.data.repos.erasures.unfinished();
  }

  /**
   * The work outside the database: predictions cancelled, uploads deleted, files removed. Each step may be
   * repeated (a cancel of an ended prediction, a delete of a deleted upload or file does nothing); false when
   * something could not be done (it is tried again at the next start).
   */
  async finishWork(id: string): Promise<boolean> {
    const row = await this.deps.data.repos.erasures.get(id);
    if (!row || row.finishedAt !== null) return true;
    const { predictions, logger } = this.deps;
    for (const predictionId of row.work.predictions) await predictions.cancel(predictionId);
    let done = await this.forgetUploads(row);
    await this.deps.references.removeScheduled(row.work.files);
    const left = await this.deps.data.repos.pendingDeletions.all();
    if (row.work.files.some((f) => left.includes(f))) done = false;
    if (!done) logger.warn({ erasureId: id }, "an erasure is not finished; the next start finishes it");
    return done;
  }

  private async forgetUploads(row: ErasureRow): Promise<boolean> {
    const forget = this.deps.predictions.forgetReference;
    if (!forget) return true;
    let done = true;
    for (const url of row.work.uploads) {
      try {
        await forget.call(this.deps.predictions, url);
      } catch (err) {
        done = false;
        this.deps.logger.warn({ err, erasureId: row.id }, "could not delete an uploaded reference");
      }
    }
    return done;
  }

  /**
   * The messages are edited: the journal forgets the member, the scrubbed rows forget how to reach the
   * interactions, and SQLite's write-ahead log is checkpointed and truncated so no old page holds what was
   * erased.
   */
  async complete(id: string): Promise<void> {
    const { data, clock } = this.deps;
    await data.transaction(async (tx) => {
      await tx.erasureScrub.forgetInteractions();
      await tx.erasures.finish(id, clock.now());
    });
    await data.checkpoint();
  }
}
