// The generations table: one row per /character request.
import type { Engine, Executor } from "../database.ts";
import type { GenerationsTable } from "../schema.ts";
import type { ImageRow } from "./images-repo.ts";
import type { JobState } from "./job-rows.ts";

export type GenerationStatus = "running" | "succeeded" | "partial" | "failed";

export interface GenerationParams {
  aspectRatio: string;
  safetyFilterLevel?: string;
  /** What a generation drawn from an image does with it (features/generation/studio.ts); unset: a variation. */
  studio?: string;
  /** An upscale's factor and face retouching, as sent (a restart sends the same). */
  scale?: number;
  faceEnhance?: boolean;
  /**
   * Every image the generation was drawn from, in the order the model received them (as generation_references
   * holds them), so a grid and its Regenerate or Remix need no other read. Absent on a generation recorded with
   * one parent only (or none): `referencesOf` reads parentImageId then.
   */
  referenceImageIds?: string[];
}

/** One image a generation was drawn from, at its place among the model's image inputs (1…). */
export interface GenerationReference {
  position: number;
  imageId: string;
  referenceUrl: string | null;
}

export interface InteractionRef {
  interactionId: string;
  interactionToken: string;
  applicationId: string;
  /** The member's language and the channel's, as the bot speaks them. */
  locale: string;
  publicLocale: string;
  /** 'interaction': the bot may answer only through the interaction's token (see the delivery column). */
  delivery?: GenerationsTable["delivery"];
}

export interface GenerationRow extends Omit<GenerationsTable, "params"> {
  params: GenerationParams;
  /** When the result reached Discord; null while running, or finished while the bot was away. */
  deliveredAt: number | null;
}

/** A generation and its slots as just recorded, with each slot's job state (no create sent for any yet). */
export interface RecordedGeneration {
  generation: GenerationRow;
  images: ImageRow[];
  states: Map<string, JobState>;
}

export type NewGeneration = Omit<
  GenerationRow,
  | "status"
  | "finishedAt"
  | "messageId"
  | "deliveredAt"
  | "parentImageId"
  | "referenceUrl"
  | "locale"
  | "publicLocale"
  | "delivery"
  | "deliveredLaterAt"
  | "laterNoticeAt"
> &
  Partial<Pick<GenerationRow, "locale" | "publicLocale">> & {
    /** 'interaction' when the bot may not post in the place asked from; 'channel' when not given. */
    delivery?: GenerationsTable["delivery"];
    parentImageId?: string | null;
    /**
     * Every image it is drawn from, in order; absent: `parentImageId` alone. Either way each gets its row in
     * generation_references, and the first is the row's parent_image_id.
     */
    referenceImageIds?: readonly string[];
  };

/** The images a new generation is drawn from, in order. */
const referenceIdsOf = (row: NewGeneration): readonly string[] =>
  row.referenceImageIds ?? (row.parentImageId ? [row.parentImageId] : []);

const fromRaw = (row: GenerationsTable): GenerationRow => ({
  ...row,
  params: JSON.parse(row.params) as GenerationParams,
});

export class GenerationsRepo {
  constructor(
    private readonly db: Executor,
    private readonly engine: Engine = "sqlite",
  ) {}

  /** The generation's row and a generation_references row per image it is drawn from. */
  async insert(row: NewGeneration): Promise<void> {
    await this.db.insertInto("generations").values(this.columns(row)).execute();
    const references = this.referenceRows(row);
    if (references.length > 0) await this.db.insertInto("generationReferences").values(references).execute();
  }

  private referenceRows(row: NewGeneration) {
    return referenceIdsOf(row).map((imageId, i) => ({
      generationId: row.id,
      position: i + 1,
      imageId,
      referenceUrl: null,
    }));
  }

