// A member's references: looking them up (with the owner check), listing, picking, and deleting them with
// everything made from them. Generation and video services make references; this one serves them.

import type { Repos } from "../../db/repos.ts";
import type { GenerationRow, GenerationsRepo } from "../../db/repositories/generations-repo.ts";
import type { ImageRow, ImagesRepo, ImageWithOwner } from "../../db/repositories/images-repo.ts";
import type { LibraryEntry, LibraryRepo } from "../../db/repositories/library-repo.ts";
import type { PendingDeletionsRepo } from "../../db/repositories/pending-deletions-repo.ts";
import type {
  PendingMessageEdit,
  PendingMessageEditsRepo,
} from "../../db/repositories/pending-message-edits-repo.ts";
import type { SelectionRow, SelectionsRepo } from "../../db/repositories/selections-repo.ts";
import type { VideoRow, VideosRepo } from "../../db/repositories/videos-repo.ts";
import type { FileStore } from "../../files/file-store.ts";
import type { Clock } from "../../kit/clock.ts";
import { isUuid } from "../../kit/ids.ts";
import type { Logger } from "../../kit/logger.ts";

/** Who is asking: the owner check for pictures and picks lives here, not in Discord code. */
export interface Viewer {
  userId: string;
  guildId: string | null;
  /** Holds Manage Messages in `guildId`. */
  canModerate: boolean;
}

export type ImageLookup =
  | { ok: true; image: ImageWithOwner; isCurrentPick: boolean }
  | { ok: false; reason: "invalid_id" | "not_found" | "forbidden" };

export type SelectResult =
  | { ok: true; selection: SelectionRow; image: ImageRow; generation: GenerationRow }
  /** `already_recorded`: this press (its interaction id) was recorded before, by a retry or another process. */
  /** `not_stored_yet`: the grid shows the image while it is still being stored (a moment); try again. */
  | {
      ok: false;
      reason: "not_found" | "not_owner" | "not_available" | "not_stored_yet" | "already_recorded";
    };

/** What deleting a reference removed: the image and the videos made from it (as they were before). */
export interface Removal {
  image: ImageWithOwner;
  videos: VideoRow[];
  /** The server library's entries that named it: they go with it. */
  libraryEntries: LibraryEntry[];
  /** Who deleted it: the owner, or a moderator. */
  deletedBy: string;
}

export interface ImagePage {
  items: ImageWithOwner[];
  page: number;
  pages: number;
  total: number;
}

export type ReferenceChoice =
  /** `libraryName`: the reference was named by the server library's entry of that name. */
  | { ok: true; image: ImageWithOwner; libraryName?: string }
  | { ok: false; reason: "invalid_id" | "not_found" | "forbidden" | "no_pick" };

/**
 * What was made from an image as one viewer may see it: a member sees what they made themselves (another
 * member's variations and videos of a library image are theirs), a moderator of the image's server all of it.
 */
export interface Lineage {
  /** The images its generation was drawn from, in order, each with whether it is deleted since. */
  parents: Array<{ imageId: string; deleted: boolean }>;
  /** How many generations the viewer may see were drawn from the image in all. */
  childCount: number;
  /** The latest of them (LINEAGE_SHOWN at most), newest first, each with its stored images. */
  children: Array<{ generation: GenerationRow; imageIds: string[] }>;
  /** How many videos the viewer may see were made from the image in all. */
  videoCount: number;
  /** The latest of them (VIDEOS_SHOWN at most), newest first. */
  videos: VideoRow[];
}

/** How many of the generations drawn from an image /reference info reads; the rest are counted. */
export const LINEAGE_SHOWN = 5;
/** How many of the videos made from an image /reference info reads; the rest are counted. */
export const VIDEOS_SHOWN = 10;

/** A deletion written in a transaction: what it removed, and the files to remove once it committed. */
export interface ScheduledDeletion {
  removal: Removal;
  fileNames: string[];
}

/** A stored image's or video's file as a link serves it. */
export interface ServableFile {
  fileName: string;
  mime: string;
  /** The file's size, from its row (or the store, for a row without one). */
  bytes: number;
}

