// S3 that fails for a moment is retried with backoff; S3 that is gone fails the slot, with nothing half-written.
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { AppContext } from "../../src/features/context.ts";
import { readAll, StorageUnavailableError } from "../../src/files/object-store.ts";
import { recoverFileStore } from "../../src/files/recovery.ts";
import { S3_MAX_ATTEMPTS } from "../../src/files/s3-object-store.ts";
import { newId } from "../../src/kit/ids.ts";
import { captureLogger, engineEnv, generate, makeTempDir, type TempDir } from "../support/env.ts";
import { type LocalS3, startS3 } from "../support/s3.ts";

let s3: LocalS3 | undefined;
let flaky: Server | undefined;
let dir: TempDir | undefined;
let app: AppContext | undefined;
afterEach(async () => {
  await app?.close();
  flaky?.closeAllConnections();
  await new Promise((resolve) => (flaky ? flaky.close(resolve) : resolve(undefined)));
  await s3?.close();
  dir?.remove();
  app = flaky = s3 = dir = undefined;
});

const REQUEST = {
  guildId: "600000000000000001",
  channelId: null,
  userId: "500000000000000001",
  prompt: "a tin soldier",
  count: 2,
  aspectRatio: "1:1",
} as const;

let lines: string[] = [];

/** The app on a new directory, its files on the S3 `env` names; its rows where the project's go (engineEnv). */
async function start(env: Record<string, string>): Promise<AppContext> {
  dir = makeTempDir();
  const log = captureLogger();
  lines = log.lines;
  const { DATABASE_URL } = engineEnv(dir.path);
  app = await createAppContext(
    loadConfig({
      DATA_DIR: dir.path,
      ...(DATABASE_URL ? { DATABASE_URL } : {}),
      IMAGE_PROVIDER: "mock",
      MOCK_LATENCY_MS: "20",
      PREDICTION_POLL_MS: "10",
      ...env,
    }),
    log.logger,
  );
  return app;
}

const SLOW_DOWN = { status: 503, code: "SlowDown", message: "Please reduce your request rate." };
const INTERNAL = { status: 500, code: "InternalError", message: "We encountered an internal error." };

/**
 * A stand-in for an S3 endpoint in trouble: answers the first `failures` uploads (PUT) with `error`, then
 * passes every request through to the real server unchanged (the signature covers the Host header, which is
 * kept).
 */
async function flakyFront(target: string, failures: number, error = SLOW_DOWN) {
  const seen = { puts: 0, refused: 0 };
  const upstream = new URL(target);
  flaky = createServer((req, res) => {
    if (req.method === "PUT" && seen.refused < failures) {
      seen.puts++;
      seen.refused++;
      req.resume();
      res.writeHead(error.status, { "content-type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${error.code}</Code><Message>${error.message}</Message></Error>`,
      );
      return;
    }
    if (req.method === "PUT") seen.puts++;
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => flaky?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`, seen };
}

describe("S3 faults", () => {
  it("retries uploads the storage refuses for a moment (503 SlowDown) and stores every image", async () => {
    s3 = await startS3();
    const front = await flakyFront(s3.endpoint, 3);
    const ctx = await start({ ...s3.env(`t-${newId()}`), S3_ENDPOINT: front.url });
    const view = await generate(ctx, REQUEST);
    expect(view.images.map((i) => i.status)).toEqual(["succeeded", "succeeded"]);
    expect(front.seen.refused).toBe(3);
    // Two images, each stored once, after three refused attempts.
    expect(front.seen.puts).toBe(5);
    for (const image of view.images) {
      const data = await ctx.files.read(image.fileName as string);
      expect(data.length).toBe(image.bytes);
    }
  });

  it("gives up after the SDK's attempts at a failing upload (500): the slot fails and no row says succeeded without its object", async () => {
    s3 = await startS3();
    const front = await flakyFront(s3.endpoint, 1_000, INTERNAL);
    const ctx = await start({ ...s3.env(`t-${newId()}`), S3_ENDPOINT: front.url });
    const view = await generate(ctx, { ...REQUEST, count: 1 });
    expect(view.images.map((i) => [i.status, i.fileName])).toEqual([["failed", null]]);
    expect(front.seen.refused).toBe(S3_MAX_ATTEMPTS);
    expect([...(await ctx.repos.images.liveFileNames())]).toEqual([]);
  });

  it("storage gone while running: new images fail, stored ones cannot be read, nothing is marked succeeded", async () => {
    s3 = await startS3();
    const ctx = await start(s3.env(`t-${newId()}`));
    const before = await generate(ctx, { ...REQUEST, count: 1 });
    const stored = before.images[0];
    expect(stored?.status).toBe("succeeded");
    expect((await readAll(await ctx.files.objects.get(`images/${stored?.fileName}`))).length).toBe(
      stored?.bytes,
    );

    // The first read after a write (the grid's) is served from memory; every later one goes to the store.
    expect((await ctx.files.read(stored?.fileName as string)).length).toBe(stored?.bytes);

    await s3.close();
    const during = await generate(ctx, REQUEST);
    expect(during.images.map((i) => i.status)).toEqual(["failed", "failed"]);
    expect(during.images.map((i) => i.errorCode)).toEqual(["storage_unavailable", "storage_unavailable"]);
    expect([...(await ctx.repos.images.liveFileNames())]).toEqual([stored?.fileName]);
    const error = await ctx.files.read(stored?.fileName as string).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(error).toMatchObject({ variable: "STORAGE_URL" });
  });

  it("a start with the storage gone still starts: deletions stay scheduled for the next start, the sweep is logged", async () => {
    s3 = await startS3();
    const ctx = await start(s3.env(`t-${newId()}`));
    const made = await generate(ctx, { ...REQUEST, count: 1 });
    const fileName = made.images[0]?.fileName as string;
    await ctx.repos.pendingDeletions.schedule([fileName], Date.now());
    await s3.close();

    const report = await recoverFileStore({
      repos: ctx.repos,
      files: ctx.files,
      clock: ctx.clock,
      logger: ctx.logger,
    });
    expect(report).toEqual({ finished: 0, orphans: 0, temp: 0, young: 0 });
    expect(await ctx.repos.pendingDeletions.all()).toEqual([fileName]);
    const log = lines.join("\n");
    expect(log).toContain("could not finish a pending deletion; it is tried again at the next start");
    expect(log).toContain("could not sweep the file store");
  });
});
