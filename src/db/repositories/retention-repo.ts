// What the retention sweep clears and removes: expired interaction tokens, old prompts of failed and blocked
// requests, old deletion tombstones, and the data of a server the bot left long enough ago.
import type { Executor } from "../database.ts";

/** How many rows one statement of the sweep touches at most: a long backlog is cleared in several. */
export const SWEEP_BATCH = 500;

/** What removing a departed server's data took, for the log and the files to remove after the commit. */
export interface GuildPurge {
  settings: number;
  libraryEntries: number;
  auditRows: number;
  /** The library's previews: removed once the transaction committed (pending_deletions has them). */
  thumbnailFiles: string[];
}

export class RetentionRepo {
  constructor(private readonly db: Executor) {}

  /** Clears the interaction tokens of generations and videos created before `before`; how many were cleared. */
  async clearTokens(before: number): Promise<number> {
    const generations = await this.db
      .updateTable("generations")
      .set({ interactionToken: null })
      .where("interactionToken", "is not", null)
      .where("createdAt", "<", before)
      .executeTakeFirst();
    const videos = await this.db
      .updateTable("videos")
      .set({ interactionToken: null })
      .where("interactionToken", "is not", null)
      .where("createdAt", "<", before)
      .executeTakeFirst();
    return Number(generations.numUpdatedRows) + Number(videos.numUpdatedRows);
  }

  /** Empties the prompts of failed generations and videos created before `before`; how many were emptied. */
  async forgetFailedPrompts(before: number): Promise<number> {
    const generations = await this.db
      .updateTable("generations")
      .set({ prompt: "" })
      .where("status", "=", "failed")
      .where("createdAt", "<", before)
      .where("prompt", "<>", "")
      .executeTakeFirst();
    const videos = await this.db
      .updateTable("videos")
      .set({ prompt: "" })
      .where("status", "=", "failed")
      .where("createdAt", "<", before)
      .where("prompt", "<>", "")
      .executeTakeFirst();
    return Number(generations.numUpdatedRows) + Number(videos.numUpdatedRows);
  }

  /** Audit rows made before `before` whose details still carry a prompt (a blocked request's), a batch of them after `afterId`. */
  async auditRowsWithPrompts(
    before: number,
    afterId: number,
  ): Promise<Array<{ id: number; details: string }>> {
    const rows = await this.db
      .selectFrom("auditLog")
      .select(["id", "details"])
      .where("createdAt", "<", before)
      .where("id", ">", afterId)
      .where("details", "like", '%"prompt":%')
      .orderBy("id")
      .limit(SWEEP_BATCH)
      .execute();
    return rows.map((r) => ({ id: Number(r.id), details: r.details }));
  }

  async setAuditDetails(id: number, details: string): Promise<void> {
    await this.db.updateTable("auditLog").set({ details }).where("id", "=", id).execute();
  }

