// Everything the bot keeps about one member, read for their data export (/privacy export): in every server and
// DM, each table at most MEMBER_DATA_MAX_ROWS rows, newest first.
import type { Executor } from "../database.ts";

/** The most rows of one table an export reads: a member's data stays a few MB in memory at most. */
export const MEMBER_DATA_MAX_ROWS = 20_000;

export class MemberDataRepo {
  constructor(private readonly db: Executor) {}

  async generations(userId: string) {
    return this.db
      .selectFrom("generations")
      .select([
        "id",
        "guildId",
        "channelId",
        "prompt",
        "params",
        "model",
        "requested",
        "status",
        "createdAt",
        "finishedAt",
        "parentImageId",
      ])
      .where("userId", "=", userId)
      .orderBy("createdAt", "desc")
      .limit(MEMBER_DATA_MAX_ROWS)
      .execute();
  }

  /** The member's images: those of their generations. */
  async images(userId: string) {
    return this.db
      .selectFrom("images as i")
      .innerJoin("generations as g", "g.id", "i.generationId")
      .select([
        "i.id",
        "i.generationId",
        "i.slot",
        "i.status",
        "i.model",
        "i.fileName",
        "i.mime",
        "i.bytes",
        "i.width",
        "i.height",
        "i.sha256",
        "i.errorCode",
        "i.createdAt",
        "i.deletedAt",
        "g.guildId",
        "g.prompt",
        "g.parentImageId",
      ])
      .where("g.userId", "=", userId)
      .orderBy("i.createdAt", "desc")
      .limit(MEMBER_DATA_MAX_ROWS)
      .execute();
  }

  async videos(userId: string) {
    return this.db
      .selectFrom("videos")
      .select([
        "id",
        "referenceImageId",
        "guildId",
        "channelId",
        "prompt",
        "model",
        "params",
        "status",
        "fileName",
        "mime",
        "bytes",
        "sha256",
        "errorCode",
        "createdAt",
        "deletedAt",
      ])
      .where("userId", "=", userId)
      .orderBy("createdAt", "desc")
      .limit(MEMBER_DATA_MAX_ROWS)
      .execute();
  }

  async selections(userId: string) {
    return this.db
      .selectFrom("selections")
      .select(["guildId", "imageId", "generationId", "selectedAt"])
      .where("userId", "=", userId)
      .orderBy("id", "desc")
      .limit(MEMBER_DATA_MAX_ROWS)
      .execute();
  }

  /** Library entries (in every server) naming one of the member's images. */
  async libraryNames(userId: string) {
    return this.db
      .selectFrom("libraryEntries as l")
      .innerJoin("images as i", "i.id", "l.imageId")
      .innerJoin("generations as g", "g.id", "i.generationId")
      .select(["l.guildId", "l.name", "l.imageId", "l.note", "l.addedBy", "l.createdAt"])
      .where("g.userId", "=", userId)
      .orderBy("l.createdAt", "desc")
      .limit(MEMBER_DATA_MAX_ROWS)
      .execute();
  }

  async usage(userId: string) {
    return this.db
      .selectFrom("usageLedger")
      .select(["day", "guildId", "kind", "units", "jobId", "model", "createdAt"])
      .where("userId", "=", userId)
      .orderBy("id", "desc")
      .limit(MEMBER_DATA_MAX_ROWS)
      .execute();
  }
}
