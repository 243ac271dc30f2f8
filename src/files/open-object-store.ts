// Chooses the object store from the configuration: files under DATA_DIR unless STORAGE_URL names a bucket.
import { LocalObjectStore } from "./local-object-store.ts";
import type { ObjectStore } from "./object-store.ts";
import { S3ObjectStore, type S3Settings } from "./s3-object-store.ts";

export type StorageSettings = { kind: "local" } | ({ kind: "s3" } & S3Settings);

export function openObjectStore(storage: StorageSettings, dataDir: string): ObjectStore {
  return storage.kind === "s3" ? new S3ObjectStore(storage) : new LocalObjectStore(dataDir);
}
