// Images and videos, named only by validated UUIDs: images/<uuid>.<ext> and videos/<uuid>.mp4 (and the library's
// previews, thumbnails/<uuid>.jpg, named `<uuid>.thumb.jpg`), kept in an
// ObjectStore (files under DATA_DIR by default, or S3-compatible storage). Everything that reads or writes
// them goes through here: the checks below come before any call to the backend.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { fileTypeFromBuffer } from "file-type";
import sharp from "sharp";
import type { StoredFileFacts } from "../db/repositories/images-repo.ts";
import { StorageUnavailableError } from "../kit/errors.ts";
import { PredictionFailure } from "../kit/failures.ts";
import { isUuid } from "../kit/ids.ts";
import { trace } from "../kit/trace.ts";
import { LocalObjectStore } from "./local-object-store.ts";
import {
  assertRange,
  type ByteRange,
  ObjectNotFoundError,
  type ObjectStore,
  readAll,
} from "./object-store.ts";

const IMAGE_TYPES: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };
const FILE_NAME = /^([0-9a-f-]{36})\.(png|jpg|webp|mp4|thumb\.jpg|zip)$/;
/** Where each kind of stored file lives, by its name's ending (a member's data export: exports/<uuid>.zip). */
const FOLDER: Record<string, string> = { mp4: "videos", "thumb.jpg": "thumbnails", zip: "exports" };
const EXPORTS = "exports/";

/** A thumbnail's longest side: a gallery preview is for recognising a character, not for looking at it. */
export const THUMBNAIL_EDGE = 256;
/** The key prefixes of the two kinds of file; the layout of DATA_DIR before the object store, kept as it was. */
const PREFIXES = ["images/", "videos/", "thumbnails/"] as const;

/**
 * The most pixels an image may have to be stored (or previewed): 4096². A provider's reference image is
 * 1–2K a side; a 16000² PNG is a few hundred KB on the wire but takes seconds and half a GB to decode.
 */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

/** Thrown for an id or file name that is not ours to read; no storage call has been made. */
export class InvalidFileIdError extends Error {
  constructor(value: unknown) {
    super(`not a valid file id: ${JSON.stringify(String(value)).slice(0, 60)}`);
    this.name = "InvalidFileIdError";
  }
}

/** What a sweep did. */
export interface SweepReport {
  /** Stored files no live row names, removed. */
  orphans: string[];
  /** Leftovers of writes a crash cut short, removed. */
  temp: number;
  /** Files without a row kept because they are younger than the store's grace period. */
  young: number;
  /** Files that could not be removed (each reported once). */
  failed: string[];
}

/** The object naming the database whose files these are; see `owns`. */
const OWNER_KEY = "owner";

/**
 * Images just stored (or being stored), kept in memory until their first read or a minute: the grid that shows
 * them is sent moments later, and reading them back from S3 (or a busy disk) would cost a round trip per image
 * on every /character. Every later read goes to the store. Bounded in bytes and age; a deletion or a failed
 * store drops its entry.
 */
class RecentWrites {
  private readonly entries = new Map<string, { data: Buffer; at: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes = 32 * 1024 * 1024,
    private readonly maxAgeMs = 60_000,
  ) {}

  /** Keeps the bytes; false when they are too large to keep (reads then go to the store). */
  put(key: string, data: Uint8Array): boolean {
    this.drop(key);
    if (data.byteLength > this.maxBytes / 4) return false;
    this.entries.set(key, {
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      at: Date.now(),
    });
    this.bytes += data.byteLength;
    this.trim();
    return this.entries.has(key);
  }

  /** The bytes, once: the entry is dropped as it is read. */
  take(key: string): Buffer | undefined {
    this.trim();
    const data = this.entries.get(key)?.data;
    this.drop(key);
    return data;
  }

  drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.data.byteLength;
  }

  /** Oldest first: by age, then by size. */
  private trim(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes && now - entry.at <= this.maxAgeMs) break;
      this.drop(key);
    }
  }
}

/**
 * Hears an image's facts once it passed its checks; a promise it returns (which must never reject) holds the
 * put until it settles.
 */
export type Inspected = (facts: StoredFileFacts) => undefined | Promise<void>;

export class FileStore {
  readonly objects: ObjectStore;
  private readonly recent = new RecentWrites();

  /** A directory (DATA_DIR, files under it) or an object store. */
  constructor(storage: string | ObjectStore) {
    this.objects = typeof storage === "string" ? new LocalObjectStore(storage) : storage;
    if (this.objects instanceof LocalObjectStore) this.objects.makeFolders([...PREFIXES]);
  }