export interface ReferenceServiceDeps {
  generations: GenerationsRepo;
  images: ImagesRepo;
  selections: SelectionsRepo;
  /** Videos are deleted with the reference they were made from. */
  videos: VideosRepo;
  /** The server library: its names are references any member of that server may use. */
  library: LibraryRepo;
  pendingDeletions: PendingDeletionsRepo;
  pendingMessageEdits: PendingMessageEditsRepo;
  files: FileStore;
  clock: Clock;
  logger: Logger;
}

export class ReferenceService {
  constructor(private readonly deps: ReferenceServiceDeps) {}

  /**
   * The stored file of image or video `id` when a signed link may serve it: live, finished and with a file. Its
   * size comes from the row, or from the store for a row without one.
   */
  async servableFile(id: string): Promise<ServableFile | undefined> {
    const row = (await this.deps.images.get(id)) ?? (await this.deps.videos.get(id));
    if (!row || row.deletedAt !== null || row.status !== "succeeded" || !row.fileName || !row.mime) {
      return undefined;
    }
    const bytes = row.bytes ?? (await this.deps.files.size(row.fileName));
    if (bytes === undefined) return undefined;
    return { fileName: row.fileName, mime: row.mime, bytes };
  }

  /** An image the viewer may see: their own, or any in their guild when they moderate it. */
  async getImage(imageId: string, viewer: Viewer): Promise<ImageLookup> {
    if (!isUuid(imageId)) return { ok: false, reason: "invalid_id" };
    const image = await this.deps.images.get(imageId);
    if (!image || image.deletedAt !== null || image.status !== "succeeded")
      return { ok: false, reason: "not_found" };
    const mayModerate = viewer.canModerate && viewer.guildId !== null && viewer.guildId === image.guildId;
    if (image.userId !== viewer.userId && !mayModerate) return { ok: false, reason: "forbidden" };
    const pick = await this.deps.selections.current(image.userId, image.guildId);
    return { ok: true, image, isCurrentPick: pick?.imageId === image.id };
  }

  /** An image row by id with no access check: for jobs that already passed one. */
  async imageRow(imageId: string): Promise<ImageWithOwner | undefined> {
    return isUuid(imageId) ? await this.deps.images.get(imageId) : undefined;
  }

  /** The bytes of a stored image; the name is checked to be `<uuid>.<ext>` before the disk is touched. */
  readImageFile(image: Pick<ImageRow, "fileName">): Promise<Buffer> {
    if (!image.fileName) throw new Error("image has no file");
    return this.deps.files.read(image.fileName);
  }

  /**
   * A user's stored images in one guild, newest first; `page` counts from 1. Read through `repos` when given
   * (a transaction's), else outside any transaction.
   */
  async listImages(
    userId: string,
    guildId: string | null,
    page: number,
    pageSize: number,
    repos: Pick<Repos, "images"> = this.deps,
  ): Promise<ImagePage> {
    const total = await repos.images.countByUser(userId, guildId);
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const current = Math.min(Math.max(1, Math.floor(page)), pages);
    const items = await repos.images.listByUser(userId, guildId, pageSize, (current - 1) * pageSize);
    return { items, page: current, pages, total };
  }

