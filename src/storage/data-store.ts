// What services hold: the repositories over the database, and transactions that get their own repositories.
import type { Kysely } from "kysely";
import {
  type DatabaseSettings,
  type Engine,
  type Executor,
  isConflict,
  openAndMigrate,
  redactUrl,
  unavailable,
} from "./database.ts";
import { makeRepos, type Repos } from "./repos.ts";
import type { Tables } from "./schema.ts";

export interface TransactionOptions {
  /**
   * Names of what the transaction decides for (e.g. `user:123`, `guild:456`, `job:<uuid>`). On PostgreSQL each is
   * held as a transaction-scoped advisory lock, taken in sorted order, so two processes deciding for the same
   * user or job take turns and never deadlock. SQLite runs one transaction at a time anyway.
   */
  locks?: readonly string[];
}

export class DataStore {
  /** Repositories outside any transaction: each call is its own statement. */
  readonly repos: Repos;

  constructor(
    readonly db: Kysely<Tables>,
    readonly engine: Engine,
    /** Where the rows are, with no password: for logs. */
    readonly description: string,
  ) {
    this.repos = makeRepos(db, engine);
  }

  /**
   * Runs `fn` in one transaction with repositories bound to it. Keep it short and free of network calls other
   * than the database: on SQLite every other query waits for it. A conflict PostgreSQL resolved by aborting
   * one side (serialization failure, deadlock) runs `fn` again, so `fn` must only touch the database.
   */
  async transaction<T>(
    fn: (repos: Repos, trx: Executor) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const locks = options.locks ?? [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const repos = makeRepos(trx, this.engine, true);
          await repos.locks.take(locks);
          return fn(repos, trx);
        });
      } catch (err) {
        if (attempt < 5 && isConflict(err)) {
          await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 20));
          continue;
        }
        throw unavailable(err);
      }
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Opens the database named by the settings and brings its schema up to date. */
export async function openDataStore(settings: DatabaseSettings): Promise<DataStore> {
  const { db, engine } = await openAndMigrate(settings);
  return new DataStore(db, engine, settings.kind === "postgres" ? redactUrl(settings.url) : settings.file);
}