  /**
   * Checks the bytes are a PNG, JPEG or WebP (by content, not by what the provider claimed) of at most
   * MAX_IMAGE_PIXELS, measures them and stores images/<id>.<ext> atomically. Anything else is a `bad_output`
   * failure and nothing is written. `inspected` hears the facts once the bytes passed those checks, as they
   * start to be stored: from then until the store fails, `read` of the file name has the bytes. When it returns
   * a promise and the bytes are kept in memory, the put waits for it to settle (a grid carrying these bytes is
   * being sent: the two uploads then do not share the moment, nor the cores).
   */
  async writeImage(id: string, data: Uint8Array, inspected?: Inspected): Promise<StoredFileFacts> {
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
    const sha256 = createHash("sha256").update(data).digest("hex");
    const key = this.keyOf(fileName);
    const facts = {
      fileName,
      mime: type.mime,
      bytes: data.byteLength,
      width: meta.width,
      height: meta.height,
      sha256,
    };
    trace("slot.inspected", { imageId: id });
    // Kept in memory from now on: a grid sent while the put is under way reads it from there (no row names the
    // file before the put is done, so nothing else can).
    const kept = this.recent.put(key, data);
    const first = inspected?.(facts);
    // Only bytes kept in memory can be sent before they are stored; otherwise the grid reads the store itself.
    if (first && kept) await first;
    else first?.catch(() => {});
    try {
      await this.reach("store the image", () =>
        this.objects.put(key, data, { contentType: type.mime, sha256 }),
      );
    } catch (err) {
      this.recent.drop(key);
      throw err;
    }
    trace("slot.object-stored", { imageId: id });
    return facts;
  }

