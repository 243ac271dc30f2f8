// Deleting references, as their owner or as a moderator: each deletion is written with its audit row in one
// transaction, and the files go once it committed. The Discord layer only posts the mod-log message.

import type { DataStore } from "../../db/data-store.ts";
import type { AuditFilter, AuditRecord, AuditRepo } from "../../db/repositories/audit-repo.ts";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import type { Clock } from "../../kit/clock.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import type { ReferenceService, Removal, ScheduledDeletion } from "../references/reference-service.ts";

export interface Actor {
  userId: string;
  guildId: string | null;
  /** Holds Manage Messages in `guildId`: needed to delete an image the server library uses. */
  canModerate?: boolean;
}

/**
 * What /moderation log can be narrowed to: each audited action, and "settings" for every settings change (their
 * actions are `settings_<what changed>`).
 */
export const AUDIT_ACTION_FILTERS = [
  "prompt_blocked",
  "purge",
  "reference_delete",
  "library_add",
  "library_remove",
  "settings",
] as const;
export type AuditActionFilter = (typeof AUDIT_ACTION_FILTERS)[number];

/** A page of /moderation log: what to show, and whether older entries follow. */
export interface AuditPage {
  entries: AuditRecord[];
  hasOlder: boolean;
}

export class ModerationService {
  constructor(
    private readonly deps: { data: DataStore; references: ReferenceService; audit: AuditRepo; clock: Clock },
  ) {}

  /** A guild's latest moderator actions and blocked prompts, newest first. */
  recentActions(guildId: string, count: number): Promise<AuditRecord[]> {
    return this.deps.audit.recent(guildId, count);
  }

  /** What /moderation log shows: `size` entries matching the filter, newest first, after skipping `offset`. */
  async actionLog(
    guildId: string,
    filter: { action?: AuditActionFilter; memberId?: string },
    offset: number,
    size: number,
  ): Promise<AuditPage> {
    const narrowed: AuditFilter = {
      ...(filter.action === "settings"
        ? { actionPrefix: "settings_" }
        : filter.action
          ? { action: filter.action }
          : {}),
      ...(filter.memberId ? { memberId: filter.memberId } : {}),
    };
    // One more than the page, to know whether there is a next one without counting them all.
    const rows = await this.deps.audit.list(guildId, narrowed, offset, size + 1);
    return { entries: rows.slice(0, size), hasOlder: rows.length > size };
  }

  /** Deletes one reference (and its videos); undefined when someone deleted it a moment before. */
  async deleteReference(image: ImageWithOwner, actor: Actor): Promise<Removal | undefined> {
    const { data, references, clock } = this.deps;
    const scheduled = await data.transaction(async (tx) => {
      // The lock a library add takes: an entry is added before this looks, or after the image is deleted.
      await tx.locks.take([`image:${image.id}`]);
      // The library's entries are a server's shared references: only a moderator may take one away.
      const entries = actor.canModerate ? [] : await tx.library.forImage(image.id);
      if (entries.length > 0) {
        throw new UserFacingError(
          t("moderation:inLibrary", { names: entries.map((e) => `\`${e.name}\``).join(", ") }),
        );
      }
      const done = await references.scheduleDeletion(image, actor.userId, tx);
      if (!done) return undefined;
      await tx.audit.add({
        guildId: actor.guildId,
        actorId: actor.userId,
        action: "reference_delete",
        targetUserId: image.userId,
        targetId: image.id,
        details: {
          byModerator: image.userId !== actor.userId,
          generationId: image.generationId,
          slot: image.slot,
          videos: done.removal.videos.length,
          ...(done.removal.libraryEntries.length
            ? { libraryNames: done.removal.libraryEntries.map((e) => e.name) }
            : {}),
        },
        createdAt: clock.now(),
      });
      return done;
    });
    if (!scheduled) return undefined;
    await references.removeScheduled(scheduled.fileNames);
    return scheduled.removal;
  }

  /**
   * Deletes every reference a member made in the actor's guild, and the images of theirs still being made,
   * with one audit row for the purge (which counts the references that existed).
   */
  async purge(targetUserId: string, actor: Actor & { guildId: string }): Promise<Removal[]> {
    const { data, references, clock } = this.deps;
    const scheduled = await data.transaction(async (tx) => {
      const done: ScheduledDeletion[] = [];
      for (;;) {
        const page = await references.listImages(targetUserId, actor.guildId, 1, 100, tx);
        if (page.items.length === 0) break;
        for (const image of page.items) {
          const deletion = await references.scheduleDeletion(image, actor.userId, tx);
          if (deletion) done.push(deletion);
        }
      }
      // Images still being made are marked too: when one lands, its file is discarded, never shown.
      for (const image of await references.unfinishedImages(targetUserId, actor.guildId, tx)) {
        await references.scheduleDeletion(image, actor.userId, tx);
      }
      await tx.audit.add({
        guildId: actor.guildId,
        actorId: actor.userId,
        action: "purge",
        targetUserId,
        targetId: null,
        details: {
          deleted: done.length,
          videos: done.reduce((n, d) => n + d.removal.videos.length, 0),
          // Library entries go with their images; the record names them.
          ...(done.some((d) => d.removal.libraryEntries.length)
            ? { libraryNames: done.flatMap((d) => d.removal.libraryEntries.map((e) => e.name)) }
            : {}),
        },
        createdAt: clock.now(),
      });
      return done;
    });
    await references.removeScheduled(scheduled.flatMap((d) => d.fileNames));
    return scheduled.map((d) => d.removal);
  }
}
