// A server's library of character references: named images any member of that server may use wherever a
// reference is taken, added and removed by curators (Manage Messages, or the server's curator role).

import type { DataStore } from "../../db/data-store.ts";
import type { GuildSettingsRepo } from "../../db/repositories/guild-settings-repo.ts";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import {
  type LibraryEntry,
  type LibraryEntryWithImage,
  type LibraryRepo,
  libraryNameKey,
} from "../../db/repositories/library-repo.ts";
import type { PendingDeletionsRepo } from "../../db/repositories/pending-deletions-repo.ts";
import type { FileStore } from "../../files/file-store.ts";
import { ObjectNotFoundError } from "../../files/object-store.ts";
import type { Clock } from "../../kit/clock.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import { newId } from "../../kit/ids.ts";
import type { Logger } from "../../kit/logger.ts";
import type { Viewer } from "../references/reference-service.ts";

export const MAX_LIBRARY_NAME_LENGTH = 32;
export const MAX_LIBRARY_NOTE_LENGTH = 200;
/** The most entries a server's library holds: a gallery of more is not browsed, and each costs a preview. */
export const MAX_LIBRARY_ENTRIES = 500;
/** The most names one image has in a server's library. */
export const MAX_NAMES_PER_IMAGE = 5;
/** Letters and digits of any script, spaces, - and _: a name reads well in a list and in autocomplete. */
const NAME_PATTERN = /^[\p{L}\p{N} _-]+$/u;

/** A member as the library sees them: a moderator, or holding the server's curator role. */
export interface Curator extends Viewer {
  guildId: string;
  /** Holds Manage Messages, or the curator role set with /settings curator. */
  curates: boolean;
}

export interface LibraryPage {
  items: LibraryEntryWithImage[];
  page: number;
  pages: number;
  total: number;
}

/** A name as stored: trimmed, inner runs of spaces made one. */
export function normaliseLibraryName(raw: string): string {
  return raw.trim().replace(/\s+/g, " ");
}

/** Why a name cannot be used, or undefined when it can. */
export function libraryNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > MAX_LIBRARY_NAME_LENGTH)
    return t("library:name.length", { max: MAX_LIBRARY_NAME_LENGTH });
  if (!NAME_PATTERN.test(name)) return t("library:name.characters");
  return undefined;
}