  /** Checks the bytes are an MP4 (by content) and stores videos/<id>.mp4 atomically. */
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
    const sha256 = createHash("sha256").update(data).digest("hex");
    await this.reach("store the video", () =>
      this.objects.put(this.keyOf(fileName), data, { contentType: type.mime, sha256 }),
    );
    return { fileName, mime: type.mime, bytes: data.byteLength, sha256 };
  }

  /**
   * Makes a small JPEG of a stored image's bytes (at most THUMBNAIL_EDGE a side, flattened on white) and stores
   * it as thumbnails/<id>.jpg; returns its file name, `<id>.thumb.jpg`, and its bytes.
   */
  async writeThumbnail(id: string, original: Uint8Array): Promise<{ fileName: string; data: Buffer }> {
    if (!isUuid(id)) throw new InvalidFileIdError(id);
    const data = await sharp(original, { limitInputPixels: MAX_IMAGE_PIXELS })
      .resize(THUMBNAIL_EDGE, THUMBNAIL_EDGE, { fit: "inside", withoutEnlargement: true })
      .flatten({ background: "#ffffff" })
      .jpeg({ quality: 80 })
      .toBuffer();
    const fileName = `${id}.thumb.jpg`;
    const sha256 = createHash("sha256").update(data).digest("hex");
    await this.reach("store a thumbnail", () =>
      this.objects.put(this.keyOf(fileName), data, { contentType: "image/jpeg", sha256 }),
    );
    return { fileName, data };
  }

  /** Stores a member's data export (`<uuid>.zip`) from the file at `path`, read as it is sent. */
  async writeExport(fileName: string, path: string, facts: { bytes: number; sha256: string }): Promise<void> {
    const key = this.keyOf(fileName);
    if (!key.startsWith(EXPORTS)) throw new InvalidFileIdError(fileName);
    await this.reach("store a data export", () =>
      this.objects.putFile(key, path, { contentType: "application/zip", ...facts }),
    );
  }

  /** The stored data exports, by name, with when each was written (for the sweep of those no row names). */
  async *storedExports(): AsyncIterable<{ fileName: string; modifiedAt: number }> {
    for await (const object of this.objects.list(EXPORTS)) {
      const fileName = object.key.slice(EXPORTS.length);
      if (this.keyOrNone(fileName) === object.key) yield { fileName, modifiedAt: object.modifiedAt };
    }
  }

  /**
   * The key of a stored file, after checking the name is `<uuid>.<known ext>`; videos and thumbnails live
   * apart from images (a thumbnail's key is thumbnails/<uuid>.jpg).
   */
  keyOf(fileName: string): string {
    const match = FILE_NAME.exec(fileName);
    if (!match || !isUuid(match[1])) throw new InvalidFileIdError(fileName);
    const folder = FOLDER[match[2] as string];
    return folder === "thumbnails" ? `thumbnails/${match[1]}.jpg` : `${folder ?? "images"}/${fileName}`;
  }

  async read(fileName: string): Promise<Buffer> {
    const key = this.keyOf(fileName);
    const recent = this.recent.take(key);
    if (recent) return recent;
    return this.reach("read a stored file", async () => readAll(await this.objects.get(key)));
  }

  /**
   * A stored file's bytes (or bytes `range.start` to `range.end`, inclusive) as a stream, read from the store as
   * it is consumed: never the whole file in memory. ObjectNotFoundError when there is none.
   */
  async stream(fileName: string, range?: ByteRange): Promise<Readable> {
    const key = this.keyOf(fileName);
    if (range) assertRange(range); // a caller's mistake, not the storage's: never a StorageUnavailableError
    return this.reach("read a stored file", () => this.objects.get(key, range));
  }

  /** A stored file's size in bytes, or undefined when there is none. */
  async size(fileName: string): Promise<number | undefined> {
    const key = this.keyOf(fileName);
    return (await this.reach("read a stored file's size", () => this.objects.stat(key)))?.size;
  }

  async remove(fileName: string): Promise<void> {
    const key = this.keyOf(fileName);
    this.recent.drop(key);
    await this.reach("remove a stored file", () => this.objects.delete(key));
  }

  /**
   * Runs one call to the object store. A missing object stays ObjectNotFoundError; any other failure (after
   * the backend's own retries) is the storage being unavailable, named by the setting that points at it.
   */
  private async reach<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ObjectNotFoundError || err instanceof StorageUnavailableError) throw err;
      const variable = this.objects instanceof LocalObjectStore ? "DATA_DIR" : "STORAGE_URL";
      throw new StorageUnavailableError(variable, `could not ${what}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /**
   * Whether the files under this store belong to the database `installId`. The first database to ask marks the
   * store as its own; another database sharing the same store (a staging bot on production's bucket prefix)
   * is told no, and must not sweep what it does not know.
   */
  async owns(installId: string): Promise<boolean> {
    const owner = await this.owner();
    if (owner !== undefined) return owner === installId;
    await this.markOwner(installId);
    return true;
  }

  /** The install id the store's owner mark names, or undefined when nothing marked it yet. Writes nothing. */
  async owner(): Promise<string | undefined> {
    try {
      return (await readAll(await this.objects.get(OWNER_KEY))).toString("utf8").trim();
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
  }

  /** Marks the store as the database `installId`'s, whatever it named before (storage:copy adopting it). */
  async markOwner(installId: string): Promise<void> {
    await this.objects.put(OWNER_KEY, Buffer.from(installId), { contentType: "text/plain" });
  }

  /**
   * Removes, under images/, videos/ and thumbnails/, what crashed writes left and every stored file that `keep` does not
   * claim and that is older than the store's grace period at `now`. Keys that are not ours are left alone, and
   * so is a file that cannot be removed (it is reported). Only safe while this process writes nothing.
   */
  async sweep(keep: (fileName: string) => boolean, now: number): Promise<SweepReport> {
    const report: SweepReport = { orphans: [], temp: 0, young: 0, failed: [] };
    for (const prefix of PREFIXES) {
      report.temp += await this.objects.removeIncomplete(prefix);
      for await (const object of this.objects.list(prefix)) {
        const name = storedName(prefix, object.key);
        // A stored name counts only under its own prefix: images/ holds no .mp4 of ours, videos/ only those.
        if (!FILE_NAME.test(name) || this.keyOrNone(name) !== object.key || keep(name)) continue;
        if (now - object.modifiedAt < this.objects.orphanGraceMs) {
          report.young++;
          continue;
        }
        try {
          await this.objects.delete(object.key);
          report.orphans.push(name);
        } catch {
          report.failed.push(name);
        }
      }
    }
    return report;
  }

  private keyOrNone(fileName: string): string | undefined {
    try {
      return this.keyOf(fileName);
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.objects.close();
  }
}

/** The file name a key under `prefix` stands for: a preview's key is thumbnails/<uuid>.jpg, its name <uuid>.thumb.jpg. */
function storedName(prefix: string, key: string): string {
  const rest = key.slice(prefix.length);
  return prefix === "thumbnails/" ? rest.replace(/\.jpg$/, ".thumb.jpg") : rest;
}
