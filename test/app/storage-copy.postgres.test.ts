// `npm run storage:copy` moves an embedded install (SQLite + files under DATA_DIR) to PostgreSQL + S3: every row
// and every live file arrives, the sha256 of each object is checked, and a second run copies nothing.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DataStore, openDataStore } from "../../src/db/data-store.ts";
import { FileStore } from "../../src/files/file-store.ts";
import { type ObjectStore, readAll } from "../../src/files/object-store.ts";
import { S3ObjectStore } from "../../src/files/s3-object-store.ts";
import { newId } from "../../src/kit/ids.ts";
import { TEST_ADMIN_URL } from "../support/engines.ts";
import { makeTempDir, type TempDir } from "../support/env.ts";
import { forwardTo, startLocalServer } from "../support/http-proxy.ts";
import { type LocalS3, S3_BUCKET, startS3 } from "../support/s3.ts";
import { runScript } from "../support/spawn.ts";

const SCRIPT = "src/storage-copy.ts";
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let dir: TempDir;
let s3: LocalS3;
let databaseName: string;
let databaseUrl: string;
const prefix = `copy-${randomBytes(4).toString("hex")}`;
const stored: Array<{ fileName: string; sha256: string }> = [];

async function admin(query: string) {
  const client = new pg.Client({ connectionString: TEST_ADMIN_URL });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

/** A small install made the way the bot makes one: rows through the repositories, images through the store. */
async function seed(data: DataStore, files: FileStore) {
  const r = data.repos;
  for (let g = 0; g < 3; g++) {
    const generationId = newId();
    await r.generations.insert({
      id: generationId,
      guildId: "100000000000000001",
      channelId: "100000000000000002",
      userId: `20000000000000000${g}`,
      interactionId: null,
      interactionToken: null,
      applicationId: null,
      prompt: `a knight, take ${g}`,
      params: { aspectRatio: "1:1" },
      model: "google/imagen-4",
      requested: 2,
      createdAt: 1_700_000_000_000 + g,
    });
    for (const slot of [1, 2]) {
      const id = newId();
      await r.images.insertPending(id, generationId, slot, 1_700_000_000_000 + g);
      const png = await sharp({
        create: { width: 64, height: 64, channels: 3, background: { r: 40 * g, g: 80 * slot, b: 120 } },
      })
        .png()
        .toBuffer();
      const facts = await files.writeImage(id, png);
      await r.images.markSucceeded(id, facts, 1_700_000_000_100 + g);
      stored.push({ fileName: facts.fileName, sha256: facts.sha256 });
      if (slot === 1) {
        await r.selections.insert({
          guildId: "100000000000000001",
          userId: `20000000000000000${g}`,
          imageId: id,
          generationId,
          selectedAt: 1_700_000_000_200,
          interactionId: `30000000000000000${g}`,
        });
      }
    }
    await r.usage.add({
      day: "2023-11-14",
      guildId: "100000000000000001",
      userId: `20000000000000000${g}`,
      kind: "image",
      units: 2,
      jobId: generationId,
      model: "google/imagen-4",
      createdAt: 1_700_000_000_000,
    });
    await r.generations.finish(generationId, "succeeded", 1_700_000_000_300);
  }
  await r.audit.add({
    guildId: "100000000000000001",
    actorId: "200000000000000009",
    action: "settings_changed",
    targetUserId: null,
    targetId: null,
    details: { blocklist: ["gore"] },
    createdAt: 1_700_000_000_400,
  });
}

const copy = (args: string[], env: Record<string, string> = {}) =>
  runScript(
    SCRIPT,
    { DATA_DIR: dir.path, ...s3.processEnv(prefix), STORAGE_URL: "", LOG_LEVEL: "warn", ...env },
    args,
  );

const made: string[] = [];
/** A new, empty database of its own for one test; its URL. Dropped after the file. */
async function freshDatabase(options = ""): Promise<string> {
  const name = `${databaseName}_${made.length}`;
  await admin(`CREATE DATABASE ${name} ${options}`);
  made.push(name);
  return databaseUrl.replace(databaseName, name);
}

/** The bucket under one prefix, as the bot's own S3 store sees it. */
const bucketAt = (at: string): ObjectStore =>
  new S3ObjectStore({
    bucket: S3_BUCKET,
    prefix: at,
    endpoint: s3.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
  });

/** The keys of stored files and the owner mark under a prefix. */
async function keysUnder(at: string): Promise<string[]> {
  const bucket = bucketAt(at);
  const keys: string[] = [];
  for (const under of ["images/", "videos/"]) for await (const o of bucket.list(under)) keys.push(o.key);
  if (await bucket.stat("owner")) keys.push("owner");
  bucket.close();
  return keys.sort();
}

/** Rows of `table` in the database at `url` (0 when the table is not there at all). */
async function countRows(url: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = (await client.query("SELECT to_regclass($1)::text AS t", [table])).rows[0].t;
    if (!exists) return 0;
    return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = makeTempDir();
  s3 = await startS3();
  databaseName = `crbot_copy_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE ${databaseName}`);
  databaseUrl = Object.assign(new URL(TEST_ADMIN_URL), { pathname: `/${databaseName}` }).toString();
  const data = await openDataStore({ kind: "sqlite", file: `${dir.path}/bot.sqlite` });
  await seed(data, new FileStore(dir.path));
  await data.repos.meta.getOrInsert("link_secret", "the-source-link-key");
  await data.close();
});