  /**
   * Marks a stored image and every video made from it deleted, and schedules their files' removal and the
   * edits of the messages that showed them, in the caller's transaction `tx` (so a crash after the commit leaves
   * both to the next start instead of leaving the files, or the pictures, behind). Their rows stay, marked
   * deleted, for the audit trail and so buttons on old grids answer that it is gone. Undefined when it was
   * already deleted. The caller has checked that `deletedBy` may, and removes the files after the commit.
   */
  async scheduleDeletion(
    image: ImageWithOwner,
    deletedBy: string,
    tx: Repos,
  ): Promise<ScheduledDeletion | undefined> {
    const { images, videos, pendingDeletions, pendingMessageEdits } = tx;
    // The lock /video's recording takes too: a video is recorded before this sees it, or after it is deleted.
    await tx.locks.take([`image:${image.id}`]);
    const now = this.deps.clock.now();
    const current = await images.get(image.id);
    if (!current || !(await images.markDeleted(image.id, now, deletedBy))) return undefined;
    const gone = await videos.markDeletedForImage(image.id, now, deletedBy);
    const libraryEntries = await tx.library.removeForImage(image.id);
    // The generations drawn from it keep it in their lineage (ids only), not where it was uploaded for them.
    await tx.generations.forgetReferenceUrls(image.id);
    // The library's previews of the image go with it.
    const fileNames = [
      current.fileName,
      ...gone.map((v) => v.fileName),
      ...libraryEntries.map((e) => e.thumbnailFile),
    ].filter((name): name is string => name !== null);
    await pendingDeletions.schedule(fileNames, now);
    await pendingMessageEdits.schedule(
      [
        { kind: "grid", jobId: current.generationId },
        ...gone.map((v) => ({ kind: "video" as const, jobId: v.id })),
      ],
      now,
    );
    return { removal: { image: current, videos: gone, libraryEntries, deletedBy }, fileNames };
  }

  /** Removes files whose removal was scheduled; one that fails stays scheduled for the next start. */
  async removeScheduled(fileNames: readonly string[]): Promise<void> {
    for (const fileName of fileNames) {
      try {
        await this.deps.files.remove(fileName);
        await this.deps.pendingDeletions.clear(fileName);
      } catch (err) {
        this.deps.logger.error({ err, fileName }, "could not remove a deleted file; the next start retries");
      }
    }
  }

  /**
   * Records a pick; only the member who asked for the generation may pick from it. `interactionId` is the
   * button press's: one press records one pick, however often it is handled.
   */
  async select(
    generationId: string,
    slot: number,
    userId: string,
    interactionId: string | null,
  ): Promise<SelectResult> {
    if (!isUuid(generationId)) return { ok: false, reason: "not_found" };
    const generation = await this.deps.generations.get(generationId);
    if (!generation) return { ok: false, reason: "not_found" };
    if (generation.userId !== userId) return { ok: false, reason: "not_owner" };
    const image = (await this.deps.images.forGeneration(generationId)).find((i) => i.slot === slot);
    if (image?.deletedAt === null && (image.status === "pending" || image.status === "running"))
      return { ok: false, reason: "not_stored_yet" };
    if (image?.status !== "succeeded" || image.deletedAt !== null)
      return { ok: false, reason: "not_available" };
    const selection = await this.deps.selections.insert({
      guildId: generation.guildId,
      userId,
      imageId: image.id,
      generationId,
      selectedAt: this.deps.clock.now(),
      interactionId,
    });
    if (!selection) return { ok: false, reason: "already_recorded" };
    return { ok: true, selection, image, generation };
  }

  /** The slot currently picked from a generation, if any and not deleted since. */
  async pickedSlot(generationId: string): Promise<number | undefined> {
    const selection = await this.deps.selections.latestForGeneration(generationId);
    if (!selection) return undefined;
    const image = (await this.deps.images.forGeneration(generationId)).find(
      (i) => i.id === selection.imageId,
    );
    return image?.deletedAt === null ? image.slot : undefined;
  }

  /** The user's current pick in a guild (null guild: direct messages), unless that image is gone. */
  async currentSelection(
    userId: string,
    guildId: string | null,
  ): Promise<{ selection: SelectionRow; image: ImageWithOwner } | undefined> {
    const selection = await this.deps.selections.current(userId, guildId);
    const image = selection && (await this.deps.images.get(selection.imageId));
    if (!selection || !image || image.deletedAt !== null) return undefined;
    return { selection, image };
  }

  /**
   * The reference to use: the id given (the viewer's own, or any in the guild for a moderator), a name in the
   * guild's library (anyone there may use those), or else the viewer's current pick in this guild.
   */
  async choose(rawId: string | null | undefined, viewer: Viewer): Promise<ReferenceChoice> {
    if (rawId) {
      const named = await this.fromLibrary(rawId, viewer.guildId);
      if (named) return named;
      const lookup = await this.getImage(rawId.trim(), viewer);
      if (!lookup.ok) return lookup;
      // A reference is used where it was made: one of another server (or of DMs) is not offered here.
      if (lookup.image.guildId !== viewer.guildId) return { ok: false, reason: "forbidden" };
      return { ok: true, image: lookup.image };
    }
    const current = await this.currentSelection(viewer.userId, viewer.guildId);
    return current ? { ok: true, image: current.image } : { ok: false, reason: "no_pick" };
  }

