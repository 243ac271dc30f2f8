// The file store's contract, run on both object-store backends: files under DATA_DIR and S3 (a real s3rver).
import { createHash, randomBytes } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fitImage } from "../../src/discord/replies/attachments.ts";
import { FileStore, InvalidFileIdError, MAX_IMAGE_PIXELS } from "../../src/files/file-store.ts";
import { DirectorySyncs, LocalObjectStore } from "../../src/files/local-object-store.ts";
import {
  ObjectNotFoundError,
  type ObjectStore,
  readAll,
  StorageUnavailableError,
} from "../../src/files/object-store.ts";
import { S3_ORPHAN_GRACE_MS, S3ObjectStore } from "../../src/files/s3-object-store.ts";
import { PredictionFailure } from "../../src/kit/failures.ts";
import { isUuid, newId } from "../../src/kit/ids.ts";
import { makeTempDir, type TempDir } from "../support/env.ts";
import { forwardTo, startLocalServer } from "../support/http-proxy.ts";
import { type LocalS3, S3_BUCKET, startS3 } from "../support/s3.ts";

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(() => s3?.close());

let dir: TempDir | undefined;
const opened: ObjectStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  dir?.remove();
  dir = undefined;
});

const s3Store = (prefix: string, endpoint = s3.endpoint) =>
  new S3ObjectStore({ bucket: S3_BUCKET, prefix, endpoint, region: "us-east-1", forcePathStyle: true });

interface Backend {
  name: string;
  /** A fresh, empty store. */
  open(): ObjectStore;
  /** A store of the same kind whose every call fails once it reaches the backend. */
  unreachable(): { objects: ObjectStore; store: FileStore };
}

const BACKENDS: Backend[] = [
  {
    name: "files under DATA_DIR",
    open() {
      dir = makeTempDir();
      return new LocalObjectStore(dir.path);
    },
    unreachable() {
      dir ??= makeTempDir();
      const objects = new LocalObjectStore(`${dir.path}/broken`);
      const store = new FileStore(objects);
      // A regular file where the data directory was: every filesystem call under it fails.
      rmSync(`${dir.path}/broken`, { recursive: true });
      writeFileSync(`${dir.path}/broken`, "");
      return { objects, store };
    },
  },
  {
    name: "S3 (s3rver)",
    open: () => s3Store(`t-${newId()}`),
    // Port 1 on 127.0.0.1: nothing listens there, so any request is refused.
    unreachable() {
      const objects = s3Store(`t-${newId()}`, "http://127.0.0.1:1");
      return { objects, store: new FileStore(objects) };
    },
  },
];

const BAD_IDS = [
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "00000000-0000-0000-0000-000000000000/../../x",
  "not-a-uuid",
  "",
  "0A1B2C3D-0000-4000-8000-000000000000",
  "0a1b2c3d-0000-4000-8000-000000000000\n",
];

const png = (width: number, height: number, background = "#123456") =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const object of store.list(prefix)) found.push(object.key);
  return found.sort();
}