afterAll(async () => {
  await s3?.close();
  for (const name of made) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`).catch(() => {});
  dir?.remove();
});

describe("npm run storage:copy", () => {
  it("copies every row and file, verifies them, and copies nothing the second time", async () => {
    const target = ["--to-database", databaseUrl, "--to-storage", `s3://${S3_BUCKET}/${prefix}`];
    const first = await copy(target);
    expect(first.output).toContain("storage:copy done");
    expect(first.status).toBe(0);
    expect(first.output).toMatch(/generations: 3 rows, 3 written \(new or changed\), 0 unchanged/);
    expect(first.output).toMatch(/images: 6 rows, 6 written/);
    expect(first.output).toMatch(/selections: 3 rows, 3 written/);
    expect(first.output).toMatch(/usageLedger: 3 rows, 3 written/);
    expect(first.output).toContain("every row is on the target with the same values, and no other");
    expect(first.output).toMatch(/files: 6 named by rows, 6 copied, 0 already there, 6 verified by sha256/);

    // The target serves as a bot's own storage: same rows, same install id, the bytes behind every row.
    const copied = await openDataStore({ kind: "postgres", url: databaseUrl });
    const source = await openDataStore({ kind: "sqlite", file: `${dir.path}/bot.sqlite` });
    expect(await copied.repos.meta.installId()).toBe(await source.repos.meta.installId());
    // Signed links made before the move keep working: the generated link key came along.
    expect(await copied.repos.meta.getOrInsert("link_secret", "another key")).toBe("the-source-link-key");
    const user = "200000000000000001";
    expect(await copied.repos.images.countByUser(user, "100000000000000001")).toBe(2);
    expect(await copied.repos.selections.current(user, "100000000000000001")).toEqual(
      await source.repos.selections.current(user, "100000000000000001"),
    );
    const bucket = new S3ObjectStore({
      bucket: S3_BUCKET,
      prefix,
      endpoint: s3.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
    });
    for (const file of stored) {
      const key = `images/${file.fileName}`;
      expect(sha256(await readAll(await bucket.get(key))), key).toBe(file.sha256);
    }

    const second = await copy(target);
    expect(second.output).toContain("storage:copy done");
    expect(second.status).toBe(0);
    expect(second.output).toMatch(/generations: 3 rows, 0 written \(new or changed\), 3 unchanged/);
    expect(second.output).toMatch(/files: 6 named by rows, 0 copied, 6 already there, 6 verified by sha256/);

    // Rows changed on the source since (a reference deleted, a server's blocklist) are brought over again.
    const deleted = (await source.repos.images.listByUser(user, "100000000000000001", 1, 0))[0];
    if (!deleted) throw new Error("no image to delete");
    await source.repos.images.markDeleted(deleted.id, 1_700_000_001_000, user);
    await source.repos.guildSettings.save(
      { ...(await source.repos.guildSettings.get("100000000000000001")), blocklist: ["gore"] },
      "200000000000000009",
      1_700_000_001_000,
    );
    const changed = await copy(target);
    expect(changed.status).toBe(0);
    expect(changed.output).toMatch(/images: 6 rows, 1 written \(new or changed\), 5 unchanged/);
    expect(changed.output).toMatch(/guildSettings: 1 rows, 1 written/);
    expect((await copied.repos.images.get(deleted.id))?.deletedAt).toBe(1_700_000_001_000);
    expect((await copied.repos.guildSettings.get("100000000000000001")).blocklist).toEqual(["gore"]);
    await source.close();

    // An object changed on the target is found by its hash and copied again.
    const victim = stored.find((f) => !f.fileName.startsWith(deleted.id)) as {
      fileName: string;
      sha256: string;
    };
    await bucket.put(`images/${victim.fileName}`, Buffer.from("not the image"), { contentType: "image/png" });
    const third = await copy(target);
    expect(third.status).toBe(0);
    expect(third.output).toMatch(/files: 5 named by rows, 1 copied, 4 already there/);
    expect(sha256(await readAll(await bucket.get(`images/${victim.fileName}`)))).toBe(victim.sha256);
    bucket.close();
    // The identity carries on after the copied ids: a new row does not collide with them.
    const next = await copied.repos.audit.add({
      guildId: null,
      actorId: "1",
      action: "x",
      targetUserId: null,
      targetId: null,
      details: {},
      createdAt: 1,
    });
    expect(next).toBeGreaterThan(1);
    await copied.close();
    // That row exists on the target only: the next copy says so and fails, rather than call the copy complete.
    const extra = await copy(target);
    expect(extra.status).toBe(1);
    expect(extra.output).toMatch(
      /auditLog: 1 rows on the source; on the target 0 missing, 0 different, 1 not on the source/,
    );
    expect(readFileSync(`${dir.path}/images/${victim.fileName}`).length).toBeGreaterThan(0);
  });

  it("refuses a target database that holds another install's rows", async () => {
    await admin(`CREATE DATABASE ${databaseName}_b`);
    const foreign = await openDataStore({
      kind: "postgres",
      url: databaseUrl.replace(databaseName, `${databaseName}_b`),
    });
    await foreign.repos.guildSettings.save(
      { ...(await foreign.repos.guildSettings.get("100000000000000001")), blocklist: ["x"] },
      "1",
      1,
    );
    await foreign.close();
    const out = await copy(["--to-database", databaseUrl.replace(databaseName, `${databaseName}_b`)]);
    expect(out.status).toBe(1);
    expect(out.output).toContain("already holds another install's rows (guildSettings)");
    await admin(`DROP DATABASE IF EXISTS ${databaseName}_b WITH (FORCE)`);
  });

  it("names the flag when the target database cannot be reached, and writes nothing", async () => {
    const out = await copy(["--to-database", "postgres://postgres@127.0.0.1:1/nowhere"]);
    expect(out.status).toBe(2);
    expect(out.output).toMatch(/--to-database the database is unreachable: ECONNREFUSED/);
    const bad = await copy(["--to-database", "mysql://x@y/z"]);
    expect(bad.status).toBe(2);
    expect(bad.output).toContain("--to-database must be a postgres:// URL");
    const none = await copy([]);
    expect(none.status).toBe(2);
    expect(none.output).toContain("usage: npm run storage:copy");
  });
});

