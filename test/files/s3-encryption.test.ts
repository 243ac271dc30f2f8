// S3_SSE on the wire: the bot's S3 store (the real AWS SDK) against a recording HTTP server, which keeps every
// request's headers and body, so what reaches S3 is read as S3 would read it.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.ts";
import { FileStore } from "../../src/files/file-store.ts";
import { openObjectStore } from "../../src/files/open-object-store.ts";
import { makeTempDir } from "../support/env.ts";

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

let server: Server;
let endpoint: string;
const requests: Recorded[] = [];

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = "TESTKEY";
  process.env.AWS_SECRET_ACCESS_KEY = "TESTSECRET";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { ETag: '"0"', "Content-Length": "0" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A file store on the recording server, configured from these variables as the bot would be. */
function storeWith(env: Record<string, string>): FileStore {
  const config = loadConfig({
    IMAGE_PROVIDER: "mock",
    STORAGE_URL: "s3://crbot-test/p",
    S3_ENDPOINT: endpoint,
    S3_REGION: "us-east-1",
    S3_FORCE_PATH_STYLE: "true",
    ...env,
  });
  return new FileStore(openObjectStore(config.storage, "/nonexistent"));
}

const ID = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed";
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A video put from memory and a data export put from a file, as the store's two kinds of PutObject. */
async function putBoth(files: FileStore): Promise<Recorded[]> {
  requests.length = 0;
  const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypmp42"), Buffer.alloc(12)]);
  await files.writeVideo(ID, mp4);
  const dir = makeTempDir("crbot-sse-");
  try {
    const zip = Buffer.from("PK\u0005\u0006".padEnd(22, "\0"), "binary");
    const path = join(dir.path, "export.zip");
    writeFileSync(path, zip);
    await files.writeExport(`${ID}.zip`, path, { bytes: zip.length, sha256: sha256(zip) });
    const puts = requests.filter((r) => r.method === "PUT");
    expect(puts.map((r) => r.url.split("?")[0])).toEqual([
      `/crbot-test/p/videos/${ID}.mp4`,
      `/crbot-test/p/exports/${ID}.zip`,
    ]);
    // The file's bytes reach S3 whole, with the hash they were signed with.
    expect(puts[1]?.body.equals(zip)).toBe(true);
    expect(puts[1]?.headers["x-amz-content-sha256"]).toBe(sha256(zip));
    return puts;
  } finally {
    dir.remove();
    files.close();
  }
}

describe("S3_SSE", () => {
  it("AES256 asks S3 to encrypt every object it stores", async () => {
    for (const put of await putBoth(storeWith({ S3_SSE: "AES256" }))) {
      expect(put.headers["x-amz-server-side-encryption"]).toBe("AES256");
      expect(put.headers["x-amz-server-side-encryption-aws-kms-key-id"]).toBeUndefined();
    }
  });

  it("aws:kms names the KMS key on every object", async () => {
    const key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    for (const put of await putBoth(storeWith({ S3_SSE: "aws:kms", S3_SSE_KMS_KEY_ID: key }))) {
      expect(put.headers["x-amz-server-side-encryption"]).toBe("aws:kms");
      expect(put.headers["x-amz-server-side-encryption-aws-kms-key-id"]).toBe(key);
    }
  });

  it("unset, asks nothing: the bucket's own default applies", async () => {
    for (const put of await putBoth(storeWith({}))) {
      expect(put.headers["x-amz-server-side-encryption"]).toBeUndefined();
    }
  });
});
