// The audit log: every moderator action and every blocked prompt, with who, what and when.
import type { Db } from "./database.ts";

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
  private readonly insertStmt;
  private readonly recentStmt;

  constructor(db: Db) {
    this.insertStmt =
      db.prepare(`INSERT INTO audit_log (guild_id, actor_id, action, target_user_id, target_id,
      details, created_at) VALUES (@guildId, @actorId, @action, @targetUserId, @targetId, @details, @createdAt)`);
    this.recentStmt = db.prepare<[string | null, number], AuditEntry & { id: number; details: string }>(
      `SELECT id, guild_id AS guildId, actor_id AS actorId, action, target_user_id AS targetUserId,
       target_id AS targetId, details, created_at AS createdAt FROM audit_log WHERE guild_id IS ?
       ORDER BY id DESC LIMIT ?`,
    );
  }

  add(entry: AuditEntry): number {
    return Number(this.insertStmt.run({ ...entry, details: JSON.stringify(entry.details) }).lastInsertRowid);
  }

  recent(guildId: string | null, limit: number): Array<AuditEntry & { id: number }> {
    return this.recentStmt.all(guildId, limit).map((r) => ({ ...r, details: JSON.parse(r.details) }));
  }
}
