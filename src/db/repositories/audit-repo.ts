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

  async recent(guildId: string | null, limit: number): Promise<Array<AuditEntry & { id: number }>> {
    const rows = await this.db
      .selectFrom("auditLog")
      .select(["id", "guildId", "actorId", "action", "targetUserId", "targetId", "details", "createdAt"])
      .where("guildId", "is not distinct from", guildId)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      ...r,
      id: Number(r.id),
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }
}
