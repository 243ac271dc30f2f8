// Where the bytes of images and videos live: one interface, two backends (files under DATA_DIR, or an
// S3-compatible bucket). Only FileStore uses it; it derives every key from a validated UUID first.

import type { Readable } from "node:stream";
import { StorageUnavailableError } from "../kit/errors.ts";

/** What a store knows about one object. */
export interface ObjectInfo {
  /** The object's key, as given to `put` (without the S3 backend's prefix). */
  key: string;
  size: number;
  /** When the object was last written, epoch milliseconds, by the backend's clock. */
  modifiedAt: number;
  /**
   * The hex sha256 its put was given, where the backend keeps it beside the object (S3 user metadata); undefined
   * where it does not (files under DATA_DIR, or an object written without one). Only `stat` reports it.
   */
  sha256?: string;
}

export interface PutOptions {
  contentType: string;
  /** Hex sha256 of the bytes; kept beside the object where the backend can (S3 metadata). */
  sha256?: string;
}

/** Bytes `start` to `end` of an object, both inclusive (as in an HTTP Range). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectStore {
  /** `files under …` or `s3://bucket/prefix at …`, for logs and start-up errors. */
  readonly description: string;
  /**
   * How old an object without a row must be before a sweep removes it. Zero for files under DATA_DIR (one
   * process owns them, and the sweep runs before it writes); an hour for S3, where another process may have
   * written an object whose row it has not committed yet.
   */
  readonly orphanGraceMs: number;
  /**
   * Whether a put sends the bytes across a network (S3): a grid carrying the same bytes then goes up first
   * (see LandedListener). A put into files under DATA_DIR is a write off the event loop, held for nothing.
   */
  readonly putUploads: boolean;
  /** Stores the bytes under `key` all at once: a reader sees the old state or the whole object, never part. */
  put(key: string, data: Uint8Array, options: PutOptions): Promise<void>;
  /**
   * Stores the file at `path` (of `options.bytes` bytes) under `key`, as `put` does, reading it as it is sent:
   * never the whole file in memory. For large files the bot made itself (data exports).
   */
  putFile(key: string, path: string, options: PutOptions & { bytes: number }): Promise<void>;
  /**
   * The object's bytes as a stream, or only bytes `range.start` to `range.end` (inclusive) of them;
   * ObjectNotFoundError when there is none. Nothing is read ahead into memory: the bytes arrive as the
   * stream is consumed.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** The object's facts, or undefined when there is none. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Removes the object; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in no promised order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes what writes cut short by a crash left under `prefix`; how many. Only safe while nothing writes. */
  removeIncomplete(prefix: string): Promise<number>;
  /** Resolves when the store can be read and written; rejects with StorageUnavailableError otherwise. */
  check(): Promise<void>;
  close(): void;
}

/** There is no object under the key. */
export class ObjectNotFoundError extends Error {
  readonly code = "ENOENT";
  constructor(readonly key: string) {
    super(`no stored object ${key}`);
    this.name = "ObjectNotFoundError";
  }
}

export { StorageUnavailableError };

/** Object keys are `/`-separated names of letters, digits, `.`, `_` and `-`; no segment starts with a dot. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** Throws unless `key` is a key a backend may map to a path or an S3 key: no `..`, no empty or hidden parts. */
export function assertKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`not a valid object key: ${JSON.stringify(key).slice(0, 80)}`);
}

/** A prefix to list under: a key, or a key followed by `/`. */
export function assertPrefix(prefix: string): void {
  assertKey(prefix.endsWith("/") ? prefix.slice(0, -1) : prefix);
}

/** Throws unless `range` is a non-empty range of whole, non-negative offsets. */
export function assertRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`not a valid byte range: ${start}-${end}`);
  }
}

/** Reads a stream to its end. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
