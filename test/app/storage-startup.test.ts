// A wrong or unreachable STORAGE_URL or DATABASE_URL stops `npm start` (and `npm run migrate`) with one message
// naming the variable and exit code 2.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { makeTempDir, type TempDir } from "../support/env.ts";
import { type LocalS3, S3_BUCKET, startS3 } from "../support/s3.ts";
import { nodeArguments, runScript } from "../support/spawn.ts";

let s3: LocalS3;
let dir: TempDir;
beforeAll(async () => {
  s3 = await startS3();
  dir = makeTempDir();
});
afterAll(async () => {
  await s3?.close();
  dir?.remove();
});

/** `npm start` as its own process, without blocking this one: the S3 server answering it lives here. */
const start = (env: Record<string, string>) =>
  new Promise<{ status: number | null; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      nodeArguments("src/index.ts"),
      {
        env: {
          PATH: process.env.PATH ?? "",
          DISCORD_TOKEN: "x.y.z",
          IMAGE_PROVIDER: "mock",
          DATA_DIR: dir.path,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          ...env,
        },
        timeout: 30_000,
      },
      (err, _stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) }),
    );
  });

const problems = (env: Record<string, string>) => {
  try {
    loadConfig({ IMAGE_PROVIDER: "mock", ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe("STORAGE_URL", () => {
  it("accepts s3://bucket and s3://bucket/prefix, with S3_* beside it", () => {
    const config = loadConfig({
      IMAGE_PROVIDER: "mock",
      STORAGE_URL: "s3://my-bucket/bots/crbot/",
      S3_ENDPOINT: "https://abc.r2.cloudflarestorage.com/",
      S3_FORCE_PATH_STYLE: "true",
    });
    expect(config.storage).toEqual({
      kind: "s3",
      bucket: "my-bucket",
      prefix: "bots/crbot",
      endpoint: "https://abc.r2.cloudflarestorage.com",
      region: "us-east-1",
      forcePathStyle: true,
    });
    expect(
      loadConfig({ IMAGE_PROVIDER: "mock", STORAGE_URL: "s3://my-bucket", AWS_REGION: "eu-west-1" }).storage,
    ).toMatchObject({ prefix: "", region: "eu-west-1", forcePathStyle: false });
    expect(loadConfig({ IMAGE_PROVIDER: "mock", STORAGE_URL: "" }).storage).toEqual({ kind: "local" });
  });

  it("refuses a wrong scheme, no bucket, a bad bucket or prefix, and credentials in the URL, naming the variable", () => {
    const cases: Array<[string, string]> = [
      ["https://my-bucket/x", "the scheme is https:, not s3:"],
      ["s3:///prefix", "no bucket is named"],
      ["s3://My_Bucket", "the bucket name must be 3–63 lower-case letters"],
      ["s3://MyBucket/x", "the bucket name must be 3–63 lower-case letters"],
      ["s3://my-bucket/a%20b", "may hold only letters"],
      ["s3://my-bucket/%ZZ", "may hold only letters"],
      ["s3://my-bucket/a//b", "may hold only letters"],
      ["s3://key:secret@my-bucket", "no credentials"],
      ["bucket", "it is not a URL"],
    ];
    for (const [value, why] of cases) {
      const found = problems({ STORAGE_URL: value });
      expect(found, value).toHaveLength(1);
      expect(found[0]).toMatch(/^STORAGE_URL must be s3:\/\/bucket or s3:\/\/bucket\/prefix: /);
      expect(found[0]).toContain(why);
      if (value.includes("secret")) expect(found[0]).not.toContain("secret");
    }
    expect(problems({ STORAGE_URL: "s3://b-1", S3_ENDPOINT: "ftp://x" })).toEqual([
      "S3_ENDPOINT must be an http(s) URL",
    ]);
    expect(problems({ STORAGE_URL: "s3://b-1", S3_ENDPOINT: "https://k:s@x" })[0]).toMatch(
      /^S3_ENDPOINT must not hold credentials/,
    );
    expect(problems({ STORAGE_URL: "s3://b-1", S3_FORCE_PATH_STYLE: "maybe" })).toEqual([
      "S3_FORCE_PATH_STYLE must be true or false",
    ]);
    expect(problems({ S3_ENDPOINT: "http://127.0.0.1:9000" })).toEqual([
      "S3_ENDPOINT is set but STORAGE_URL is not: set STORAGE_URL=s3://bucket/prefix, or unset S3_ENDPOINT",
    ]);
  });
});

describe("npm start with S3 storage", () => {
  it("with a wrong STORAGE_URL prints one message naming it and exits 2", async () => {
    const result = await start({ STORAGE_URL: "http://my-bucket/x" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Cannot start: STORAGE_URL must be s3://bucket or s3://bucket/prefix");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("with an endpoint that refuses connections says it cannot reach the storage and exits 2", async () => {
    const result = await start({ ...s3.processEnv("bot"), S3_ENDPOINT: "http://127.0.0.1:1" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      `Cannot start: STORAGE_URL s3://${S3_BUCKET}/bot at http://127.0.0.1:1: cannot reach the storage (ECONNREFUSED)`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("with a bucket the endpoint does not have, or credentials it refuses, says which and exits 2", async () => {
    const missing = await start({ ...s3.processEnv("bot"), STORAGE_URL: "s3://no-such-bucket/bot" });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("Cannot start: STORAGE_URL s3://no-such-bucket/bot");
    expect(missing.stderr).toContain("the bucket does not exist");

    const refused = await start({
      ...s3.processEnv("bot"),
      AWS_ACCESS_KEY_ID: "AKIANOTAKEY",
      AWS_SECRET_ACCESS_KEY: "not-the-secret-1234",
    });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("the storage refused the credentials (InvalidAccessKeyId)");
    expect(refused.stderr).not.toContain("not-the-secret-1234");
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });
});

/** A PostgreSQL URL nothing listens at (port 1 refuses at once), with a password that must never be printed. */
const UNREACHABLE_DATABASE = "postgres://bot:db-secret-hunter2@127.0.0.1:1/crbot";

/** The lines that name a variable: exactly one is wanted. */
const linesNaming = (output: string, variable: string) =>
  output.split("\n").filter((line) => line.includes(variable));

describe("an unreachable DATABASE_URL", () => {
  it("stops npm start with one line naming DATABASE_URL and exit code 2, with no stack trace or password", async () => {
    const result = await start({ DATABASE_URL: UNREACHABLE_DATABASE });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Cannot start: DATABASE_URL the database is unreachable: ECONNREFUSED");
    expect(linesNaming(result.stderr, "DATABASE_URL")).toEqual([
      expect.stringMatching(/^Cannot start: DATABASE_URL the database is unreachable: ECONNREFUSED/),
      expect.stringContaining("(database: DATABASE_URL, or DATA_DIR for SQLite)"),
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toContain("db-secret-hunter2");
  });

  it("stops npm run migrate with one line naming DATABASE_URL and exit code 2", async () => {
    const result = await runScript("src/migrate.ts", {
      DATA_DIR: dir.path,
      DATABASE_URL: UNREACHABLE_DATABASE,
    });
    expect(result.status).toBe(2);
    expect(linesNaming(result.output, "DATABASE_URL")).toEqual([
      expect.stringMatching(/^Cannot migrate: DATABASE_URL the database is unreachable: ECONNREFUSED/),
    ]);
    expect(result.output).not.toMatch(/\n\s+at /);
    expect(result.output).not.toContain("db-secret-hunter2");
  });
});
