// Writes a data export's ZIP to a file as a stream (yazl): data.json first, then each stored image and video
// read from the file store one at a time as the archive reaches it. Neither the archive nor more than one
// file's chunk in flight is ever held in memory.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ZipFile } from "yazl";
import type { FileStore } from "../../files/file-store.ts";
import type { ExportContents } from "./export-data.ts";

export interface WrittenArchive {
  path: string;
  bytes: number;
  sha256: string;
}

/** Writes `contents` as a ZIP at `path`; resolves with its size and sha256 once it is complete on disk. */
export async function writeExportArchive(
  files: FileStore,
  contents: ExportContents,
  path: string,
  now: Date,
): Promise<WrittenArchive> {
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from(`${JSON.stringify(contents.data, null, 2)}\n`, "utf8"), "data.json", {
    mtime: now,
  });
  for (const file of contents.files) {
    // Images and videos are compressed already: stored as they are, byte for byte.
    zip.addReadStreamLazy(
      file.path,
      { mtime: now, compress: false, ...(file.bytes > 0 ? { size: file.bytes } : {}) },
      (done) => {
        files.stream(file.fileName).then(
          (stream) => done(null, stream),
          (err: unknown) => done(err, undefined as never),
        );
      },
    );
  }
  zip.end();
  const hash = createHash("sha256");
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const output = zip.outputStream as Readable;
  // yazl reports a failed read (a file gone from the store) on the ZipFile: it ends the pipeline with it.
  zip.once("error", (err: Error) => output.destroy(err));
  await pipeline(output, count, createWriteStream(path, { flags: "wx", mode: 0o600 }));
  return { path, bytes, sha256: hash.digest("hex") };
}
