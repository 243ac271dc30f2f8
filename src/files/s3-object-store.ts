// The object store on S3-compatible storage (AWS S3, Cloudflare R2, MinIO, Garage) when STORAGE_URL is
// s3://bucket/prefix. Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a role, …); the bot never holds or logs them.

import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  assertKey,
  assertPrefix,
  assertRange,
  type ByteRange,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  type PutOptions,
  StorageUnavailableError,
} from "./object-store.ts";

/**
 * The AWS SDK, loaded with the first S3 store: a bot on local files never needs it, and its 5 MB of heap would
 * only lengthen each of its garbage collections.
 */
const sdk = () => createRequire(import.meta.url)("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");

export interface S3Settings {
  bucket: string;
  /** Key prefix without slashes at either end; empty for the bucket's root. */
  prefix: string;
  /** An S3-compatible service's address; undefined for AWS S3 itself. */
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  /** Server-side encryption asked of every PutObject (S3_SSE, S3_SSE_KMS_KEY_ID); unset: the bucket's default. */
  sse?: S3Encryption | undefined;
}

/** S3_SSE: AES256 (keys S3 manages) or aws:kms, with the KMS key to use. */
export type S3Encryption = { mode: "AES256" } | { mode: "aws:kms"; kmsKeyId: string };

/** The PutObject fields that ask S3 to encrypt the object at rest with `sse`. */
export function encryptionFields(sse: S3Encryption | undefined) {
  if (!sse) return {};
  return sse.mode === "aws:kms"
    ? { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: sse.kmsKeyId }
    : { ServerSideEncryption: "AES256" as const };
}

/**
 * Transient failures (throttling, 5xx, timeouts, dropped connections) are retried by the SDK's standard
 * strategy: exponential backoff with jitter, at most 4 retries.
 */
export const S3_MAX_ATTEMPTS = 5;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Connecting gives up after this long; a request that stops sending or receiving for `REQUEST_TIMEOUT_MS` too. */
const CONNECT_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 60_000;

/** An object older than this with no row is swept: a write's row is committed within moments of the object. */
export const S3_ORPHAN_GRACE_MS = 60 * 60 * 1000;

export class S3ObjectStore implements ObjectStore {
  readonly orphanGraceMs = S3_ORPHAN_GRACE_MS;
  readonly putUploads = true;
  readonly description: string;
  private readonly client: S3Client;
  private readonly base: string;

