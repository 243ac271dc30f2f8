// Replicate webhook deliveries already handled (by webhook-id), remembered for a while so that a repeat, even
// after a restart, changes nothing.
import type { Executor } from "../database.ts";

export class WebhookDeliveriesRepo {
  constructor(private readonly db: Executor) {}

  /**
   * Records delivery `id` as seen at `now`; true when it was not seen within the last `memoryMs` (the first
   * time), false for a repeat. Rows older than `memoryMs` are removed first, so the table holds only the
   * deliveries of that window. Insert-if-absent: of two processes recording the same id at once, one wins.
   */
  async firstTime(id: string, now: number, memoryMs: number): Promise<boolean> {
    await this.db
      .deleteFrom("webhookDeliveries")
      .where("seenAt", "<", now - memoryMs)
      .execute();
    const inserted = await this.db
      .insertInto("webhookDeliveries")
      .values({ id, seenAt: now })
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }
}
