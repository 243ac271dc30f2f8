// The storage a bench run's bots use: the embedded default (SQLite + files under each bot's DATA_DIR), or
// PostgreSQL + S3 (a database created for the run on ADMIN_URL's server and a bucket on s3rver, in a process
// of its own, both removed at the end). Each bot start gets a fresh database or prefix, so no run sees another's rows.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { LocalObjectStore } from "../src/files/local-object-store.ts";
import type { ObjectStore } from "../src/files/object-store.ts";
import { S3ObjectStore } from "../src/files/s3-object-store.ts";
import { spawnScript } from "../test/support/spawn.ts";
import { namedCpuMs, processCpuMs } from "./cpu.ts";

export interface BenchEngine {
  description: string;
  /** The variables for one more bot (or bench phase): its own database and bucket prefix. */
  env(): Promise<Record<string, string>>;
  objectStore(dataDir: string): Promise<ObjectStore>;
  /** The CPU time (ms so far) of each service process the engine runs beside the bot, by name. */
  services: Record<string, () => number>;
  close(): Promise<void>;
}

const BUCKET = "bench";
const KEYS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };

export async function startEngine(kind: "sqlite" | "postgres", adminUrl: string): Promise<BenchEngine> {
  if (kind === "sqlite") {
    return {
      description: "SQLite + files (the embedded default)",
      env: async () => ({}),
      objectStore: async (dataDir) => new LocalObjectStore(dataDir),
      services: {},
      close: async () => {},
    };
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const databases: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "crbot-bench-s3-"));
  // s3rver signs its list continuation tokens with an OpenSSL 1 cipher (see the README's tests section).
  const s3 = spawnScript("bench/s3rver-process.ts", {
    BENCH_S3_DIR: dir,
    BENCH_S3_BUCKET: BUCKET,
    NODE_OPTIONS: "--openssl-legacy-provider",
  });
  await s3.printed("\n", 60_000);
  const { endpoint } = JSON.parse(s3.stdout().split("\n")[0] ?? "") as { endpoint: string };
  Object.assign(process.env, KEYS, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
  const server = new URL(adminUrl);
  return {
    description: `PostgreSQL at ${server.host} + S3 (s3rver)`,
    // PostgreSQL's server and backends on this machine (other databases' too, none busy during a run).
    services: { PostgreSQL: () => namedCpuMs("postgres"), s3rver: () => processCpuMs(s3.child.pid) },
    async env() {
      const name = `crbot_bench_${randomBytes(4).toString("hex")}`;
      await admin.query(`CREATE DATABASE ${name}`);
      databases.push(name);
      return {
        DATABASE_URL: Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString(),
        STORAGE_URL: `s3://${BUCKET}/${name}`,
        S3_ENDPOINT: endpoint,
        S3_FORCE_PATH_STYLE: "true",
        S3_REGION: "us-east-1",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...KEYS,
      };
    },
    objectStore: async () =>
      new S3ObjectStore({
        bucket: BUCKET,
        prefix: `files-${randomBytes(4).toString("hex")}`,
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
      }),
    async close() {
      for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await s3.stop("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
