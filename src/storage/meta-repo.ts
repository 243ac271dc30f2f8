// Facts about the database itself.
import type { Executor } from "./database.ts";

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
}
