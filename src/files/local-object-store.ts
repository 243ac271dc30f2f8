// The default object store: files under DATA_DIR, the key being the relative path (images/<uuid>.png), each
// written to a temp name in its directory, fsynced and renamed, so a crash leaves the old state or the new.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { copyFile, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import {
  assertKey,
  assertPrefix,
  assertRange,
  type ByteRange,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  StorageUnavailableError,
} from "./object-store.ts";

/** What `writeAtomically` names a file before its rename; one left behind is from a write a crash cut short. */
const TEMP_NAME = /^\.tmp-[0-9a-f]{16}$/;

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

export class LocalObjectStore implements ObjectStore {
  readonly orphanGraceMs = 0;
  readonly putUploads = false;
  readonly description: string;
  private readonly made = new Set<string>();
  private readonly directories = new DirectorySyncs();

  constructor(readonly root: string) {
    this.description = `files under ${root}`;
  }

  /** Makes the folders of these prefixes now, as an install has always had them (images/, videos/). */
  makeFolders(prefixes: readonly string[]): void {
    for (const prefix of prefixes) {
      assertPrefix(prefix);
      const dir = join(this.root, prefix.slice(0, prefix.lastIndexOf("/") + 1));
      mkdirSync(dir, { recursive: true });
      this.made.add(dir.replace(/\/+$/, ""));
    }
  }

  private pathOf(key: string): string {
    assertKey(key);
    return join(this.root, key);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    if (!this.made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.made.add(dir);
    }
    await writeAtomically(path, data, this.directories);
  }

  /** Copied (by the kernel, not through memory) to a temp name beside its key, fsynced and renamed, as `put`. */
  async putFile(key: string, path: string): Promise<void> {
    const target = this.pathOf(key);
    const dir = dirname(target);
    if (!this.made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.made.add(dir);
    }
    const temp = join(dir, `.tmp-${randomBytes(8).toString("hex")}`);
    try {
      await copyFile(path, temp);
      const handle = await open(temp, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await this.directories.sync(dir);
  }

  /** Opens the file first, so a missing one is ObjectNotFoundError here rather than an error on the stream. */
  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key);
    if (range) assertRange(range);
    try {
      const handle = await open(path, "r");
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const facts = await stat(this.pathOf(key));
      return facts.isFile() ? { key, size: facts.size, modifiedAt: facts.mtimeMs } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertPrefix(prefix);
    // The directory part of the prefix is walked; the rest filters names. Hidden names (temp files) are skipped.
    const slash = prefix.lastIndexOf("/");
    const base = prefix.slice(0, slash + 1);
    yield* this.walk(base, prefix);
  }

  private async *walk(dirKey: string, prefix: string): AsyncIterable<ObjectInfo> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(join(this.root, dirKey), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const key = `${dirKey}${entry.name}`;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* this.walk(`${key}/`, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await this.stat(key);
        if (info) yield info;
      }
    }
  }

  async removeIncomplete(prefix: string): Promise<number> {
    assertPrefix(prefix);
    const dir = join(this.root, prefix.slice(0, prefix.lastIndexOf("/") + 1));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isMissing(err)) return 0;
      throw err;
    }
    let removed = 0;
    for (const name of names) {
      if (!TEMP_NAME.test(name)) continue;
      await rm(join(dir, name), { force: true });
      removed++;
    }
    return removed;
  }

  /** The directory can be made and written: a temp file is written and removed. */
  async check(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      const probe = join(this.root, `.tmp-${randomBytes(8).toString("hex")}`);
      const handle = await open(probe, "wx", 0o644);
      await handle.close();
      await rm(probe, { force: true });
    } catch (err) {
      throw new StorageUnavailableError(
        "DATA_DIR",
        `cannot write to ${this.root}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  close(): void {}
}

/** temp file in the same directory → fsync → rename → fsync the directory: a crash leaves old or new, never half. */
export async function writeAtomically(
  path: string,
  data: Uint8Array,
  directories = new DirectorySyncs(),
): Promise<void> {
  const dir = dirname(path);
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
  await directories.sync(dir);
}

/**
 * Makes the renames done in a directory durable, with writes landing together sharing fsyncs: a caller waits
 * for an fsync that starts after its rename, which is the one queued behind the fsync under way (or a new one
 * when none is). A burst of images then costs two directory fsyncs, not one each.
 */
export class DirectorySyncs {
  private readonly byDir = new Map<string, { running: Promise<void>; queued?: Promise<void> }>();

  constructor(private readonly fsync: (dir: string) => Promise<void> = fsyncDirectory) {}

  sync(dir: string): Promise<void> {
    const current = this.byDir.get(dir);
    if (!current) return this.start(dir);
    current.queued ??= current.running.catch(() => undefined).then(() => this.start(dir));
    return current.queued;
  }

  private start(dir: string): Promise<void> {
    const running = this.fsync(dir).finally(() => {
      if (this.byDir.get(dir)?.running === running) this.byDir.delete(dir);
    });
    this.byDir.set(dir, { running });
    return running;
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const dirHandle = await open(dir, "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
