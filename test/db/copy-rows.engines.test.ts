// storage:copy's row verification on the engine this tier runs: two databases compared page by page, in key
// order, with pages smaller than the tables, count every row missing, different and extra on the target.
import { afterEach, describe, expect, it } from "vitest";
import { compareTables, copyTables, type Rows, type TableDifference } from "../../src/db/copy-rows.ts";
import { databaseSettings, openAndMigrate } from "../../src/db/database.ts";
import { makeTempDir, type TempDir, testConfig } from "../support/env.ts";

const dirs: TempDir[] = [];
const open: Rows[] = [];
afterEach(async () => {
  for (const side of open.splice(0)) await side.db.destroy();
  for (const dir of dirs.splice(0)) dir.remove();
});

/** A new, migrated database of its own (a SQLite file, or its own PostgreSQL schema). */
async function database(): Promise<Rows> {
  const dir = makeTempDir();
  dirs.push(dir);
  const side = await openAndMigrate(databaseSettings(testConfig(dir.path)));
  open.push(side);
  return side;
}

const audit = (details: string) => ({
  guildId: null,
  actorId: "1",
  action: "x",
  targetUserId: null,
  targetId: null,
  details,
  createdAt: 1,
});

async function differences(from: Rows, to: Rows, pageSize: number): Promise<TableDifference[]> {
  const found: TableDifference[] = [];
  for await (const d of compareTables(from, to, pageSize)) found.push(d);
  return found;
}

describe("storage:copy's row verification", () => {
  it("compares tables larger than a page row by row, on numbered, two-column text and text-and-integer keys", async () => {
    const from = await database();
    const to = await database();
    await from.db
      .insertInto("auditLog")
      .values([1, 2, 3, 4, 5].map((n) => audit(`{"n":${n}}`)))
      .execute();
    const edits = ["a", "B", "a-b", "ab", "c"].flatMap((jobId) =>
      (["grid", "video"] as const).map((kind) => ({ kind, jobId, scheduledAt: 1 })),
    );
    await from.db.insertInto("pendingMessageEdits").values(edits).execute();
    // A text and an integer key: positions past 9 would be out of order if compared as text.
    const references = ["g1", "g2"].flatMap((generationId) =>
      Array.from({ length: 11 }, (_, i) => ({
        generationId,
        position: i + 1,
        imageId: `i${i}`,
        referenceUrl: i % 2 ? null : `https://example.com/${i}`,
      })),
    );
    await from.db.insertInto("generationReferences").values(references).execute();
    for await (const _ of copyTables(from, to, 2)) {
      // each table copied
    }
    expect(await differences(from, to, 2)).toEqual([]);

    // On the target: audit row 2 gone, row 4 changed, a 6th and 7th added; two edits gone, one added.
    await to.db.deleteFrom("auditLog").where("id", "=", 2).execute();
    await to.db.updateTable("auditLog").set({ details: '{"n":40}' }).where("id", "=", 4).execute();
    await to.db
      .insertInto("auditLog")
      .values([audit("{}"), audit("{}")])
      .execute();
    await to.db
      .deleteFrom("pendingMessageEdits")
      .where("jobId", "in", ["B", "ab"])
      .where("kind", "=", "grid")
      .execute();
    await to.db
      .insertInto("pendingMessageEdits")
      .values({ kind: "grid", jobId: "a-a", scheduledAt: 1 })
      .execute();
    // One lineage row's upload URL cleared (as a deletion does), one gone.
    await to.db
      .updateTable("generationReferences")
      .set({ referenceUrl: null })
      .where("generationId", "=", "g1")
      .where("position", "=", 11)
      .execute();
    await to.db
      .deleteFrom("generationReferences")
      .where("generationId", "=", "g2")
      .where("position", "=", 2)
      .execute();
    for (const pageSize of [1, 2, 3, 500]) {
      expect(await differences(from, to, pageSize)).toEqual([
        { table: "generationReferences", count: 22, missing: 1, differ: 1, extra: 0 },
        { table: "auditLog", count: 5, missing: 1, differ: 1, extra: 2 },
        { table: "pendingMessageEdits", count: 10, missing: 2, differ: 0, extra: 1 },
      ]);
    }
  });
});
