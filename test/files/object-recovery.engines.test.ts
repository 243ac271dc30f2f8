import { existsSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { ImageRow } from "../../src/db/repositories/images-repo.ts";
import type { AppContext } from "../../src/features/context.ts";
import { type RecoveryReport, recoverFileStore } from "../../src/files/recovery.ts";
import { S3_ORPHAN_GRACE_MS } from "../../src/files/s3-object-store.ts";
import { systemClock } from "../../src/kit/clock.ts";
import { newId } from "../../src/kit/ids.ts";
import { crashMidDeletion } from "../support/crash-mid-deletion.ts";
import {
  captureLogger,
  engineEnv,
  generate,
  makeTempDir,
  sharedEngines,
  type TempDir,
} from "../support/env.ts";
import { type LocalS3, startS3 } from "../support/s3.ts";

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(() => s3?.close());

let dir: TempDir | undefined;
let app: AppContext | undefined;
afterEach(async () => {
  await app?.close();
  dir?.remove();
  app = dir = undefined;
});

/** The test's database for a directory: its PostgreSQL schema in the "engines" tier, else bot.sqlite there. */
function databaseEnv(path: string): Record<string, string> {
  const { DATABASE_URL } = engineEnv(path);
  return DATABASE_URL ? { DATABASE_URL } : {};
}

/** Where the files go; the database is the project's either way (databaseEnv). */
const BACKENDS = [
  { name: "files under DATA_DIR", local: true, env: (): Record<string, string> => ({}) },
  { name: "S3 (s3rver)", local: false, env: (prefix: string) => s3.processEnv(prefix) },
];

/** Builds the application on the directory and runs the start-up recovery at `now`, as every start does. */
async function start(
  path: string,
  env: Record<string, string>,
  now = () => Date.now(),
): Promise<{ app: AppContext; report: RecoveryReport; lines: string[] }> {
  const log = captureLogger(["S3RVER"]);
  const config = loadConfig({
    DATA_DIR: path,
    IMAGE_PROVIDER: "mock",
    MOCK_LATENCY_MS: "20",
    PREDICTION_POLL_MS: "10",
    ...databaseEnv(path),
    ...env,
  });
  app = await createAppContext(config, log.logger);
  // The crash script and every start share the project's database: PostgreSQL there, else DATA_DIR/bot.sqlite.
  expect(app.data.engine).toBe(sharedEngines() ? "postgres" : "sqlite");
  const clock = { ...systemClock, now };
  const report = await recoverFileStore({ repos: app.repos, files: app.files, clock, logger: app.logger });
  return { app, report, lines: log.lines };
}

describe.each(BACKENDS)("start-up recovery on $name", (backend) => {
  /** A fresh directory and store for this backend, with a generation of `count` images made in it. */
  async function startWithImages(prompt: string, count: number) {
    const made = makeTempDir();
    dir = made;
    const env = backend.env(`t-${newId()}`);
    const first = (await start(made.path, env)).app;
    const view = await generate(first, {
      guildId: "600000000000000001",
      channelId: null,
      userId: "500000000000000001",
      prompt,
      count,
      aspectRatio: "1:1",
    });
    return { dir: made, env, first, view };
  }
  it("finishes at the next start a deletion whose files a SIGKILL left behind after the commit", async () => {
    dir = makeTempDir();
    const env = backend.env(`t-${newId()}`);
    const made = await crashMidDeletion(dir.path, env);
    const keys = [
      `images/${made.image.fileName}`,
      `videos/${made.video.fileName}`,
      `images/${made.kept.fileName}`,
    ];
    const log = captureLogger();
    const before = await createAppContext(
      loadConfig({ DATA_DIR: dir.path, IMAGE_PROVIDER: "mock", ...databaseEnv(dir.path), ...env }),
      log.logger,
    );
    // The crash came between the commit and the removal: rows say deleted, the objects are still there.
    expect((await before.repos.pendingDeletions.all()).sort()).toEqual(
      [made.image.fileName, made.video.fileName].sort(),
    );
    for (const key of keys) expect(await before.files.objects.stat(key), key).toBeDefined();
    await before.close();

    const { app, report, lines } = await start(dir.path, env);
    expect(report).toMatchObject({ finished: 2, orphans: 0 });
    expect(await app.files.objects.stat(keys[0] as string)).toBeUndefined();
    expect(await app.files.objects.stat(keys[1] as string)).toBeUndefined();
    expect(await app.files.read(made.kept.fileName as string)).toHaveLength(made.kept.bytes as number);
    // On S3 nothing was ever written under DATA_DIR but the database.
    expect(existsSync(`${dir.path}/images`)).toBe(backend.local);
    expect(await app.repos.pendingDeletions.all()).toEqual([]);
    expect(lines.join("\n")).toContain('"finished":2');
    expect(lines.join("\n")).not.toContain("S3RVER");
  });

  it("sweeps objects no live row names (on S3 once they are an hour old), keeping rows' objects and other names", async () => {
    const { dir: here, env, first, view } = await startWithImages("kept knight", 2);
    const [kept, deletedEarlier] = view.images as [ImageRow, ImageRow];
    // A row marked deleted by a version that removed its file outside any transaction, and crashed before.
    await first.repos.images.markDeleted(deletedEarlier.id, Date.now(), "500000000000000003");
    const objects = first.files.objects;
    const orphanImage = `${newId()}.png`;
    const orphanVideo = `${newId()}.mp4`;
    await objects.put(`images/${orphanImage}`, await first.files.read(kept.fileName as string), {
      contentType: "image/png",
    });
    await objects.put(`videos/${orphanVideo}`, Buffer.from("not a row's video"), {
      contentType: "video/mp4",
    });
    await objects.put("images/README.txt", Buffer.from("not the store's"), { contentType: "text/plain" });
    await first.close();
    app = undefined;

    const listed = async (a: AppContext) => {
      const found: string[] = [];
      for (const prefix of ["images/", "videos/"]) {
        for await (const object of a.files.objects.list(prefix)) found.push(object.key);
      }
      return found.sort();
    };
    const everything = [
      `images/${kept.fileName}`,
      `images/${deletedEarlier.fileName}`,
      `images/${orphanImage}`,
      `videos/${orphanVideo}`,
      "images/README.txt",
    ].sort();
    const survivors = [`images/${kept.fileName}`, "images/README.txt"].sort();

    const now = await start(here.path, env);
    if (now.app.files.objects.orphanGraceMs > 0) {
      // Just written: another process may be about to commit their rows.
      expect(now.report).toEqual({ finished: 0, orphans: 0, temp: 0, young: 3 });
      expect(await listed(now.app)).toEqual(everything);
      await now.app.close();
      const later = await start(here.path, env, () => Date.now() + S3_ORPHAN_GRACE_MS + 60_000);
      expect(later.report).toEqual({ finished: 0, orphans: 3, temp: 0, young: 0 });
      expect(await listed(later.app)).toEqual(survivors);
      expect(existsSync(`${here.path}/images`)).toBe(false);
    } else {
      expect(now.report).toEqual({ finished: 0, orphans: 3, temp: 0, young: 0 });
      expect(await listed(now.app)).toEqual(survivors);
    }
  });

  it("sweeps previews no library entry names (a crash between a preview and its entry), keeping an entry's", async () => {
    const { dir: here, env, first, view } = await startWithImages("library knight", 1);
    const [image] = view.images as [ImageRow];
    const bytes = await first.files.read(image.fileName as string);
    const entryId = newId();
    const preview = await first.files.writeThumbnail(entryId, bytes);
    await first.repos.library.insert({
      id: entryId,
      guildId: "600000000000000001",
      name: "Knight",
      nameKey: "knight",
      imageId: image.id,
      note: null,
      addedBy: "500000000000000001",
      createdAt: Date.now(),
      thumbnailFile: preview.fileName,
    });
    const orphanId = newId();
    await first.files.writeThumbnail(orphanId, bytes);
    await first.close();
    app = undefined;

    const later = await start(here.path, env, () => Date.now() + S3_ORPHAN_GRACE_MS + 60_000);
    expect(later.report).toMatchObject({ orphans: 1, young: 0 });
    const previews: string[] = [];
    for await (const object of later.app.files.objects.list("thumbnails/")) previews.push(object.key);
    expect(previews).toEqual([`thumbnails/${entryId}.jpg`]);
  });
});

describe("S3 shared by two bots", () => {
  it("sweeps nothing of a store whose files belong to another database (two bots on one prefix)", async () => {
    const env = s3.processEnv(`t-${newId()}`);
    const production = makeTempDir();
    const staging = makeTempDir();
    try {
      const prod = (await start(production.path, env)).app;
      const view = await generate(prod, {
        guildId: "600000000000000001",
        channelId: null,
        userId: "500000000000000001",
        prompt: "production's knight",
        count: 1,
        aspectRatio: "1:1",
      });
      const fileName = view.images[0]?.fileName as string;
      await prod.close();
      app = undefined;
      // A second bot, with a database of its own, started on the same store long after: none of those files
      // are its rows, and all are old enough to sweep, but they are not its to sweep.
      const other = await start(staging.path, env, () => Date.now() + S3_ORPHAN_GRACE_MS + 60_000);
      expect(other.report).toMatchObject({ orphans: 0, young: 0 });
      expect(other.lines.some((l) => l.includes("holds another database's files"))).toBe(true);
      expect((await other.app.files.read(fileName)).length).toBe(view.images[0]?.bytes);
    } finally {
      production.remove();
      staging.remove();
    }
  });
});