describe.each(BACKENDS)("FileStore on $name", (backend) => {
  const open = () => {
    const objects = backend.open();
    opened.push(objects);
    return { objects, store: new FileStore(objects) };
  };

  it("stores a PNG as images/<uuid>.png with its measured facts, and gives the same bytes back", async () => {
    const { objects, store } = open();
    const image = await png(40, 30);
    const id = newId();
    const facts = await store.writeImage(id, image);
    expect(facts).toEqual({
      fileName: `${id}.png`,
      mime: "image/png",
      bytes: image.length,
      width: 40,
      height: 30,
      sha256: createHash("sha256").update(image).digest("hex"),
    });
    expect(await store.read(facts.fileName)).toEqual(image);
    expect(await readAll(await objects.get(`images/${id}.png`))).toEqual(image);
    expect(await objects.stat(`images/${id}.png`)).toMatchObject({
      key: `images/${id}.png`,
      size: image.length,
    });
    expect(await keys(objects, "images/")).toEqual([`images/${id}.png`]); // nothing else left behind
  });

  it("names the file by what the bytes are, not what they claim: JPEG and WebP too; videos under videos/", async () => {
    const { objects, store } = open();
    const base = sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } });
    expect((await store.writeImage(newId(), await base.clone().jpeg().toBuffer())).fileName).toMatch(
      /\.jpg$/,
    );
    expect((await store.writeImage(newId(), await base.clone().webp().toBuffer())).mime).toBe("image/webp");
    const mp4 = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from("ftypmp42"),
      Buffer.alloc(4),
      Buffer.from("mp42isom"),
      Buffer.alloc(64),
    ]);
    const id = newId();
    const video = await store.writeVideo(id, mp4);
    expect(video).toMatchObject({ fileName: `${id}.mp4`, mime: "video/mp4", bytes: mp4.length });
    expect(await keys(objects, "videos/")).toEqual([`videos/${id}.mp4`]);
    expect(await store.read(video.fileName)).toEqual(mp4);
  });

  it("rejects anything that is not png, jpeg or webp as bad_output, writing nothing", async () => {
    const { objects, store } = open();
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } })
      .gif()
      .toBuffer();
    const truncated = (await png(64, 64, "#f00")).subarray(0, 60);
    for (const data of [Buffer.from("<html>not an image</html>"), gif, Buffer.alloc(0), truncated]) {
      const error = await store.writeImage(newId(), data).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PredictionFailure);
      expect((error as PredictionFailure).code).toBe("bad_output");
    }
    await expect(store.writeVideo(newId(), await png(8, 8))).rejects.toMatchObject({ code: "bad_output" });
    expect(await keys(objects, "images/")).toEqual([]);
    expect(await keys(objects, "videos/")).toEqual([]);
  });

  it("refuses an image over 4096² pixels with its size in the reason, writing nothing; sharp will not preview it", async () => {
    const { objects, store } = open();
    // One colour, so a few hundred KB of PNG; decoded it would be 75 MB.
    const huge = await png(5000, 5000);
    const error = await store.writeImage(newId(), huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PredictionFailure);
    expect(error).toMatchObject({
      code: "bad_output",
      message: "output image is 5000×5000 pixels, more than the 16,777,216 (4096×4096) the bot stores",
    });
    expect(await keys(objects, "images/")).toEqual([]);
    // The preview path has the same limit, should such a file ever reach it: refused before decoding.
    await expect(fitImage(huge, "huge", "png", 1000)).rejects.toThrow("Input image exceeds pixel limit");

    // Exactly at the limit is stored.
    expect(MAX_IMAGE_PIXELS).toBe(4096 * 4096);
    expect(await store.writeImage(newId(), await png(4096, 4096))).toMatchObject({
      width: 4096,
      height: 4096,
    });
    expect(await keys(objects, "images/")).toHaveLength(1);
  });

  it("rejects ../../etc/passwd and every other non-UUID before the backend is asked", async () => {
    // On a backend that fails every call: the rejection must be the id check, not a storage error.
    const { objects, store } = backend.unreachable();
    opened.push(objects);
    await expect(store.read(`${newId()}.png`)).rejects.not.toBeInstanceOf(InvalidFileIdError);
    await expect(store.stream(`${newId()}.mp4`, { start: 0, end: 9 })).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    for (const id of BAD_IDS) {
      expect(isUuid(id)).toBe(false);
      await expect(store.remove(`${id}.png`)).rejects.toBeInstanceOf(InvalidFileIdError);
      await expect(store.remove(id)).rejects.toBeInstanceOf(InvalidFileIdError);
      await expect(store.read(`${id}.png`)).rejects.toBeInstanceOf(InvalidFileIdError);
      await expect(store.stream(`${id}.mp4`)).rejects.toBeInstanceOf(InvalidFileIdError);
      await expect(store.writeImage(id, await png(8, 8))).rejects.toBeInstanceOf(InvalidFileIdError);
      await expect(store.writeVideo(id, Buffer.from("x"))).rejects.toBeInstanceOf(InvalidFileIdError);
    }
    expect(() => store.keyOf(`${newId()}.gif`)).toThrow(InvalidFileIdError);
    if (dir) expect(existsSync(`${dir.path}/etc`)).toBe(false);
    // The object store refuses keys that climb out or hide, whoever calls it.
    for (const key of ["../x", "images/../../x", "/etc/passwd", "images/.tmp-0123456789abcdef", "a//b"]) {
      await expect(objects.stat(key)).rejects.toThrow("not a valid object key");
      await expect(objects.put(key, Buffer.from("x"), { contentType: "text/plain" })).rejects.toThrow(
        "not a valid object key",
      );
    }
  });

  it("streams a file or just a byte range of it, to its last byte; a missing one is ObjectNotFoundError", async () => {
    const { objects, store } = open();
    // Noise does not compress: about 12 KB, so ranges fall well inside it.
    const noise = await sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } })
      .png()
      .toBuffer();
    const facts = await store.writeImage(newId(), noise);
    const bytes = await store.read(facts.fileName);
    const last = bytes.length - 1;
    expect(await store.size(facts.fileName)).toBe(bytes.length);
    expect(await readAll(await store.stream(facts.fileName))).toEqual(bytes);
    // s3rver reads `bytes=0-0` as `bytes=0-` (real S3 does not); the store refuses to pass such an answer off.
    if (backend.name.startsWith("S3")) {
      await expect(store.stream(facts.fileName, { start: 0, end: 0 })).rejects.toBeInstanceOf(
        StorageUnavailableError,
      );
    } else {
      expect(await readAll(await store.stream(facts.fileName, { start: 0, end: 0 }))).toEqual(
        bytes.subarray(0, 1),
      );
    }
    for (const [start, end] of [
      [0, 1],
      [last, last],
      [10, last],
      [7, 1000],
    ] as const) {
      const part = await readAll(await store.stream(facts.fileName, { start, end }));
      expect({ start, end, part }).toEqual({ start, end, part: bytes.subarray(start, end + 1) });
    }
    await expect(objects.get(store.keyOf(facts.fileName), { start: 5, end: 4 })).rejects.toThrow(RangeError);
    await expect(store.stream(facts.fileName, { start: -1, end: 4 })).rejects.toThrow(RangeError);
    const missing = `${newId()}.mp4`;
    await expect(store.stream(missing, { start: 0, end: 1 })).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.stream(missing)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.size(missing)).toBeUndefined();
    await expect(store.stream("../../etc/passwd", { start: 0, end: 1 })).rejects.toBeInstanceOf(
      InvalidFileIdError,
    );
  });

  it("a missing file is ObjectNotFoundError on read and nothing on stat; removing it twice is fine", async () => {
    const { objects, store } = open();
    const id = newId();
    await expect(store.read(`${id}.png`)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await objects.stat(`images/${id}.png`)).toBeUndefined();
    const facts = await store.writeImage(id, await png(8, 8));
    await store.remove(facts.fileName);
    await store.remove(facts.fileName);
    await expect(store.read(facts.fileName)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it("lists by prefix: images/ and videos/ apart, a name prefix narrows, another STORAGE_URL prefix sees none", async () => {
    const { objects, store } = open();
    const a = await store.writeImage(`aaaaaaaa${newId().slice(8)}`, await png(8, 8));
    const b = await store.writeImage(`bbbbbbbb${newId().slice(8)}`, await png(8, 8));
    expect(await keys(objects, "images/")).toEqual([`images/${a.fileName}`, `images/${b.fileName}`]);
    expect(await keys(objects, "images/aaaaaaaa")).toEqual([`images/${a.fileName}`]);
    expect(await keys(objects, "videos/")).toEqual([]);
    expect(await keys(objects, "images")).toEqual([`images/${a.fileName}`, `images/${b.fileName}`]);
    const other = backend.open();
    opened.push(other);
    expect(await keys(other, "images/")).toEqual([]);
    for await (const object of objects.list("images/")) expect(object.size).toBeGreaterThan(0);
  });

  it("sweeps files no row names once they are older than the store's grace period, and leaves other names alone", async () => {
    const { objects, store } = open();
    const live = await store.writeImage(newId(), await png(8, 8));
    const orphan = await store.writeImage(newId(), await png(8, 8));
    const mp4InImages = `${newId()}.mp4`;
    await objects.put(`images/${mp4InImages}`, Buffer.from("not where a video goes"), {
      contentType: "video/mp4",
    });
    await objects.put("images/README.txt", Buffer.from("not the store's"), { contentType: "text/plain" });
    const keep = (name: string) => name === live.fileName;

    // Right after the write: files under DATA_DIR are swept (one process owns them); on S3 the orphan is
    // young and another process may be about to commit its row.
    const now = await store.sweep(keep, Date.now());
    if (objects.orphanGraceMs === 0) {
      expect(now).toEqual({ orphans: [orphan.fileName], temp: 0, young: 0, failed: [] });
    } else {
      expect(objects.orphanGraceMs).toBe(S3_ORPHAN_GRACE_MS);
      expect(now).toEqual({ orphans: [], temp: 0, young: 1, failed: [] });
      expect(await objects.stat(`images/${orphan.fileName}`)).toBeDefined();
      const later = await store.sweep(keep, Date.now() + S3_ORPHAN_GRACE_MS + 60_000);
      expect(later).toEqual({ orphans: [orphan.fileName], temp: 0, young: 0, failed: [] });
    }
    expect(await keys(objects, "images/")).toEqual(
      [`images/${live.fileName}`, `images/${mp4InImages}`, "images/README.txt"].sort(),
    );
  });

  if (backend.name.startsWith("files")) {
    // On S3 a PutObject is all-or-nothing by the service's own guarantee ("S3 never adds partial objects") and
    // the backend sends each object in one PutObject. s3rver, the test server, writes its file in place and so
    // shows a growing object to a reader: the race is run where the bot provides the atomicity itself.
    it("puts atomically: readers during a large put see nothing or the whole object, never part of it", async () => {
      const { objects } = open();
      // Incompressible, so the write takes many chunks on disk and on the wire.
      const data = Buffer.alloc(8 * 1024 * 1024);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
      const digest = createHash("sha256").update(data).digest("hex");
      const key = `videos/${newId()}.mp4`;
      let done = false;
      const put = objects.put(key, data, { contentType: "video/mp4" }).finally(() => {
        done = true;
      });
      const seen: string[] = [];
      do {
        const info = await objects.stat(key);
        if (!info) {
          seen.push("absent");
          continue;
        }
        expect(info.size).toBe(data.length);
        const read = await readAll(await objects.get(key));
        expect(createHash("sha256").update(read).digest("hex")).toBe(digest);
        expect(await keys(objects, "videos/")).toEqual([key]);
        seen.push("whole");
      } while (!done);
      await put;
      expect(seen.every((s) => s === "absent" || s === "whole")).toBe(true);
      expect(
        createHash("sha256")
          .update(await readAll(await objects.get(key)))
          .digest("hex"),
      ).toBe(digest);
      expect(await keys(objects, "videos/")).toEqual([key]);
    });

    it("a temp file a crash left is no object (not listed, not found) and the sweep removes it", async () => {
      const { objects, store } = open();
      const kept = await store.writeImage(newId(), await png(8, 8));
      const temp = `${(objects as LocalObjectStore).root}/images/.tmp-0123456789abcdef`;
      writeFileSync(temp, "half an image");
      expect(await keys(objects, "images/")).toEqual([`images/${kept.fileName}`]);
      expect(await store.sweep((name) => name === kept.fileName, Date.now())).toEqual({
        orphans: [],
        temp: 1,
        young: 0,
        failed: [],
      });
      expect(existsSync(temp)).toBe(false);
    });
  }

  it("check() passes on a working store and names the variable to fix on a broken one", async () => {
    const { objects } = open();
    await objects.check();
    const broken = backend.unreachable().objects;
    opened.push(broken);
    const error = await broken.check().catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "StorageUnavailableError",
      variable: backend.name.startsWith("S3") ? "STORAGE_URL" : "DATA_DIR",
    });
    if (backend.name.startsWith("S3")) {
      expect((error as Error).message).toContain("cannot reach the storage (ECONNREFUSED)");
    }
  });
});