describe("npm run storage:copy on a large install, a shared host and a shared bucket", () => {
  it("checks the bucket by HeadObject on a second run: downloads nothing, and still verifies", async () => {
    const at = `${prefix}-head`;
    const target = ["--to-database", await freshDatabase(), "--to-storage", `s3://${S3_BUCKET}/${at}`];
    const first = await copy(target);
    expect(first.status, first.output).toBe(0);
    const files = /files: (\d+) named by rows, \1 copied/.exec(first.output)?.[1];
    expect(Number(files)).toBeGreaterThan(0);

    // Every request the second run sends to the bucket goes through here.
    const seen: string[] = [];
    const forward = forwardTo(s3.endpoint);
    const proxy = await startLocalServer((req, res) => {
      seen.push(`${req.method} ${new URL(req.url ?? "/", "http://x").pathname}`);
      forward(req, res);
    });
    try {
      const second = await copy(target, { S3_ENDPOINT: proxy.url });
      expect(second.status, second.output).toBe(0);
      expect(second.output).toContain(
        `files: ${files} named by rows, 0 copied, ${files} already there, ${files} verified by sha256`,
      );
      const ofStoredFile = (line: string) => /\/(images|videos)\//.test(line);
      expect(seen.filter((l) => l.startsWith("GET ") && ofStoredFile(l))).toEqual([]);
      expect(seen.filter((l) => l.startsWith("HEAD ") && ofStoredFile(l))).toHaveLength(Number(files));
    } finally {
      await proxy.close();
    }
    // The hash the copy compared is the one S3 keeps beside the object.
    const bucket = bucketAt(at);
    for (const file of stored) {
      const info = await bucket.stat(`images/${file.fileName}`);
      if (info) expect(info.sha256).toBe(file.sha256);
    }
    bucket.close();
  });

  it("refuses a database or a bucket prefix of another install before writing to either, and adopts an empty install", async () => {
    // A bucket prefix another install's bot marked as its own, and a new database: refused, nothing written.
    const foreignAt = `${prefix}-foreign`;
    const foreignBucket = bucketAt(foreignAt);
    await new FileStore(foreignBucket).owns("0123456789abcdef0123456789abcdef");
    const fresh = await freshDatabase();
    const out = await copy(["--to-database", fresh, "--to-storage", `s3://${S3_BUCKET}/${foreignAt}`]);
    expect(await countRows(fresh, "generations")).toBe(0);
    expect(await countRows(fresh, "meta")).toBe(0);
    expect(out.status, out.output).toBe(1);
    expect(out.output).toContain("belongs to another install (its owner mark names install 0123456789abcdef");
    expect(await keysUnder(foreignAt)).toEqual(["owner"]);
    foreignBucket.close();

    // A database where another install's bot keeps its rows, and a new prefix: refused, nothing written.
    const other = await freshDatabase();
    const foreign = await openDataStore({ kind: "postgres", url: other });
    const foreignId = await foreign.repos.meta.installId();
    await foreign.repos.audit.add({
      guildId: null,
      actorId: "1",
      action: "x",
      targetUserId: null,
      targetId: null,
      details: {},
      createdAt: 1,
    });
    const freshAt = `${prefix}-fresh`;
    const refused = await copy(["--to-database", other, "--to-storage", `s3://${S3_BUCKET}/${freshAt}`]);
    expect(refused.status, refused.output).toBe(1);
    expect(refused.output).toContain("already holds another install's rows (auditLog)");
    expect(await foreign.repos.meta.installId()).toBe(foreignId);
    expect(await countRows(other, "generations")).toBe(0);
    expect(await countRows(other, "audit_log")).toBe(1);
    expect(await keysUnder(freshAt)).toEqual([]);
    await foreign.close();

    // A database and prefix a bot was started on once and never used: an empty install, adopted whole.
    const empty = await freshDatabase();
    const started = await openDataStore({ kind: "postgres", url: empty });
    const emptyAt = `${prefix}-empty`;
    const emptyBucket = bucketAt(emptyAt);
    expect(await new FileStore(emptyBucket).owns(await started.repos.meta.installId())).toBe(true);
    await started.repos.meta.getOrInsert("link_secret", "the empty install's own key");
    const adopted = await copy(["--to-database", empty, "--to-storage", `s3://${S3_BUCKET}/${emptyAt}`]);
    expect(adopted.status, adopted.output).toBe(0);
    const source = await openDataStore({ kind: "sqlite", file: `${dir.path}/bot.sqlite` });
    const sourceId = await source.repos.meta.installId();
    await source.close();
    expect(await started.repos.meta.installId()).toBe(sourceId);
    expect(await started.repos.meta.getOrInsert("link_secret", "x")).toBe("the-source-link-key");
    expect(await new FileStore(emptyBucket).owner()).toBe(sourceId);
    await started.close();
    emptyBucket.close();
  });

  it("takes the target database's URL from TO_DATABASE_URL, and refuses one with a password on the command line", async () => {
    const onArgv = await copy(["--to-database", "postgres://postgres:hunter2secret@127.0.0.1:5432/db"]);
    expect(onArgv.status).toBe(2);
    expect(onArgv.output).toContain("--to-database must not carry a password");
    expect(onArgv.output).toContain("TO_DATABASE_URL");
    expect(onArgv.output).not.toContain("hunter2secret");
    // Given twice, a password in either would still sit in the command line: refused whichever comes last.
    const twice = await copy([
      "--to-database",
      "postgres://postgres:hunter2secret@127.0.0.1:5432/db",
      "--to-database=postgres://postgres@127.0.0.1:5432/db",
    ]);
    expect(twice.status).toBe(2);
    expect(twice.output).toContain("give --to-database once");
    expect(twice.output).not.toContain("hunter2secret");
    const asParameter = await copy(["--to-database", "postgres://postgres@127.0.0.1:5432/db?password=x"]);
    expect(asParameter.status).toBe(2);
    expect(asParameter.output).toContain("--to-database must not carry a password");

    // The server trusts local connections, so the password is only carried, never checked: enough to show it
    // is taken from the environment and kept out of the output.
    const withPassword = Object.assign(new URL(await freshDatabase()), {
      password: "hunter2secret",
    }).toString();
    const fromEnv = await copy([], { TO_DATABASE_URL: withPassword });
    expect(fromEnv.status, fromEnv.output).toBe(0);
    expect(fromEnv.output).toContain("storage:copy done");
    expect(fromEnv.output).not.toContain("hunter2secret");

    const unreachable = await copy([], { TO_DATABASE_URL: "postgres://postgres:pw@127.0.0.1:1/nowhere" });
    expect(unreachable.status).toBe(2);
    expect(unreachable.output).toMatch(/TO_DATABASE_URL the database is unreachable: ECONNREFUSED/);
    const both = await copy(["--to-database", databaseUrl], { TO_DATABASE_URL: databaseUrl });
    expect(both.status).toBe(2);
    expect(both.output).toContain("TO_DATABASE_URL or --to-database, not both");
  });

  it("verifies tables larger than one page, page by page, and still finds every extra row", async () => {
    // Keys that a language's collation orders otherwise than SQLite does (case and punctuation set aside first),
    // on a target database that orders text by that collation: both sides must still be read in one order.
    const source = await openDataStore({ kind: "sqlite", file: `${dir.path}/bot.sqlite` });
    await source.repos.pendingDeletions.schedule(["a-c", "ab", "B", "a", "A-b", "b-a"], 1);
    await source.close();
    const target = await freshDatabase(
      "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
    );
    const first = await copy(["--to-database", target, "--page-size", "2"]);
    expect(first.status, first.output).toBe(0);
    expect(first.output).toMatch(/images: 6 rows, 6 written/);
    expect(first.output).toMatch(/pendingDeletions: 6 rows, 6 written/);
    expect(first.output).toContain("every row is on the target with the same values, and no other");

    // Two generations only the target has, their ids anywhere among the copied ones.
    const copied = await openDataStore({ kind: "postgres", url: target });
    for (const id of [newId(), newId()]) {
      await copied.repos.generations.insert({
        id,
        guildId: "100000000000000001",
        channelId: "100000000000000002",
        userId: "200000000000000005",
        interactionId: null,
        interactionToken: null,
        applicationId: null,
        prompt: "only on the target",
        params: { aspectRatio: "1:1" },
        model: "google/imagen-4",
        requested: 1,
        createdAt: 1,
      });
    }
    await copied.close();
    const second = await copy(["--to-database", target, "--page-size", "2"]);
    expect(second.status).toBe(1);
    expect(second.output).toMatch(
      /generations: 3 rows on the source; on the target 0 missing, 0 different, 2 not on the source/,
    );
    expect(second.output).not.toMatch(/images: \d+ rows on the source/);
    const bad = await copy(["--to-database", target, "--page-size", "0"]);
    expect(bad.status).toBe(2);
    expect(bad.output).toContain("--page-size must be a whole number from 1 to 10000");
  });
});
