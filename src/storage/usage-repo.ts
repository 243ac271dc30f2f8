// The usage ledger: reservations and refunds of images and videos, counted per UTC day.
import type { Db } from "./database.ts";

export type UsageKind = "image" | "video";

export interface LedgerEntry {
  day: string;
  guildId: string | null;
  userId: string;
  kind: UsageKind;
  units: number;
  jobId: string;
  model: string;
  createdAt: number;
}

export class UsageRepo {
  private readonly insertStmt;
  private readonly userStmt;
  private readonly guildStmt;
  private readonly everywhereStmt;
  private readonly jobStmt;
  private readonly reservationStmt;
  private readonly userModelsStmt;
  private readonly guildModelsStmt;

  constructor(db: Db) {
    this.insertStmt =
      db.prepare(`INSERT INTO usage_ledger (day, guild_id, user_id, kind, units, job_id, model, created_at)
      VALUES (@day, @guildId, @userId, @kind, @units, @jobId, @model, @createdAt)`);
    this.userStmt = db.prepare<[string, string, string | null, UsageKind], { n: number | null }>(
      "SELECT sum(units) AS n FROM usage_ledger WHERE day = ? AND user_id = ? AND guild_id IS ? AND kind = ?",
    );
    this.everywhereStmt = db.prepare<[string, string, UsageKind], { n: number | null }>(
      "SELECT sum(units) AS n FROM usage_ledger WHERE day = ? AND user_id = ? AND kind = ?",
    );
    this.guildStmt = db.prepare<[string, string, UsageKind], { n: number | null }>(
      "SELECT sum(units) AS n FROM usage_ledger WHERE day = ? AND guild_id = ? AND kind = ?",
    );
    this.jobStmt = db.prepare<[string, UsageKind], { n: number | null }>(
      "SELECT sum(units) AS n FROM usage_ledger WHERE job_id = ? AND kind = ?",
    );
    this.reservationStmt = db.prepare<[string, UsageKind], LedgerEntry>(
      `SELECT day, guild_id AS guildId, user_id AS userId, kind, units, job_id AS jobId, model,
       created_at AS createdAt FROM usage_ledger WHERE job_id = ? AND kind = ? AND units > 0 ORDER BY rowid LIMIT 1`,
    );
    this.userModelsStmt = db.prepare<[string, string, string | null], { model: string; units: number }>(
      "SELECT model, sum(units) AS units FROM usage_ledger WHERE day = ? AND user_id = ? AND guild_id IS ? GROUP BY model",
    );
    this.guildModelsStmt = db.prepare<[string, string], { model: string; units: number }>(
      "SELECT model, sum(units) AS units FROM usage_ledger WHERE day = ? AND guild_id = ? GROUP BY model",
    );
  }

  add(entry: LedgerEntry): void {
    this.insertStmt.run(entry);
  }

  /** A user's use in one guild (or in DMs when guildId is null) on a day. */
  usedByUser(day: string, userId: string, guildId: string | null, kind: UsageKind): number {
    return this.userStmt.get(day, userId, guildId, kind)?.n ?? 0;
  }

  /** A user's use on a day in every guild and in DMs together (the bot-wide cap). */
  usedByUserEverywhere(day: string, userId: string, kind: UsageKind): number {
    return this.everywhereStmt.get(day, userId, kind)?.n ?? 0;
  }

  usedByGuild(day: string, guildId: string, kind: UsageKind): number {
    return this.guildStmt.get(day, guildId, kind)?.n ?? 0;
  }

  /** The row that reserved a job's units: its day, owner and model are its refunds' too. */
  reservation(jobId: string, kind: UsageKind): LedgerEntry | undefined {
    return this.reservationStmt.get(jobId, kind);
  }

  /** What a job holds now: its reservation less its refunds. */
  heldByJob(jobId: string, kind: UsageKind): number {
    return this.jobStmt.get(jobId, kind)?.n ?? 0;
  }

  /** Units per model on a day: one user's in a guild (or DMs), or the whole guild's. */
  unitsByModel(day: string, scope: { userId: string; guildId: string | null } | { guildId: string }) {
    return "userId" in scope
      ? this.userModelsStmt.all(day, scope.userId, scope.guildId)
      : this.guildModelsStmt.all(day, scope.guildId);
  }
}
