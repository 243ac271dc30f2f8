// Facts about the database itself.
import type { Executor } from "../database.ts";

export class MetaRepo {
  constructor(private readonly db: Executor) {}

  /** This database's random id, made by the migrator: which files in a shared store are its own. */
  async installId(): Promise<string> {
    const row = await this.db
      .selectFrom("meta")
      .select("value")
      .where("key", "=", "install_id")
      .executeTakeFirst();
    if (!row) throw new Error("the database has no install id");
    return row.value;
  }

  /** The value kept under `key`, if any. */
  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom("meta").select("value").where("key", "=", key).executeTakeFirst();
    return row?.value;
  }

  /**
   * The value kept under `key`, storing `value` first when there is none. Insert-if-absent and then read back,
   * so two processes starting together agree on whichever value landed first.
   */
  async getOrInsert(key: string, value: string): Promise<string> {
    await this.db
      .insertInto("meta")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
    const row = await this.db.selectFrom("meta").select("value").where("key", "=", key).executeTakeFirst();
    if (!row) throw new Error(`the database kept no ${key}`);
    return row.value;
  }

  /**
   * Sets `key` to `now` if it is unset or at least `everyMs` older (epoch ms as text), as one compare-and-set: of
   * two processes claiming at once, one gets true. Says whether this call claimed it.
   */
  async claimEvery(key: string, now: number, everyMs: number): Promise<boolean> {
    const inserted = await this.db
      .insertInto("meta")
      .values({ key, value: String(now) })
      .onConflict((oc) => oc.column("key").doNothing())
      .returning("key")
      .executeTakeFirst();
    if (inserted) return true;
    const last = await this.get(key);
    if (last === undefined || now - Number(last) < everyMs) return false;
    const claimed = await this.db
      .updateTable("meta")
      .set({ value: String(now) })
      .where("key", "=", key)
      .where("value", "=", last)
      .executeTakeFirst();
    return claimed.numUpdatedRows > 0n;
  }
}
