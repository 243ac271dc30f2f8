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

  /**
   * Claims the member's results finished late that they have not been told of yet, oldest first: each is marked
   * told at `at` by the statement that claims it, so two uses of the bot at once tell each result once.
   */
  async claimUntold(userId: string, at: number, limit = 10): Promise<LateResult[]> {
    const claimIn = (table: "generations" | "videos") =>
      this.db
        .updateTable(table)
        .set({ laterNoticeAt: at })
        .where("id", "in", (eb) =>
          eb
            .selectFrom(table)
            .select("id")
            .where("userId", "=", userId)
            .where("deliveredLaterAt", "is not", null)
            .where("laterNoticeAt", "is", null)
            .orderBy("deliveredLaterAt")
            .limit(limit),
        )
        .where("laterNoticeAt", "is", null)
        .returning(["id", "prompt", "deliveredLaterAt"])
        .execute();
    const [generations, videos] = [await claimIn("generations"), await claimIn("videos")];
    const claimed = [
      ...generations.map((r) => ({ kind: "generation" as const, ...r })),
      ...videos.map((r) => ({ kind: "video" as const, ...r })),
    ]
      .map((r) => ({ ...r, deliveredLaterAt: Number(r.deliveredLaterAt) }))
      .sort((a, b) => a.deliveredLaterAt - b.deliveredLaterAt);
    // Told in one note of at most `limit`: the rest are handed back for the next use.
    await this.release(claimed.slice(limit), at);
    return claimed.slice(0, limit);
  }

  /** Hands back results claimed at `at` whose note could not be sent: the next use tells them. */
  async release(results: readonly LateResult[], at: number): Promise<void> {
    for (const [kind, table] of [
      ["generation", "generations"],
      ["video", "videos"],
    ] as const) {
      const ids = results.filter((r) => r.kind === kind).map((r) => r.id);
      if (ids.length === 0) continue;
      await this.db
        .updateTable(table)
        .set({ laterNoticeAt: null })
        .where("id", "in", ids)
        .where("laterNoticeAt", "=", at)
        .execute();
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
