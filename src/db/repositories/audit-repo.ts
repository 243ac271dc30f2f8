// The audit log: every moderator action and every blocked prompt, with who, what and when.
import type { Executor } from "../database.ts";

export interface AuditEntry {
  guildId: string | null;
  actorId: string;
  action: string;
  targetUserId: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  createdAt: number;
}

/** A stored entry: how many times it happened (repeats coalesced into it) beside what it says. */
export type AuditRecord = AuditEntry & { id: number; occurrences: number };

/** Which entries a listing shows: one action (or every action starting with a prefix), about one member. */
export interface AuditFilter {
  action?: string;
  actionPrefix?: string;
  /** Entries this member made or that were about them. */
  memberId?: string;
}

export class AuditRepo {
  constructor(private readonly db: Executor) {}

  async add(entry: AuditEntry): Promise<number> {
    const row = await this.db
      .insertInto("auditLog")
      .values({
        guildId: entry.guildId,
        actorId: entry.actorId,
        action: entry.action,
        targetUserId: entry.targetUserId,
        targetId: entry.targetId,
        details: JSON.stringify(entry.details),
        createdAt: entry.createdAt,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /**
   * Counts `entry` on the actor's latest row of the same action in the same guild made within `windowMs` before
   * it, or adds it as a new row when there is none. The row keeps its first entry's details. Two callers must
   * hold a lock on the actor (admission's member lock) so that they do not both add a row.
   */
  async addOrRepeat(entry: AuditEntry, windowMs: number): Promise<{ id: number; occurrences: number }> {
    const repeated = await this.db
      .updateTable("auditLog")
      .set((eb) => ({ occurrences: eb("occurrences", "+", 1) }))
      .where("id", "=", (eb) =>
        eb
          .selectFrom("auditLog")
          .select("id")
          .where("guildId", "is not distinct from", entry.guildId)
          .where("actorId", "=", entry.actorId)
          .where("action", "=", entry.action)
          .where("createdAt", ">", entry.createdAt - windowMs)
          .orderBy("id", "desc")
          .limit(1),
      )
      .returning(["id", "occurrences"])
      .executeTakeFirst();
    if (repeated) return { id: Number(repeated.id), occurrences: Number(repeated.occurrences) };
    return { id: await this.add(entry), occurrences: 1 };
  }

  /** A guild's entries matching `filter`, newest first, `limit` of them after skipping `offset`. */
  async list(
    guildId: string | null,
    filter: AuditFilter,
    offset: number,
    limit: number,
  ): Promise<AuditRecord[]> {
    let query = this.db
      .selectFrom("auditLog")
      .select([
        "id",
        "guildId",
        "actorId",
        "action",
        "targetUserId",
        "targetId",
        "details",
        "createdAt",
        "occurrences",
      ])
      .where("guildId", "is not distinct from", guildId);
    if (filter.action !== undefined) query = query.where("action", "=", filter.action);
    if (filter.actionPrefix !== undefined) query = query.where("action", "like", `${filter.actionPrefix}%`);
    const member = filter.memberId;
    if (member !== undefined) {
      query = query.where((eb) => eb.or([eb("actorId", "=", member), eb("targetUserId", "=", member)]));
    }
    const rows = await query.orderBy("id", "desc").offset(offset).limit(limit).execute();
    return rows.map((r) => ({
      ...r,
      id: Number(r.id),
      occurrences: Number(r.occurrences),
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }

  recent(guildId: string | null, limit: number): Promise<AuditRecord[]> {
    return this.list(guildId, {}, 0, limit);
  }
}
