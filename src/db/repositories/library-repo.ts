// The library_entries table: a server's named references, curated by moderators.
import { sql } from "kysely";
import type { Executor } from "../database.ts";
import type { LibraryEntriesTable } from "../schema.ts";

export type LibraryEntry = LibraryEntriesTable;

/** An entry with what a gallery shows of its image. */
export interface LibraryEntryWithImage extends LibraryEntry {
  fileName: string | null;
  prompt: string;
  ownerId: string;
}

const COLUMNS = [
  "l.id",
  "l.guildId",
  "l.name",
  "l.nameKey",
  "l.imageId",
  "l.note",
  "l.addedBy",
  "l.createdAt",
  "l.thumbnailFile",
] as const;

/** The key a name is compared by: the same name in any case is the same entry. */
export const libraryNameKey = (name: string) => name.trim().toLowerCase();

export class LibraryRepo {
  constructor(private readonly db: Executor) {}

  /** Adds an entry; false when the server already has one by that name (in any case). */
  async insert(entry: LibraryEntry): Promise<boolean> {
    const inserted = await this.db
      .insertInto("libraryEntries")
      .values(entry)
      .onConflict((oc) => oc.columns(["guildId", "nameKey"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    return inserted !== undefined;
  }

  private withImage() {
    return this.db
      .selectFrom("libraryEntries as l")
      .innerJoin("images as i", "i.id", "l.imageId")
      .innerJoin("generations as g", "g.id", "i.generationId")
      .select([...COLUMNS, "i.fileName", "g.prompt", "g.userId as ownerId"]);
  }

  async byName(guildId: string, name: string): Promise<LibraryEntryWithImage | undefined> {
    return this.withImage()
      .where("l.guildId", "=", guildId)
      .where("l.nameKey", "=", libraryNameKey(name))
      .executeTakeFirst();
  }

  /** Removes the entry by that name; the removed entry, or undefined when there was none. */
  async remove(guildId: string, name: string): Promise<LibraryEntry | undefined> {
    return this.db
      .deleteFrom("libraryEntries")
      .where("guildId", "=", guildId)
      .where("nameKey", "=", libraryNameKey(name))
      .returningAll()
      .executeTakeFirst();
  }

  /** The preview file of every entry: what the start-up sweep keeps under thumbnails/. */
  async liveThumbnailNames(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom("libraryEntries")
      .select("thumbnailFile")
      .where("thumbnailFile", "is not", null)
      .execute();
    return new Set(rows.map((r) => r.thumbnailFile as string));
  }

  /**
   * Records an entry's thumbnail when it has none or names this same file (made again after it went missing);
   * false when the entry is gone or names another file.
   */
  async setThumbnail(id: string, fileName: string): Promise<boolean> {
    const result = await this.db
      .updateTable("libraryEntries")
      .set({ thumbnailFile: fileName })
      .where("id", "=", id)
      .where((eb) => eb.or([eb("thumbnailFile", "is", null), eb("thumbnailFile", "=", fileName)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Removes every entry naming an image (it is being deleted), returning them. */
  removeForImage(imageId: string): Promise<LibraryEntry[]> {
    return this.db.deleteFrom("libraryEntries").where("imageId", "=", imageId).returningAll().execute();
  }

  forImage(imageId: string): Promise<LibraryEntry[]> {
    return this.db
      .selectFrom("libraryEntries")
      .selectAll()
      .where("imageId", "=", imageId)
      .orderBy("nameKey")
      .execute();
  }

  /** A page of a server's entries in name order. */
  list(guildId: string, limit: number, offset: number): Promise<LibraryEntryWithImage[]> {
    return this.withImage()
      .where("l.guildId", "=", guildId)
      .orderBy("l.nameKey")
      .limit(limit)
      .offset(offset)
      .execute();
  }

  async count(guildId: string): Promise<number> {
    const row = await this.db
      .selectFrom("libraryEntries")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("guildId", "=", guildId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Up to `limit` of a server's entries whose name contains `typed` (any case), in name order. */
  search(guildId: string, typed: string, limit: number): Promise<LibraryEntry[]> {
    // LIKE's own wildcards in what was typed are matched literally.
    const pattern = `%${libraryNameKey(typed).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.db
      .selectFrom("libraryEntries")
      .selectAll()
      .where("guildId", "=", guildId)
      .where(sql<boolean>`name_key LIKE ${pattern} ESCAPE '\\'`)
      .orderBy("nameKey")
      .limit(limit)
      .execute();
  }
}