describe("directory fsyncs of writes landing together", () => {
  it("are shared: each caller waits for one that started after it asked, so a burst costs two", async () => {
    const started: Array<() => void> = [];
    const syncs = new DirectorySyncs(() => new Promise<void>((resolve) => started.push(resolve)));
    const settled: string[] = [];
    const track = (name: string, p: Promise<void>) => p.then(() => settled.push(name));
    const a = track("a", syncs.sync("/d"));
    expect(started).toHaveLength(1);
    // Asked while the first runs: both wait for one more fsync, started only after the first ends.
    const b = track("b", syncs.sync("/d"));
    const c = track("c", syncs.sync("/d"));
    expect(started).toHaveLength(1);
    started[0]?.();
    await a;
    expect(settled).toEqual(["a"]);
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(2);
    started[1]?.();
    await Promise.all([b, c]);
    expect(settled).toEqual(["a", "b", "c"]);
    // Another directory has its own.
    void syncs.sync("/e");
    expect(started).toHaveLength(3);
  });
});

describe("S3 puts", () => {
  it("sign the SHA-256 the caller measured (S3 checks it against the body) instead of hashing the bytes again", async () => {
    // A recording proxy in front of s3rver: what the bot sends, as S3 would receive it.
    const seen: Array<{ method?: string; sha?: string | string[] }> = [];
    const forward = forwardTo(s3.endpoint);
    const proxy = await startLocalServer((req, res) => {
      seen.push({ method: req.method, sha: req.headers["x-amz-content-sha256"] });
      forward(req, res);
    });
    try {
      const objects = s3Store(`t-${newId()}`, proxy.url);
      opened.push(objects);
      const data = randomBytes(64 * 1024);
      const measured = createHash("sha256").update(data).digest("hex");
      await objects.put(`images/${newId()}.png`, data, { contentType: "image/png", sha256: measured });
      // A value the body does not have proves it is passed through, not recomputed (s3rver does not check it).
      const given = "0".repeat(64);
      await objects.put(`images/${newId()}.png`, data, { contentType: "image/png", sha256: given });
      // Without a caller's hash (or with one that is no hex SHA-256), the SDK hashes the body itself.
      await objects.put(`images/${newId()}.png`, data, { contentType: "image/png" });
      await objects.put(`images/${newId()}.png`, data, { contentType: "image/png", sha256: "not-a-hash" });
      expect(seen.filter((r) => r.method === "PUT").map((r) => r.sha)).toEqual([
        measured,
        given,
        measured,
        measured,
      ]);
    } finally {
      await proxy.close();
    }
  });
});
