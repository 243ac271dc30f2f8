// The generations table: one row per /character request.
import type { Db } from "./database.ts";

export type GenerationStatus = "running" | "succeeded" | "partial" | "failed";

export interface GenerationParams {
  aspectRatio: string;
  safetyFilterLevel?: string;
}

export interface InteractionRef {
  interactionId: string;
  interactionToken: string;
  applicationId: string;
}

export interface GenerationRow {
  id: string;
  guildId: string | null;
  channelId: string | null;
  userId: string;
  interactionId: string | null;
  interactionToken: string | null;
  applicationId: string | null;
  messageId: string | null;
  prompt: string;
  params: GenerationParams;
  model: string;
  requested: number;
  status: GenerationStatus;
  createdAt: number;
  finishedAt: number | null;
  /** When the result reached Discord; null while running, or finished while the bot was away. */
  deliveredAt: number | null;
}

export type NewGeneration = Omit<GenerationRow, "status" | "finishedAt" | "messageId" | "deliveredAt">;

const COLUMNS = `id, guild_id AS guildId, channel_id AS channelId, user_id AS userId,
  interaction_id AS interactionId, interaction_token AS interactionToken, application_id AS applicationId,
  message_id AS messageId, prompt, params, model, requested, status, created_at AS createdAt,
  finished_at AS finishedAt, delivered_at AS deliveredAt`;

type RawRow = Omit<GenerationRow, "params"> & { params: string };
const fromRaw = (row: RawRow | undefined): GenerationRow | undefined =>
  row && { ...row, params: JSON.parse(row.params) as GenerationParams };

export class GenerationsRepo {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly finishStmt;
  private readonly setMessageStmt;
  private readonly undeliveredStmt;
  private readonly runningStmt;
  private readonly deliveredStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(`INSERT INTO generations (id, guild_id, channel_id, user_id, interaction_id,
      interaction_token, application_id, prompt, params, model, requested, status, created_at)
      VALUES (@id, @guildId, @channelId, @userId, @interactionId, @interactionToken, @applicationId, @prompt,
      @params, @model, @requested, 'running', @createdAt)`);
    this.getStmt = db.prepare<[string], RawRow>(`SELECT ${COLUMNS} FROM generations WHERE id = ?`);
    this.finishStmt = db.prepare(
      "UPDATE generations SET status = @status, finished_at = @finishedAt WHERE id = @id AND status = 'running'",
    );
    this.setMessageStmt = db.prepare("UPDATE generations SET message_id = ? WHERE id = ?");
    this.undeliveredStmt = db.prepare<[], RawRow>(
      `SELECT ${COLUMNS} FROM generations WHERE delivered_at IS NULL ORDER BY created_at`,
    );
    this.deliveredStmt = db.prepare("UPDATE generations SET delivered_at = ? WHERE id = ?");
    this.runningStmt = db.prepare<[string], { n: number }>(
      "SELECT count(*) AS n FROM generations WHERE user_id = ? AND status = 'running'",
    );
  }

  insert(row: NewGeneration): void {
    this.insertStmt.run({ ...row, params: JSON.stringify(row.params) });
  }

  get(id: string): GenerationRow | undefined {
    return fromRaw(this.getStmt.get(id));
  }

  /** Settles a running generation; false when it was already settled. */
  finish(id: string, status: Exclude<GenerationStatus, "running">, finishedAt: number): boolean {
    return this.finishStmt.run({ id, status, finishedAt }).changes > 0;
  }

  runningCount(userId: string): number {
    return this.runningStmt.get(userId)?.n ?? 0;
  }

  setMessageId(id: string, messageId: string): void {
    this.setMessageStmt.run(messageId, id);
  }

  /** Generations whose result has not reached Discord yet: running, or finished while the bot was away. */
  undelivered(): GenerationRow[] {
    return this.undeliveredStmt.all().map((r) => fromRaw(r) as GenerationRow);
  }

  markDelivered(id: string, at: number): void {
    this.deliveredStmt.run(at, id);
  }
}