  /**
   * The generation and its pending slots (`slotIds[i]` is slot i + 1), in the caller's transaction; returns
   * them as a read would now find them (built from what was written: no read back). On PostgreSQL one
   * statement writes both (the slots' foreign key is checked at its end, when the generation is there): one
   * round trip of the admission's fewer (with the generation_references rows too). SQLite takes no INSERT
   * inside WITH: a statement each.
   */
  async insertWithSlots(row: NewGeneration, slotIds: readonly string[]): Promise<RecordedGeneration> {
    const columns = this.columns(row);
    const slots = slotIds.map((id, i) => ({
      id,
      generationId: row.id,
      slot: i + 1,
      status: "pending" as const,
      createdAt: row.createdAt,
    }));
    await this.write(row, slots);
    // Every column a write leaves out is NULL (the schema has no other defaults); the compiler holds these
    // literals to the row types, and a test to what a read returns on both engines.
    const generation: GenerationRow = {
      ...columns,
      params: JSON.parse(columns.params) as GenerationParams,
      messageId: null,
      finishedAt: null,
      deliveredAt: null,
      referenceUrl: null,
      deliveredLaterAt: null,
      laterNoticeAt: null,
    };
    const images = slots.map(
      (slot): ImageRow => ({
        ...slot,
        model: null,
        predictionId: null,
        fileName: null,
        mime: null,
        bytes: null,
        width: null,
        height: null,
        sha256: null,
        errorCode: null,
        errorMessage: null,
        finishedAt: null,
        deletedAt: null,
        deletedBy: null,
      }),
    );
    const states = new Map(
      images.map((i): [string, JobState] => [
        i.id,
        { status: i.status, predictionId: null, createSentAt: null, model: null },
      ]),
    );
    return { generation, images, states };
  }

  /** The rows insertWithSlots writes: on PostgreSQL in one statement, on SQLite one statement each. */
  private async write(
    row: NewGeneration,
    slots: Array<Pick<ImageRow, "id" | "generationId" | "slot" | "status" | "createdAt">>,
  ) {
    if (this.engine !== "postgres" || slots.length === 0) {
      await this.insert(row);
      if (slots.length > 0) await this.db.insertInto("images").values(slots).execute();
      return;
    }
    const references = this.referenceRows(row);
    const base = this.db.with("generation", (db) =>
      db.insertInto("generations").values(this.columns(row)).returning("id"),
    );
    if (references.length === 0) {
      await base.insertInto("images").values(slots).execute();
      return;
    }
    // The references ride in the same statement (their table has no foreign key to wait for).
    await base
      .with("reference", (db) =>
        db.insertInto("generationReferences").values(references).returning("position"),
      )
      .insertInto("images")
      .values(slots)
      .execute();
  }

  private columns(row: NewGeneration) {
    return {
      id: row.id,
      guildId: row.guildId,
      channelId: row.channelId,
      userId: row.userId,
      interactionId: row.interactionId,
      interactionToken: row.interactionToken,
      applicationId: row.applicationId,
      locale: row.locale ?? null,
      publicLocale: row.publicLocale ?? null,
      prompt: row.prompt,
      params: JSON.stringify(row.params),
      model: row.model,
      requested: row.requested,
      createdAt: row.createdAt,
      parentImageId: referenceIdsOf(row)[0] ?? null,
      status: "running" as const,
      delivery: row.delivery ?? "channel",
    };
  }

  async get(id: string): Promise<GenerationRow | undefined> {
    const row = await this.db.selectFrom("generations").selectAll().where("id", "=", id).executeTakeFirst();
    return row && fromRaw(row);
  }

  /**
   * Settles a running generation and returns it as settled (in the same statement: one round trip fewer
   * between a generation's last image and its grid); undefined when it was already settled.
   */
  async finish(
    id: string,
    status: Exclude<GenerationStatus, "running">,
    finishedAt: number,
  ): Promise<GenerationRow | undefined> {
    const row = await this.db
      .updateTable("generations")
      .set({ status, finishedAt })
      .where("id", "=", id)
      .where("status", "=", "running")
      .returningAll()
      .executeTakeFirst();
    return row && fromRaw(row);
  }

