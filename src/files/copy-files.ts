// Copying stored files to another object store (npm run storage:copy): only those the target lacks or holds
// other bytes of, each checked against the sha256 its row recorded, before and after.
import { createHash } from "node:crypto";
import type { FileStore } from "./file-store.ts";
import { ObjectNotFoundError } from "./object-store.ts";

/** A file a live row names, with what the row recorded of it. */
export interface FileToCopy {
  fileName: string;
  sha256: string | null;
  mime: string | null;
  /** Its size, when the row recorded one. */
  bytes: number | null;
}

export interface FilesCopied {
  /** Files the rows named. */
  named: number;
  copied: number;
  /** Already on the target with the recorded bytes. */
  present: number;
  /** One line per file that could not be copied and verified, naming it and why. */
  problems: string[];
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/**
 * Copies each file unless the target already holds the same bytes; then reads each copy back and checks it.
 * The files arrive one at a time (a page of rows at a time), so no list of every file is kept.
 */
export async function copyFiles(
  named: AsyncIterable<FileToCopy>,
  source: FileStore,
  target: FileStore,
): Promise<FilesCopied> {
  const result: FilesCopied = { named: 0, copied: 0, present: 0, problems: [] };
  for await (const row of named) {
    result.named++;
    const outcome = await copyFile(row, source, target);
    if (outcome === "copied") result.copied++;
    else if (outcome === "present") result.present++;
    else result.problems.push(`${row.fileName}: ${outcome.problem}`);
  }
  return result;
}

/** What became of one file: copied now, already there, or what went wrong. */
type FileOutcome = "copied" | "present" | { problem: string };

async function copyFile(row: FileToCopy, source: FileStore, target: FileStore): Promise<FileOutcome> {
  const { fileName } = row;
  if (await holdsRecordedBytes(row, target)) return "present";
  const bytes = await readOrNone(source, fileName);
  if (!bytes) return { problem: "missing on the source" };
  if (sha256(bytes) !== row.sha256)
    return { problem: "the source's bytes do not match the sha256 its row recorded" };
  await target.objects.put(target.keyOf(fileName), bytes, {
    contentType: row.mime ?? "application/octet-stream",
    sha256: row.sha256,
  });
  const back = await readOrNone(target, fileName);
  if (!back || sha256(back) !== row.sha256) return { problem: "read back from the target with other bytes" };
  return "copied";
}

/**
 * Whether the target already holds the bytes the row recorded. A store that keeps each object's sha256 beside
 * it (S3 user metadata, set by the put that wrote the object and checked by S3 against the body it received)
 * answers from the object's facts alone (HeadObject): a run again downloads nothing. Any other object (files
 * under DATA_DIR, or one written without the hash) is read and hashed.
 */
async function holdsRecordedBytes(row: FileToCopy, target: FileStore): Promise<boolean> {
  if (row.sha256 === null) return false;
  const info = await target.objects.stat(target.keyOf(row.fileName));
  if (!info || (row.bytes !== null && info.size !== row.bytes)) return false;
  if (info.sha256 !== undefined) return info.sha256 === row.sha256;
  const onTarget = await readOrNone(target, row.fileName);
  return onTarget !== undefined && sha256(onTarget) === row.sha256;
}

async function readOrNone(files: FileStore, fileName: string): Promise<Buffer | undefined> {
  try {
    return await files.read(fileName);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}