  constructor(private readonly settings: S3Settings) {
    this.base = settings.prefix ? `${settings.prefix}/` : "";
    this.description = `s3://${settings.bucket}/${settings.prefix}${settings.endpoint ? ` at ${settings.endpoint}` : ""}`;
    this.client = new (sdk().S3Client)({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      maxAttempts: S3_MAX_ATTEMPTS,
      retryMode: "standard",
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
      // Checksums only where S3 demands them: several S3-compatible services reject the newer trailers.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  private keyOf(key: string): string {
    assertKey(key);
    return `${this.base}${key}`;
  }

  /**
   * One PutObject: S3 makes an object visible only once all of it is stored. A signed request carries its body's
   * SHA-256 (`x-amz-content-sha256`, which S3 checks against the bytes it gets); the caller has hashed them
   * already, so the hash is handed to the signer instead of computed again on the event loop (1 ms per 1.3 MB).
   * The same hash is kept as the object's user metadata (`x-amz-meta-sha256`), which `stat` (HeadObject) reads
   * back: storage:copy compares it instead of downloading the object again.
   */
  async put(key: string, data: Uint8Array, options: PutOptions): Promise<void> {
    await this.send(key, data, data.byteLength, options);
  }

  /**
   * One PutObject whose body is read from the file as it is sent: never the whole file in memory. Bodies up to
   * S3's 5 GB for one PutObject; what the bot stores this way (data exports) is capped well below it. There is
   * no multipart upload anywhere, so the encryption on `send` covers every write.
   */
  async putFile(key: string, path: string, options: PutOptions & { bytes: number }): Promise<void> {
    await this.send(key, createReadStream(path), options.bytes, options);
  }

  private async send(key: string, body: Uint8Array | Readable, bytes: number, options: PutOptions) {
    const command = new (sdk().PutObjectCommand)({
      Bucket: this.settings.bucket,
      Key: this.keyOf(key),
      Body: body,
      ContentLength: bytes,
      ContentType: options.contentType,
      ...(options.sha256 ? { Metadata: { sha256: options.sha256 } } : {}),
      ...encryptionFields(this.settings.sse),
    });
    const sha256 = options.sha256;
    if (sha256 && SHA256_HEX.test(sha256)) {
      command.middlewareStack.add(
        (next) => (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers) request.headers["x-amz-content-sha256"] = sha256;
          return next(args);
        },
        { step: "build", name: "knownPayloadHash" },
      );
    }
    await this.client.send(command);
  }

  /** A range is asked of S3 itself (`Range: bytes=start-end`): only those bytes cross the network. */
  async get(key: string, range?: ByteRange): Promise<Readable> {
    const Key = this.keyOf(key);
    if (range) assertRange(range);
    try {
      const answer = await this.client.send(
        new (sdk().GetObjectCommand)({
          Bucket: this.settings.bucket,
          Key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!answer.Body) throw new ObjectNotFoundError(key);
      const body = answer.Body as Readable;
      // A service that ignored or misread the range would have its bytes served under the wrong Content-Range.
      const expected = range && range.end - range.start + 1;
      if (expected !== undefined && answer.ContentLength !== undefined && answer.ContentLength !== expected) {
        body.destroy();
        throw new Error(
          `the storage answered ${answer.ContentRange ?? `${answer.ContentLength} bytes`} to bytes=${range?.start}-${range?.end}`,
        );
      }
      return body;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const head = await this.client.send(
        new (sdk().HeadObjectCommand)({ Bucket: this.settings.bucket, Key: this.keyOf(key) }),
      );
      return {
        key,
        size: head.ContentLength ?? 0,
        modifiedAt: head.LastModified?.getTime() ?? Number.POSITIVE_INFINITY,
        // x-amz-meta-sha256, as put wrote it (S3 hands user metadata back with lower-case names).
        ...(head.Metadata?.sha256 && SHA256_HEX.test(head.Metadata.sha256)
          ? { sha256: head.Metadata.sha256 }
          : {}),
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(
      new (sdk().DeleteObjectCommand)({ Bucket: this.settings.bucket, Key: this.keyOf(key) }),
    );
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertPrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new (sdk().ListObjectsV2Command)({
          Bucket: this.settings.bucket,
          Prefix: `${this.base}${prefix}`,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const entry of page.Contents ?? []) {
        if (!entry.Key?.startsWith(this.base)) continue;
        yield {
          key: entry.Key.slice(this.base.length),
          size: entry.Size ?? 0,
          // An object whose age is unknown counts as new: never swept on a guess.
          modifiedAt: entry.LastModified?.getTime() ?? Number.POSITIVE_INFINITY,
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Nothing to do: a PutObject cut short leaves no object. */
  async removeIncomplete(): Promise<number> {
    return 0;
  }

  /** Lists one key under the prefix: the endpoint answers, the bucket exists, and the credentials are taken. */
  async check(): Promise<void> {
    try {
      await this.client.send(
        new (sdk().ListObjectsV2Command)({ Bucket: this.settings.bucket, Prefix: this.base, MaxKeys: 1 }),
      );
    } catch (err) {
      throw new StorageUnavailableError("STORAGE_URL", `${this.description}: ${explain(err)}`, {
        cause: err,
      });
    }
  }

  close(): void {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof sdk().S3ServiceException &&
    (err.name === "NoSuchKey" || err.name === "NotFound" || err.$metadata.httpStatusCode === 404)
  );
}

/** What a failed check means, in words that point at the setting to fix. Never includes a credential. */
function explain(err: unknown): string {
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  switch (e.name) {
    case "NoSuchBucket":
      return "the bucket does not exist";
    case "InvalidAccessKeyId":
    case "SignatureDoesNotMatch":
    case "AccessDenied":
    case "Forbidden":
      return `the storage refused the credentials (${e.name}); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`;
    case "CredentialsProviderError":
      return "no credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)";
  }
  if (e.code) return `cannot reach the storage (${e.code}); check S3_ENDPOINT and the network`;
  if (e.$metadata?.httpStatusCode === 301 || e.name === "PermanentRedirect") {
    return "the bucket is in another region; set S3_REGION";
  }
  const status = e.$metadata?.httpStatusCode;
  return `the storage answered ${e.name}${status ? ` (HTTP ${status})` : ""}: ${e.message.slice(0, 200)}`;
}
