import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { fitImage } from "../../src/discord/attachments.ts";
import { PredictionFailure } from "../../src/domain/failures.ts";
import { isUuid, newId } from "../../src/domain/ids.ts";
import { FileStore, InvalidFileIdError, MAX_IMAGE_PIXELS } from "../../src/storage/file-store.ts";
import { makeTempDir, type TempDir } from "../support/env.ts";

let dir: TempDir;
afterEach(() => dir?.remove());

const BAD_IDS = [
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "00000000-0000-0000-0000-000000000000/../../x",
  "not-a-uuid",
  "",
  "0A1B2C3D-0000-4000-8000-000000000000",
  "0a1b2c3d-0000-4000-8000-000000000000\n",
];

describe("FileStore", () => {
  it("stores a PNG as images/<uuid>.png with its measured facts", async () => {
    dir = makeTempDir();
    const store = new FileStore(dir.path);
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#123456" } })
      .png()
      .toBuffer();
    const id = newId();
    const facts = await store.writeImage(id, png);
    expect(facts).toEqual({
      fileName: `${id}.png`,
      mime: "image/png",
      bytes: png.length,
      width: 40,
      height: 30,
      sha256: createHash("sha256").update(png).digest("hex"),
    });
    expect(readFileSync(`${dir.path}/images/${id}.png`)).toEqual(png);
    expect(readdirSync(`${dir.path}/images`)).toEqual([`${id}.png`]); // no temp file left behind
  });

  it("names the file by what the bytes are, not what they claim: JPEG and WebP too", async () => {
    dir = makeTempDir();
    const store = new FileStore(dir.path);
    const base = sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } });
    expect((await store.writeImage(newId(), await base.clone().jpeg().toBuffer())).fileName).toMatch(
      /\.jpg$/,
    );
    expect((await store.writeImage(newId(), await base.clone().webp().toBuffer())).mime).toBe("image/webp");
  });

  it("rejects anything that is not png, jpeg or webp as bad_output, writing nothing", async () => {
    dir = makeTempDir();
    const store = new FileStore(dir.path);
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } })
      .gif()
      .toBuffer();
    for (const data of [Buffer.from("<html>not an image</html>"), gif, Buffer.alloc(0)]) {
      const error = await store.writeImage(newId(), data).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PredictionFailure);
      expect((error as PredictionFailure).code).toBe("bad_output");
    }
    const truncated = (
      await sharp({ create: { width: 64, height: 64, channels: 3, background: "#f00" } })
        .png()
        .toBuffer()
    ).subarray(0, 60);
    expect(
      ((await store.writeImage(newId(), truncated).catch((e: unknown) => e)) as PredictionFailure).code,
    ).toBe("bad_output");
    expect(readdirSync(`${dir.path}/images`)).toEqual([]);
  });

  it("refuses an image over 4096² pixels with its size in the reason, writing nothing; sharp will not preview it", async () => {
    dir = makeTempDir();
    const store = new FileStore(dir.path);
    // One colour, so a few hundred KB of PNG; decoded it would be 75 MB.
    const huge = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: "#123456" } })
      .png()
      .toBuffer();
    const error = await store.writeImage(newId(), huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PredictionFailure);
    expect(error).toMatchObject({
      code: "bad_output",
      message: "output image is 5000×5000 pixels, more than the 16,777,216 (4096×4096) the bot stores",
    });
    expect(readdirSync(`${dir.path}/images`)).toEqual([]);
    // The preview path has the same limit, should such a file ever reach it: refused before decoding.
    await expect(fitImage(huge, "huge", "png", 1000)).rejects.toThrow("Input image exceeds pixel limit");

    // Exactly at the limit is stored.
    const edge = await sharp({ create: { width: 4096, height: 4096, channels: 3, background: "#123456" } })
      .png()
      .toBuffer();
    expect(MAX_IMAGE_PIXELS).toBe(4096 * 4096);
    expect(await store.writeImage(newId(), edge)).toMatchObject({ width: 4096, height: 4096 });
  });

  it("rejects ../../etc/passwd and every other non-UUID before touching the filesystem", async () => {
    dir = makeTempDir();
    const store = new FileStore(dir.path);
    for (const id of BAD_IDS) {
      expect(isUuid(id)).toBe(false);
      expect(() => store.removeSync(`${id}.png`)).toThrow(InvalidFileIdError);
      await expect(store.remove(id)).rejects.toBeInstanceOf(InvalidFileIdError);
      // The rejection is the id check, not a missing file: ENOENT would mean the disk was asked.
      await expect(store.read(`${id}.png`)).rejects.toBeInstanceOf(InvalidFileIdError);
      await expect(store.writeImage(id, Buffer.from("x"))).rejects.toBeInstanceOf(InvalidFileIdError);
    }
    expect(existsSync(`${dir.path}/etc`)).toBe(false);
  });
});
