// Temp directories, configs and log capture for tests that build the real application on disk.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { inject } from "vitest";
import { type Config, loadConfig } from "../../src/config/load.ts";
import type { AppContext } from "../../src/features/context.ts";
import type { GenerationRequest } from "../../src/features/generation/generation-service.ts";
import type { GenerationView, ProgressListener } from "../../src/features/generation/generation-view.ts";
import { type Clock, systemClock } from "../../src/kit/clock.ts";
import { createLogger, type Logger } from "../../src/kit/logger.ts";
import { ENGINE_BUCKET } from "./engine-names.ts";

export const TEST_REPLICATE_TOKEN = "r8_testtoken_0123456789abcdef";

export interface TempDir {
  path: string;
  remove(): void;
}

export function makeTempDir(prefix = "crbot-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Which set-up this test file runs on: the embedded default, or PostgreSQL + S3 (the "engines" and "fleet" tiers). */
export function sharedEngines(): { databaseUrl: string; s3Endpoint: string } | undefined {
  // inject() exists only inside a vitest worker; scripts the tests start as processes get their env instead.
  if (!process.env.VITEST) return undefined;
  return inject("sharedEngines");
}

export const engineName = () => (sharedEngines() ? "postgres + s3" : "sqlite + files");

const madeSchemas = new Set<string>();
/** The thread that creates schemas (create-schema.mjs), started at the first one this process needs. */
let schemaMaker: Worker | undefined;

/** Creates `schema` in the database at `url` if it is missing, and returns once it exists. */
function createSchema(url: string, schema: string): void {
  if (!schemaMaker) {
    schemaMaker = new Worker(join(import.meta.dirname, "create-schema.mjs"));
    // Idle, it must not keep a test process alive.
    schemaMaker.unref();
  }
  const done = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  schemaMaker.postMessage({ url, schema, done, reply: port2 }, [port2]);
  const waited = Atomics.wait(new Int32Array(done), 0, 0, 30_000);
  const answer = receiveMessageOnPort(port1)?.message as { error?: string } | undefined;
  port1.close();
  if (waited === "timed-out" || !answer || answer.error) {
    throw new Error(`could not create schema ${schema}: ${answer?.error ?? "no answer within 30 s"}`);
  }
}

/**
 * The variables that put a data directory's rows and files on the run's shared engines: its own PostgreSQL
 * schema and its own bucket prefix, both named from the directory, so a restart finds them again. Empty on
 * the embedded default. Child processes get these too (spawnScript's env).
 */
export function engineEnv(dataDir: string): Record<string, string> {
  const shared = sharedEngines();
  if (!shared) return {};
  const key = createHash("sha256").update(dataDir).digest("hex").slice(0, 16);
  const schema = `t_${key}`;
  if (!madeSchemas.has(schema)) {
    createSchema(shared.databaseUrl, schema);
    madeSchemas.add(schema);
  }
  const credentials = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
  // The S3 client reads its credentials from the environment, as it would in production.
  Object.assign(process.env, credentials, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
  return {
    DATABASE_URL: `${shared.databaseUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    STORAGE_URL: `s3://${ENGINE_BUCKET}/${key}`,
    S3_ENDPOINT: shared.s3Endpoint,
    S3_REGION: "us-east-1",
    S3_FORCE_PATH_STYLE: "true",
    ...credentials,
  };
}

export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    ...engineEnv(dataDir),
    DATA_DIR: dataDir,
    HTTP_PORT: "0",
    OPS_PORT: "0",
    IMAGE_PROVIDER: "replicate",
    REPLICATE_API_TOKEN: TEST_REPLICATE_TOKEN,
    PREDICTION_POLL_MS: "25",
    LOG_LEVEL: "debug",
    ...env,
  });
}

/** A real pino logger whose lines are kept for assertions. */
export function captureLogger(secrets: string[] = [TEST_REPLICATE_TOKEN]): {
  logger: Logger;
  lines: string[];
} {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: "debug", secrets, pretty: false, destination }), lines };
}

/** The system clock, moved forward on demand: for ordering that tests must not leave to the millisecond. */
export function steppingClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    ...systemClock,
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
  };
}

/** Resolves once `check` passes; polls every 5 ms and fails after `timeoutMs` naming what it waited for. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Records a generation with no admission checks and runs it to its end, as a test's setup needs: the bot
 * itself always records through admission (see generateAndReply).
 */
export async function generate(
  app: Pick<AppContext, "generation">,
  request: GenerationRequest,
  onProgress?: ProgressListener,
): Promise<GenerationView> {
  const created = await app.generation.create(request);
  if (!created.ok) throw new Error(`refused: ${created.reason}`);
  return app.generation.run(created.generationId, onProgress);
}