  /** The image a library name stands for in a guild, while it is stored; ids are never names (36 > 32). */
  private async fromLibrary(
    raw: string,
    guildId: string | null,
  ): Promise<Extract<ReferenceChoice, { ok: true }> | undefined> {
    if (!guildId || isUuid(raw.trim())) return undefined;
    const entry = await this.deps.library.byName(guildId, raw.trim().replace(/\s+/g, " "));
    const image = entry && (await this.deps.images.get(entry.imageId));
    if (!entry || !image || image.deletedAt !== null || image.status !== "succeeded") return undefined;
    return { ok: true, image, libraryName: entry.name };
  }

  /**
   * Where an image came from and what was made from it, as `viewer` may see it (see Lineage): the image its
   * generation was drawn from (if any), the latest generations drawn from it with their stored images, and the
   * latest videos made from it, each with a count of them all. Only the latest few rows are read: a library
   * image may have been drawn from thousands of times.
   */
  async lineage(image: ImageWithOwner, viewer: Viewer): Promise<Lineage> {
    const { generations, images, videos } = this.deps;
    const moderates = viewer.canModerate && viewer.guildId !== null && viewer.guildId === image.guildId;
    const whose = moderates ? undefined : viewer.userId;
    const [parentRows, children, childCount, latestVideos, videoCount] = await Promise.all([
      generations.references(image.generationId),
      generations.latestFromParent(image.id, LINEAGE_SHOWN, whose),
      generations.countFromParent(image.id, whose),
      videos.latestForImage(image.id, VIDEOS_SHOWN, whose),
      videos.countForImage(image.id, whose),
    ]);
    const made = await Promise.all(
      children.map(async (generation) => ({
        generation,
        imageIds: (await images.forGeneration(generation.id))
          .filter((i) => i.status === "succeeded" && i.deletedAt === null)
          .map((i) => i.id),
      })),
    );
    const parents = await Promise.all(
      parentRows.map(async (row) => ({
        imageId: row.imageId,
        deleted: (await images.get(row.imageId))?.deletedAt !== null,
      })),
    );
    return {
      parents,
      childCount,
      children: made,
      videoCount,
      videos: latestVideos,
    };
  }

  /** A user's images in one guild still being made: a purge takes them too, as they land. */
  unfinishedImages(
    userId: string,
    guildId: string | null,
    repos: Pick<Repos, "images"> = this.deps,
  ): Promise<ImageWithOwner[]> {
    return repos.images.unfinishedByUser(userId, guildId);
  }

  /** Message edits that deletions scheduled and that are not made yet (a crash cut them short). */
  pendingEdits(): Promise<PendingMessageEdit[]> {
    return this.deps.pendingMessageEdits.all();
  }

  /** An edit is made (or given up on): it is not tried again. */
  async editDone(edit: PendingMessageEdit): Promise<void> {
    await this.deps.pendingMessageEdits.clear(edit);
  }

  /** A generation's images in slot order: what a resumed generation still has open. */
  imagesOfGeneration(generationId: string): Promise<ImageRow[]> {
    return this.deps.images.forGeneration(generationId);
  }

  /**
   * Whether a member may draw from a reference again (Regenerate on a grid drawn from it): their own, or another
   * member's only while the library of the server they are in still offers it; never one that was deleted.
   */
  async mayDrawAgainFrom(imageId: string, userId: string, guildId: string | null): Promise<boolean> {
    const image = await this.deps.images.get(imageId);
    const offered =
      image?.userId === userId ||
      (await this.deps.library.forImage(imageId)).some((e) => e.guildId === guildId);
    return image !== undefined && image.deletedAt === null && offered;
  }
}