export class LibraryService {
  constructor(
    private readonly deps: {
      data: DataStore;
      library: LibraryRepo;
      settings: GuildSettingsRepo;
      pendingDeletions: PendingDeletionsRepo;
      files: FileStore;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /** Whether a member may curate: Manage Messages, or the curator role the server set. */
  async mayCurate(viewer: Viewer, roleIds: readonly string[]): Promise<boolean> {
    if (!viewer.guildId) return false;
    if (viewer.canModerate) return true;
    const role = (await this.deps.settings.get(viewer.guildId)).curatorRoleId;
    return role !== null && roleIds.includes(role);
  }

  /**
   * Adds `image` under `rawName`, with its audit row, in one transaction. The caller looked the image up as
   * the curator may see it (their own, or any of the server's for a moderator); it must be of this server and
   * still stored. Its gallery preview is stored first, recorded on the entry. Refusals are UserFacingErrors,
   * and leave nothing written.
   */
  async add(
    curator: Curator,
    image: ImageWithOwner,
    rawName: string,
    rawNote: string | null,
  ): Promise<LibraryEntry> {
    requireCurator(curator);
    const name = normaliseLibraryName(rawName);
    const problem = libraryNameProblem(name);
    if (problem) throw new UserFacingError(problem);
    const note = rawNote?.trim() || null;
    if (note && note.length > MAX_LIBRARY_NOTE_LENGTH)
      throw new UserFacingError(t("library:add.noteTooLong", { max: MAX_LIBRARY_NOTE_LENGTH }));
    if (image.guildId !== curator.guildId) throw new UserFacingError(t("library:add.otherServer"));
    if (image.userId !== curator.userId && !curator.canModerate) {
      throw new UserFacingError(t("library:add.othersReference"));
    }
    const id = newId();
    const thumbnailFile = await this.makeThumbnail(id, image.fileName);
    try {
      return await this.insert(curator, image, { id, name, note, thumbnailFile });
    } catch (err) {
      await this.dropThumbnail(thumbnailFile);
      throw err;
    }
  }

  private insert(
    curator: Curator,
    image: ImageWithOwner,
    fields: Pick<LibraryEntry, "id" | "name" | "note" | "thumbnailFile">,
  ): Promise<LibraryEntry> {
    const { data, clock } = this.deps;
    const { name } = fields;
    return data.transaction(
      async (tx) => {
        // The lock a deletion takes: an entry is added before the image is deleted (and goes with it), or not.
        await tx.locks.take([`image:${image.id}`]);
        const current = await tx.images.get(image.id);
        if (!current || current.deletedAt !== null || current.status !== "succeeded")
          throw new UserFacingError(t("library:referenceDeleted"));
        await requireRoom(tx.library, curator.guildId, image.id);
        const entry: LibraryEntry = {
          ...fields,
          guildId: curator.guildId,
          name,
          nameKey: libraryNameKey(name),
          imageId: image.id,
          addedBy: curator.userId,
          createdAt: clock.now(),
        };
        if (!(await tx.library.insert(entry))) {
          throw new UserFacingError(t("library:add.nameTaken", { name }));
        }
        await tx.audit.add({
          guildId: curator.guildId,
          actorId: curator.userId,
          action: "library_add",
          targetUserId: image.userId,
          targetId: image.id,
          details: { name },
          createdAt: entry.createdAt,
        });
        return entry;
      },
      { locks: [`library:${curator.guildId}`] },
    );
  }

  /** Removes an entry (never its image), with its audit row; its preview is removed after the commit. */
  async remove(curator: Curator, rawName: string): Promise<LibraryEntry> {
    requireCurator(curator);
    const name = normaliseLibraryName(rawName);
    const { data, clock } = this.deps;
    const removed = await data.transaction(
      async (tx) => {
        const removed = await tx.library.remove(curator.guildId, name);
        if (!removed) throw new UserFacingError(noEntry(name));
        // Journalled with the removal: a crash before the file goes leaves it to the next start.
        if (removed.thumbnailFile) await tx.pendingDeletions.schedule([removed.thumbnailFile], clock.now());
        await tx.audit.add({
          guildId: curator.guildId,
          actorId: curator.userId,
          action: "library_remove",
          targetUserId: null,
          targetId: removed.imageId,
          details: { name: removed.name },
          createdAt: clock.now(),
        });
        return removed;
      },
      { locks: [`library:${curator.guildId}`] },
    );
    if (removed.thumbnailFile) await this.dropThumbnail(removed.thumbnailFile, true);
    return removed;
  }

  /**
   * An entry's gallery preview: its stored thumbnail, or (an entry added before they were stored, or one whose
   * file went missing) one made from the original now and stored for the next view.
   */
  async preview(entry: LibraryEntryWithImage): Promise<Buffer> {
    const { files, library } = this.deps;
    if (entry.thumbnailFile) {
      try {
        return await files.read(entry.thumbnailFile);
      } catch (err) {
        if (!(err instanceof ObjectNotFoundError)) throw err;
      }
    }
    if (!entry.fileName) throw new UserFacingError(t("library:referenceDeleted"));
    const made = await files.writeThumbnail(entry.id, await files.read(entry.fileName));
    // The entry may have gone while the preview was made: then nothing names the file, so it goes too.
    if (!(await library.setThumbnail(entry.id, made.fileName))) await this.dropThumbnail(made.fileName);
    return made.data;
  }

  /** Stores the preview of the image `fileName` under the entry's id; a deleted image is a refusal. */
  private async makeThumbnail(entryId: string, fileName: string | null): Promise<string> {
    try {
      if (!fileName) throw new ObjectNotFoundError("no file");
      const original = await this.deps.files.read(fileName);
      return (await this.deps.files.writeThumbnail(entryId, original)).fileName;
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw new UserFacingError(t("library:referenceDeleted"));
      throw err;
    }
  }

  /** Removes a preview nothing names; a failure is logged (the file costs only space). */
  private async dropThumbnail(fileName: string, journalled = false): Promise<void> {
    try {
      await this.deps.files.remove(fileName);
      if (journalled) await this.deps.pendingDeletions.clear(fileName);
    } catch (err) {
      this.deps.logger.error({ err, fileName }, "could not remove a library preview");
    }
  }

  /** A page of the server's library in name order; `page` counts from 1. */
  async list(guildId: string, page: number, pageSize: number): Promise<LibraryPage> {
    const total = await this.deps.library.count(guildId);
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const current = Math.min(Math.max(1, Math.floor(page)), pages);
    const items = await this.deps.library.list(guildId, pageSize, (current - 1) * pageSize);
    return { items, page: current, pages, total };
  }

  /** The entry by that name (any case); a UserFacingError when there is none. */
  async show(guildId: string, rawName: string): Promise<LibraryEntryWithImage> {
    const name = normaliseLibraryName(rawName);
    const entry = await this.deps.library.byName(guildId, name);
    if (!entry) throw new UserFacingError(noEntry(name));
    return entry;
  }

  /** Names containing what was typed, for autocomplete. */
  search(guildId: string, typed: string, limit: number): Promise<LibraryEntry[]> {
    return this.deps.library.search(guildId, typed, limit);
  }

  /** The entries naming an image: /reference info lists them. */
  forImage(imageId: string): Promise<LibraryEntry[]> {
    return this.deps.library.forImage(imageId);
  }
}

/** Refuses an entry past the library's caps; run under the server's library lock and the image's lock. */
async function requireRoom(library: LibraryRepo, guildId: string, imageId: string): Promise<void> {
  if ((await library.count(guildId)) >= MAX_LIBRARY_ENTRIES) {
    throw new UserFacingError(t("library:add.full", { max: MAX_LIBRARY_ENTRIES }));
  }
  if ((await library.forImage(imageId)).filter((e) => e.guildId === guildId).length >= MAX_NAMES_PER_IMAGE) {
    throw new UserFacingError(t("library:add.tooManyNames", { max: MAX_NAMES_PER_IMAGE }));
  }
}

function requireCurator(curator: Curator): void {
  if (!curator.curates) {
    throw new UserFacingError(t("library:curatorsOnly"));
  }
}

const noEntry = (name: string) => t("library:noEntry", { name: name.slice(0, 40).replace(/`/g, "'") });
