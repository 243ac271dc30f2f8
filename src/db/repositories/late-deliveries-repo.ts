// Results that finished after their interaction's token expired where the bot may not post (interaction-only
// delivery): marked so they are kept, listed to their member on their next use of the bot, then marked told.
import type { Executor } from "../database.ts";

/** One result kept for its member: a generation's grid or a video. */
export interface LateResult {
  kind: "generation" | "video";
  id: string;
  prompt: string;
  deliveredLaterAt: number;
}

export class LateDeliveriesRepo {
  constructor(private readonly db: Executor) {}

  /** Marks a job's result as finished too late for its interaction (once; a later mark keeps the first time). */
  async mark(kind: LateResult["kind"], id: string, at: number): Promise<void> {
    const table = kind === "generation" ? "generations" : "videos";
    await this.db
      .updateTable(table)
      .set({ deliveredLaterAt: at, deliveredAt: at })
      .where("id", "=", id)
      .where("deliveredLaterAt", "is", null)
      .execute();
  }

  /** The member's results finished late that they have not been told of yet, oldest first. */
  async untold(userId: string, limit = 10): Promise<LateResult[]> {
    const untoldIn = (table: "generations" | "videos") =>
      this.db
        .selectFrom(table)
        .select(["id", "prompt", "deliveredLaterAt"])
        .where("userId", "=", userId)
        .where("deliveredLaterAt", "is not", null)
        .where("laterNoticeAt", "is", null)
        .orderBy("deliveredLaterAt")
        .limit(limit)
        .execute();
    const [generations, videos] = [await untoldIn("generations"), await untoldIn("videos")];
    return [
      ...generations.map((r) => ({ kind: "generation" as const, ...r })),
      ...videos.map((r) => ({ kind: "video" as const, ...r })),
    ]
      .map((r) => ({ ...r, deliveredLaterAt: Number(r.deliveredLaterAt) }))
      .sort((a, b) => a.deliveredLaterAt - b.deliveredLaterAt)
      .slice(0, limit);
  }

  /** Records that the member was told of these results. */
  async markTold(results: readonly LateResult[], at: number): Promise<void> {
    const ids = (kind: LateResult["kind"]) => results.filter((r) => r.kind === kind).map((r) => r.id);
    const generations = ids("generation");
    const videos = ids("video");
    if (generations.length > 0) {
      await this.db
        .updateTable("generations")
        .set({ laterNoticeAt: at })
        .where("id", "in", generations)
        .execute();
    }
    if (videos.length > 0) {
      await this.db.updateTable("videos").set({ laterNoticeAt: at }).where("id", "in", videos).execute();
    }
  }

  /** Which of these generations finished after their interaction expired (for /reference list's marks). */
  async lateGenerations(generationIds: readonly string[]): Promise<Set<string>> {
    if (generationIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom("generations")
      .select("id")
      .where("id", "in", generationIds)
      .where("deliveredLaterAt", "is not", null)
      .execute();
    return new Set(rows.map((r) => r.id));
  }
}
