// What services hold: the repositories over the database, and transactions that get their own repositories.
import { type Kysely, sql } from "kysely";
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

/**
 * This process's transactions in line for each lock name, one at a time (PostgreSQL). Several transactions
 * of one process that take the same lock (a burst of admissions in one server all take `guild:<id>`) would
 * otherwise each hold a pool connection while they wait for it in the database, and leave none for any other
 * query: after 100 members' /character at once, the jobs' first create went out 578 ms after the first
 * command, behind nearly every admission. Waiting here instead, they hold no connection; the advisory locks
 * still keep processes apart. Entries live while someone holds or waits for the name.
 */
class LockTurns {
  private readonly tails = new Map<string, Promise<void>>();

  /** Waits for the turn at every name (in sorted order, so two callers never wait on each other). */
  async take(names: readonly string[]): Promise<() => void> {
    const releases: Array<() => void> = [];
    for (const name of [...new Set(names)].sort()) {
      const before = this.tails.get(name) ?? Promise.resolve();
      let release!: () => void;
      const done = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = before.then(() => done);
      this.tails.set(name, tail);
      await before;
      releases.push(() => {
        release();
        if (this.tails.get(name) === tail) this.tails.delete(name);
      });
    }
    return () => {
      for (const release of releases.reverse()) release();
    };
  }

  /** How many names someone holds or waits for (for tests: none once everything is done). */
  get size(): number {
    return this.tails.size;
  }
}

export class DataStore {
  /** Repositories outside any transaction: each call is its own statement. */
  readonly repos: Repos;
  /** See LockTurns; SQLite runs one transaction at a time anyway. */
  readonly lockTurns = new LockTurns();
  /** The names `exclusively` runs under in this process now. */
  private readonly running = new Set<string>();

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
    const endTurns =
      this.engine === "postgres" && locks.length > 0 ? await this.lockTurns.take(locks) : undefined;
    try {
      return await this.run(fn, locks);
    } finally {
      endTurns?.();
    }
  }

  private async run<T>(
    fn: (repos: Repos, trx: Executor) => Promise<T>,
    locks: readonly string[],
  ): Promise<T> {
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

  /**
   * Runs `fn` only if no other process runs something under `name` now: a PostgreSQL session advisory lock,
   * tried (never waited for) on a connection held for the run and released after it. Undefined when another
   * holds it. SQLite belongs to one process, whose callers are told apart by the same name in this process.
   */
  async exclusively<T>(name: string, fn: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.running.has(name)) return undefined;
    this.running.add(name);
    try {
      if (this.engine !== "postgres") return { value: await fn() };
      return await this.db.connection().execute(async (conn) => {
        const taken = await sql<{
          taken: boolean;
        }>`SELECT pg_try_advisory_lock(hashtextextended(${name}, 1)) AS taken`.execute(conn);
        if (!taken.rows[0]?.taken) return undefined;
        try {
          return { value: await fn() };
        } finally {
          await sql`SELECT pg_advisory_unlock(hashtextextended(${name}, 1))`.execute(conn);
        }
      });
    } finally {
      this.running.delete(name);
    }
  }

  /** Whether the database answers a trivial query (for readiness probes); throws the driver's error if not. */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  /**
   * After an erasure: SQLite copies the write-ahead log into the database file and truncates it to nothing, so
   * the old pages (which held what was erased) are gone from the -wal file too. PostgreSQL: nothing to do here
   * (no live row holds it; see README for VACUUM and backups).
   */
  async checkpoint(): Promise<void> {
    if (this.engine !== "sqlite") return;
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(this.db);
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
