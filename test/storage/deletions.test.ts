import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app.ts";
import { newId } from "../../src/domain/ids.ts";
import { loadConfig } from "../../src/services/config.ts";
import type { AppContext } from "../../src/services/context.ts";
import { openDatabase } from "../../src/storage/database.ts";
import type { ImageRow } from "../../src/storage/images-repo.ts";
import { recoverFileStore } from "../../src/storage/recovery.ts";
import type { VideoRow } from "../../src/storage/videos-repo.ts";
import { captureLogger, generate, makeTempDir, type TempDir } from "../support/env.ts";

let dir: TempDir | undefined;
let app: AppContext | undefined;
afterEach(() => {
  app?.close();
  dir?.remove();
  app = dir = undefined;
});

/** Builds the application on the directory and runs the start-up recovery, as every start does. */
async function start(path: string): Promise<{ app: AppContext; lines: string[] }> {
  const log = captureLogger();
  app = createAppContext(
    loadConfig({ DATA_DIR: path, IMAGE_PROVIDER: "mock", MOCK_LATENCY_MS: "20", PREDICTION_POLL_MS: "10" }),
    log.logger,
  );
  await recoverFileStore({ ...app.repos, files: app.files, clock: app.clock, logger: app.logger });
  return { app, lines: log.lines };
}

/** Runs crash-mid-deletion.ts on the directory and waits for it to die. */
async function crashMidDeletion(path: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "test/storage/crash-mid-deletion.ts"], {
    env: { PATH: process.env.PATH ?? "", DATA_DIR: path },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c) => {
    output += String(c);
  });
  child.stderr.on("data", (c) => {
    output += String(c);
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_code, s) => resolve(s)),
  );
  expect(signal, output).toBe("SIGKILL");
  expect(output).not.toContain("not killed");
  return JSON.parse(output.split("\n")[0] ?? "") as { image: ImageRow; kept: ImageRow; video: VideoRow };
}

describe("deletions that survive a crash", () => {
  it("finishes at the next start a deletion whose files a SIGKILL left behind after the commit", async () => {
    dir = makeTempDir();
    const made = await crashMidDeletion(dir.path);
    const imageFile = `${dir.path}/images/${made.image.fileName}`;
    const videoFile = `${dir.path}/videos/${made.video.fileName}`;
    const keptFile = `${dir.path}/images/${made.kept.fileName}`;

    // The crash came between the commit and the unlink: rows say deleted, the files are still there.
    const db = openDatabase(`${dir.path}/bot.sqlite`);
    expect(
      db
        .prepare("SELECT deleted_at IS NOT NULL AS gone, deleted_by AS by FROM images WHERE id = ?")
        .get(made.image.id),
    ).toEqual({ gone: 1, by: "500000000000000003" });
    expect(
      db.prepare("SELECT deleted_at IS NOT NULL AS gone FROM videos WHERE id = ?").get(made.video.id),
    ).toEqual({ gone: 1 });
    expect(db.prepare("SELECT file_name FROM pending_deletions ORDER BY file_name").pluck().all()).toEqual(
      [made.image.fileName, made.video.fileName].sort(),
    );
    db.close();
    expect([imageFile, videoFile, keptFile].map((f) => existsSync(f))).toEqual([true, true, true]);

    const { app, lines } = await start(dir.path);
    expect(existsSync(imageFile)).toBe(false);
    expect(existsSync(videoFile)).toBe(false);
    expect(existsSync(keptFile)).toBe(true);
    expect(app.repos.pendingDeletions.all()).toEqual([]);
    expect(lines.join("\n")).toContain('"finished":2');
  });

  it("sweeps at start the temp files of cut-short writes and files no live row names, keeping the rest", async () => {
    dir = makeTempDir();
    const first = (await start(dir.path)).app;
    const view = await generate(first, {
      guildId: "600000000000000001",
      channelId: null,
      userId: "500000000000000001",
      prompt: "kept knight",
      count: 2,
      aspectRatio: "1:1",
    });
    const [kept, deletedEarlier] = view.images as [ImageRow, ImageRow];
    // A row marked deleted by a version that removed its file outside any transaction, and crashed before.
    first.repos.images.markDeleted(deletedEarlier.id, Date.now(), "500000000000000003");
    first.close();
    app = undefined;

    const images = `${dir.path}/images`;
    const videos = `${dir.path}/videos`;
    const orphanImage = `${newId()}.png`;
    const orphanVideo = `${newId()}.mp4`;
    copyFileSync(`${images}/${kept.fileName}`, `${images}/${orphanImage}`);
    writeFileSync(`${videos}/${orphanVideo}`, "not a row's video");
    writeFileSync(`${images}/.tmp-0123456789abcdef`, "half an image");
    writeFileSync(`${videos}/.tmp-fedcba9876543210`, "half a video");
    writeFileSync(`${images}/README.txt`, "not the store's: left alone");

    const { lines } = await start(dir.path);
    expect(readdirSync(images).sort()).toEqual([kept.fileName, "README.txt"].sort());
    expect(readdirSync(videos)).toEqual([]);
    expect(lines.join("\n")).toMatch(/"orphans":3.*"temp":2|"temp":2.*"orphans":3/);
  });
});
