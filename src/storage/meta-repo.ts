// Facts about the database itself.
import type { Db } from "./database.ts";

export class MetaRepo {
  private readonly getStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], string>("SELECT value FROM meta WHERE key = ?").pluck();
  }

  /** This database's random id, made by its migration: which files in a shared store are its own. */
  installId(): string {
    const id = this.getStmt.get("install_id");
    if (!id) throw new Error("the database has no install id");
    return id;
  }
}