  /**
   * Removes the rows of videos and images deleted before `before` (their files went at the deletion), then the
   * generations left with no image and no video; how many rows went. An image a live video or a library entry
   * still names stays (neither happens after a deletion, which takes both with it).
   */
  async purgeTombstones(before: number): Promise<number> {
    const videos = await this.db
      .deleteFrom("videos")
      .where("deletedAt", "is not", null)
      .where("deletedAt", "<", before)
      .executeTakeFirst();
    const images = await this.db
      .deleteFrom("images as i")
      .where("i.deletedAt", "is not", null)
      .where("i.deletedAt", "<", before)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom("videos as v").select("v.id").whereRef("v.referenceImageId", "=", "i.id"))),
      )
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom("libraryEntries as l").select("l.id").whereRef("l.imageId", "=", "i.id"))),
      )
      .executeTakeFirst();
    const generations = Number(images.numDeletedRows) > 0 ? await this.purgeEmptyGenerations(before) : 0;
    return Number(videos.numDeletedRows) + Number(images.numDeletedRows) + generations;
  }

  /** Generations made before `before`, ended, whose every image row and video row is gone. */
  private async purgeEmptyGenerations(before: number): Promise<number> {
    const gone = await this.db
      .deleteFrom("generations as g")
      .where("g.createdAt", "<", before)
      .where("g.status", "<>", "running")
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom("images as i").select("i.id").whereRef("i.generationId", "=", "g.id"))),
      )
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom("videos as v").select("v.id").whereRef("v.generationId", "=", "g.id"))),
      )
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }

  /** The ids of live stored images finished before `before`, oldest first, a batch (IMAGE_RETENTION_DAYS). */
  async imagesFinishedBefore(before: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom("images")
      .select("id")
      .where("deletedAt", "is", null)
      .where("status", "=", "succeeded")
      .where("finishedAt", "<", before)
      .orderBy("finishedAt")
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Schedules the removal of `guildId`'s data at `purgeAt` (again, when the bot leaves it twice). */
  async departed(guildId: string, leftAt: number, purgeAt: number): Promise<void> {
    await this.db
      .insertInto("guildDepartures")
      .values({ guildId, leftAt, purgeAt })
      .onConflict((oc) => oc.column("guildId").doUpdateSet({ leftAt, purgeAt }))
      .execute();
  }

  /** Cancels the scheduled removals of these servers (the bot is in them); how many were cancelled. */
  async returned(guildIds: readonly string[]): Promise<number> {
    if (guildIds.length === 0) return 0;
    const done = await this.db
      .deleteFrom("guildDepartures")
      .where("guildId", "in", guildIds)
      .executeTakeFirst();
    return Number(done.numDeletedRows);
  }

  async departure(guildId: string): Promise<{ leftAt: number; purgeAt: number } | undefined> {
    return this.db
      .selectFrom("guildDepartures")
      .select(["leftAt", "purgeAt"])
      .where("guildId", "=", guildId)
      .executeTakeFirst();
  }

  /** Servers whose data is due to go at `now`. */
  async departuresDue(now: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom("guildDepartures")
      .select("guildId")
      .where("purgeAt", "<=", now)
      .orderBy("purgeAt")
      .limit(SWEEP_BATCH)
      .execute();
    return rows.map((r) => r.guildId);
  }

  /**
   * Removes a departed server's settings, library entries, audit rows, picks and usage, and detaches its
   * members' generations and videos from it: their channel and message ids (and any token) are cleared and
   * they become their owner's own (guild_id null, listed by /reference in DMs). Call in one transaction; the
   * thumbnails' removal is scheduled in it. Undefined, touching nothing, when the removal is no longer due (the
   * bot was added back): the departure's row goes first, so a return racing this waits for it or cancels it.
   */
  async purgeGuild(guildId: string, now: number): Promise<GuildPurge | undefined> {
    const due = await this.db
      .deleteFrom("guildDepartures")
      .where("guildId", "=", guildId)
      .where("purgeAt", "<=", now)
      .returning("guildId")
      .executeTakeFirst();
    if (!due) return undefined;
    const entries = await this.db
      .deleteFrom("libraryEntries")
      .where("guildId", "=", guildId)
      .returning("thumbnailFile")
      .execute();
    const thumbnailFiles = entries.map((e) => e.thumbnailFile).filter((f): f is string => f !== null);
    if (thumbnailFiles.length > 0) {
      await this.db
        .insertInto("pendingDeletions")
        .values(thumbnailFiles.map((fileName) => ({ fileName, scheduledAt: now })))
        .onConflict((oc) => oc.column("fileName").doNothing())
        .execute();
    }
    const settings = await this.db
      .deleteFrom("guildSettings")
      .where("guildId", "=", guildId)
      .executeTakeFirst();
    const audit = await this.db.deleteFrom("auditLog").where("guildId", "=", guildId).executeTakeFirst();
    await this.db.deleteFrom("selections").where("guildId", "=", guildId).execute();
    await this.db.deleteFrom("usageLedger").where("guildId", "=", guildId).execute();
    const detached = { guildId: null, channelId: null, messageId: null, interactionToken: null };
    await this.db.updateTable("generations").set(detached).where("guildId", "=", guildId).execute();
    await this.db.updateTable("videos").set(detached).where("guildId", "=", guildId).execute();
    return {
      settings: Number(settings.numDeletedRows),
      libraryEntries: entries.length,
      auditRows: Number(audit.numDeletedRows),
      thumbnailFiles,
    };
  }
}