  /**
   * Marks a running generation succeeded if every one of its slots has, in one statement; undefined (nothing
   * changed) when a slot is still open or did not succeed, or the generation is no longer running.
   */
  async finishIfAllSucceeded(id: string, finishedAt: number): Promise<GenerationRow | undefined> {
    const row = await this.db
      .updateTable("generations")
      .set({ status: "succeeded", finishedAt })
      .where("id", "=", id)
      .where("status", "=", "running")
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("images")
              .select("images.id")
              .where("images.generationId", "=", id)
              .where("images.status", "!=", "succeeded"),
          ),
        ),
      )
      .returningAll()
      .executeTakeFirst();
    return row && fromRaw(row);
  }

  async runningCount(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom("generations")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("userId", "=", userId)
      .where("status", "=", "running")
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async setMessageId(id: string, messageId: string): Promise<void> {
    await this.db.updateTable("generations").set({ messageId }).where("id", "=", id).execute();
  }

  /** Generations whose result has not reached Discord yet: running, or finished while the bot was away. */
  async undelivered(): Promise<GenerationRow[]> {
    const rows = await this.db
      .selectFrom("generations")
      .selectAll()
      .where("deliveredAt", "is", null)
      .orderBy("createdAt")
      .execute();
    return rows.map(fromRaw);
  }

  /**
   * The latest `limit` generations drawn from an image (variations, scenes, as any of their references), newest
   * first; none that failed whole. `userId`: only that member's. A popular library image may have been drawn
   * from thousands of times: the limit keeps one reply from reading them all (countFromParent counts them).
   */
  async latestFromParent(imageId: string, limit: number, userId?: string): Promise<GenerationRow[]> {
    let query = this.db
      .selectFrom("generations")
      .selectAll()
      .where("id", "in", this.drawnFrom(imageId))
      .where("status", "!=", "failed");
    if (userId !== undefined) query = query.where("userId", "=", userId);
    const rows = await query.orderBy("createdAt", "desc").orderBy("id", "desc").limit(limit).execute();
    return rows.map(fromRaw);
  }

  /** How many generations were drawn from an image (none that failed whole); `userId`: only that member's. */
  async countFromParent(imageId: string, userId?: string): Promise<number> {
    let query = this.db
      .selectFrom("generations")
      .select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("id", "in", this.drawnFrom(imageId))
      .where("status", "!=", "failed");
    if (userId !== undefined) query = query.where("userId", "=", userId);
    const row = await query.executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The ids of the generations an image is a reference of. */
  private drawnFrom(imageId: string) {
    return this.db.selectFrom("generationReferences").select("generationId").where("imageId", "=", imageId);
  }

  /** The images a generation was drawn from, in the order the model received them. */
  async references(generationId: string): Promise<GenerationReference[]> {
    return this.db
      .selectFrom("generationReferences")
      .select(["position", "imageId", "referenceUrl"])
      .where("generationId", "=", generationId)
      .orderBy("position")
      .execute();
  }

  /**
   * Records where reference `position` of a generation was uploaded, unless a URL is recorded already; the URL
   * recorded.
   */
  async rememberReferenceUrl(id: string, position: number, url: string): Promise<string | undefined> {
    await this.db
      .updateTable("generationReferences")
      .set({ referenceUrl: url })
      .where("generationId", "=", id)
      .where("position", "=", position)
      .where("referenceUrl", "is", null)
      .execute();
    const row = await this.db
      .selectFrom("generationReferences")
      .select("referenceUrl")
      .where("generationId", "=", id)
      .where("position", "=", position)
      .executeTakeFirst();
    return row?.referenceUrl ?? undefined;
  }

  /**
   * Forgets where a deleted image was uploaded for the models (its lineage rows stay: they hold ids only): no
   * later job sends that copy, and the database keeps no address of it.
   */
  async forgetReferenceUrls(imageId: string): Promise<void> {
    await this.db
      .updateTable("generationReferences")
      .set({ referenceUrl: null })
      .where("imageId", "=", imageId)
      .where("referenceUrl", "is not", null)
      .execute();
    await this.db
      .updateTable("generations")
      .set({ referenceUrl: null })
      .where("parentImageId", "=", imageId)
      .where("referenceUrl", "is not", null)
      .execute();
  }

  async markDelivered(id: string, at: number): Promise<void> {
    await this.db.updateTable("generations").set({ deliveredAt: at }).where("id", "=", id).execute();
  }
}
