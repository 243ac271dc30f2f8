// Files on disk, named only by validated UUIDs: images/<uuid>.<ext>, written atomically.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileTypeFromBuffer } from "file-type";
import sharp from "sharp";
import { PredictionFailure } from "../domain/failures.ts";
import { isUuid } from "../domain/ids.ts";
import type { StoredFileFacts } from "./images-repo.ts";

const IMAGE_TYPES: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };
const FILE_NAME = /^([0-9a-f-]{36})\.(png|jpg|webp|mp4)$/;
/** What `writeAtomically` names a file before its rename; one left behind is from a write a crash cut short. */
const TEMP_NAME = /^\.tmp-[0-9a-f]{16}$/;

/**
 * The most pixels an image may have to be stored (or previewed): 4096². A provider's reference image is
 * 1–2K a side; a 16000² PNG is a few hundred KB on the wire but takes seconds and half a GB to decode.
 */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

/** Thrown for an id or file name that is not ours to read; no filesystem call has been made. */
export class InvalidFileIdError extends Error {
  constructor(value: unknown) {
    super(`not a valid file id: ${JSON.stringify(String(value)).slice(0, 60)}`);
    this.name = "InvalidFileIdError";
  }
}

export class FileStore {
  readonly imagesDir: string;
  readonly videosDir: string;

  constructor(readonly dataDir: string) {
    this.imagesDir = join(dataDir, "images");
    this.videosDir = join(dataDir, "videos");
    mkdirSync(this.imagesDir, { recursive: true });
    mkdirSync(this.videosDir, { recursive: true });
  }

  /**
   * Checks the bytes are a PNG, JPEG or WebP (by content, not by what the provider claimed) of at most
   * MAX_IMAGE_PIXELS, measures them and writes images/<id>.<ext> atomically. Anything else is a `bad_output`
   * failure and nothing is written.
   */
  async writeImage(id: string, data: Uint8Array): Promise<StoredFileFacts> {
    if (!isUuid(id)) throw new InvalidFileIdError(id);
    const type = await fileTypeFromBuffer(data);
    const ext = type && IMAGE_TYPES[type.mime];
    if (!type || !ext) {
      throw new PredictionFailure(
        "bad_output",
        `output is ${type ? type.mime : "not a recognised file type"}`,
      );
    }
    let meta: sharp.Metadata;
    try {
      meta = await sharp(data).metadata();
    } catch (err) {
      throw new PredictionFailure(
        "bad_output",
        `output image could not be decoded: ${(err as Error).message}`,
      );
    }
    if (!meta.width || !meta.height)
      throw new PredictionFailure("bad_output", "output image has no dimensions");
    // Read from the header only; nothing has been decoded yet.
    if (meta.width * meta.height > MAX_IMAGE_PIXELS) {
      throw new PredictionFailure(
        "bad_output",
        `output image is ${meta.width}×${meta.height} pixels, more than the ${MAX_IMAGE_PIXELS.toLocaleString("en")} (4096×4096) the bot stores`,
      );
    }
    const fileName = `${id}.${ext}`;
    await writeAtomically(join(this.imagesDir, fileName), data);
    return {
      fileName,
      mime: type.mime,
      bytes: data.byteLength,
      width: meta.width,
      height: meta.height,
      sha256: createHash("sha256").update(data).digest("hex"),
    };
  }

  /** Checks the bytes are an MP4 (by content) and writes videos/<id>.mp4 atomically. */
  async writeVideo(
    id: string,
    data: Uint8Array,
  ): Promise<{ fileName: string; mime: string; bytes: number; sha256: string }> {
    if (!isUuid(id)) throw new InvalidFileIdError(id);
    const type = await fileTypeFromBuffer(data);
    if (type?.mime !== "video/mp4") {
      throw new PredictionFailure(
        "bad_output",
        `output is ${type ? type.mime : "not a recognised file type"}, not an MP4 video`,
      );
    }
    const fileName = `${id}.mp4`;
    await writeAtomically(join(this.videosDir, fileName), data);
    return {
      fileName,
      mime: type.mime,
      bytes: data.byteLength,
      sha256: createHash("sha256").update(data).digest("hex"),
    };
  }

  /** The path of a stored file, after checking the name is `<uuid>.<known ext>`; videos live apart from images. */
  private pathOf(fileName: string): string {
    const match = FILE_NAME.exec(fileName);
    if (!match || !isUuid(match[1])) throw new InvalidFileIdError(fileName);
    return join(match[2] === "mp4" ? this.videosDir : this.imagesDir, fileName);
  }

  async read(fileName: string): Promise<Buffer> {
    return readFile(this.pathOf(fileName));
  }

  async remove(fileName: string): Promise<void> {
    await rm(this.pathOf(fileName), { force: true });
  }

  /** `remove` for the start-up sweep, which runs before anything else uses the store. */
  removeSync(fileName: string): void {
    rmSync(this.pathOf(fileName), { force: true });
  }

  /**
   * Removes, in images/ and videos/, every temp file a crashed write left and every stored file that `keep`
   * does not claim. Names that are neither ours nor temp files are left alone, and so is a file that cannot be
   * removed (it is reported). Only safe while nothing writes to the store.
   */
  sweep(keep: (fileName: string) => boolean): { orphans: string[]; temp: number; failed: string[] } {
    const orphans: string[] = [];
    const failed: string[] = [];
    let temp = 0;
    for (const dir of [this.imagesDir, this.videosDir]) {
      for (const name of readdirSync(dir)) {
        const isTemp = TEMP_NAME.test(name);
        const path = join(dir, name);
        // A stored name counts only in its own directory: images/ holds no .mp4 of ours, videos/ only those.
        const isOrphan = FILE_NAME.test(name) && this.pathOf(name) === path && !keep(name);
        if (!isTemp && !isOrphan) continue;
        try {
          rmSync(path, { force: true });
          if (isTemp) temp++;
          else orphans.push(name);
        } catch {
          failed.push(name);
        }
      }
    }
    return { orphans, temp, failed };
  }
}

/** temp file in the same directory → fsync → rename → fsync the directory: a crash leaves old or new, never half. */
export async function writeAtomically(path: string, data: Uint8Array): Promise<void> {
  const dir = join(path, "..");
  const temp = join(dir, `.tmp-${randomBytes(8).toString("hex")}`);
  const handle = await open(temp, "wx", 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const dirHandle = await open(dir, "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
