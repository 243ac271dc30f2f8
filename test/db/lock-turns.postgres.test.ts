// Transactions of one process that take the same lock wait for it in the process, not in PostgreSQL: a burst of
// admissions in one server (every one takes `guild:<id>`) must not hold every pool connection while it waits.
import { sql } from "kysely";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { type DataStore, openDataStore } from "../../src/db/data-store.ts";
import { makeTempDir, sharedEngines, type TempDir, testConfig } from "../support/env.ts";

let dir: TempDir | undefined;
let data: DataStore | undefined;
afterEach(async () => {
  await data?.close();
  dir?.remove();
  data = dir = undefined;
});

/** This file's connections are told apart by it: other test files share the server. */
const APPLICATION = `crbot-turns-${process.pid}`;
/**
 * Lock names no other test takes: advisory locks hold database-wide, and test files running beside this one
 * on the same database take `guild:<id>` locks of the sandbox's server ids.
 */
const RUN = `${process.pid}${Date.now()}`.slice(-9);

describe("transactions that take the same lock in one process", () => {
  it("wait their turn without a connection: one at a time in the database, the pool free for other queries", async () => {
    const shared = sharedEngines();
    if (!shared) throw new Error("runs in the engines tier only");
    dir = makeTempDir();
    const config = testConfig(dir.path);
    data = await openDataStore({
      kind: "postgres",
      url: `${config.databaseUrl}&application_name=${APPLICATION}`,
    });
    const store = data;
    const admin = new pg.Client({ connectionString: shared.databaseUrl });
    await admin.connect();
    try {
      const spans: Array<{ start: number; end: number }> = [];
      const order: string[] = [];
      const locked = Array.from({ length: 12 }, (_, i) =>
        store.transaction(
          async (_repos, trx) => {
            const start = performance.now();
            await sql`SELECT pg_sleep(0.1)`.execute(trx);
            spans.push({ start, end: performance.now() });
            order.push(`locked ${i}`);
          },
          { locks: [`guild:1${RUN}00000001`, `user:2${RUN}000000${String(i).padStart(2, "0")}`] },
        ),
      );
      // Asked after all twelve: with nine of them waiting inside PostgreSQL, the pool (10) would have a
      // connection for it only once the first had ended.
      const free = sql`SELECT 1`.execute(store.db).then(() => order.push("free"));
      // Sampled while they run: how many of this process's backends wait for an advisory lock.
      let waitingMost = 0;
      let busyMost = 0;
      const sampling = (async () => {
        while (spans.length < 12) {
          const { rows } = await admin.query<{ waiting: string; busy: string }>(
            `SELECT
               (SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                 WHERE a.application_name = $1 AND l.locktype = 'advisory' AND NOT l.granted) AS waiting,
               (SELECT count(*) FROM pg_stat_activity
                 WHERE application_name = $1 AND state <> 'idle') AS busy`,
            [APPLICATION],
          );
          waitingMost = Math.max(waitingMost, Number(rows[0]?.waiting));
          busyMost = Math.max(busyMost, Number(rows[0]?.busy));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      await Promise.all([...locked, free, sampling]);

      expect(waitingMost).toBe(0);
      expect(busyMost).toBeGreaterThanOrEqual(1);
      expect(busyMost).toBeLessThanOrEqual(2);
      // The lock still does its job: no two of them ever overlapped.
      const sorted = [...spans].sort((a, b) => a.start - b.start);
      for (let k = 1; k < sorted.length; k++) {
        expect(sorted[k]?.start).toBeGreaterThanOrEqual(sorted[k - 1]?.end as number);
      }
      expect(order[0]).toBe("free");
      expect(store.lockTurns.size).toBe(0);
    } finally {
      await admin.end();
    }
  });
});
