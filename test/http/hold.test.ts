// The operations server under slow and many clients, over real sockets on 127.0.0.1: a client that sends its
// headers and a little of a body, then a byte now and then, is cut off once the request timeout passes; one
// connection over the cap is closed as it opens; /readyz and /metrics are served on the operations listener
// (OPS_PORT) and not on the public one (HTTP_PORT); and /readyz names no host, bucket or URL, only what failed.
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../src/app/compose.ts";
import { type OperationsServer, startOperationsServer } from "../../src/app/operations-server.ts";
import type { AppContext } from "../../src/features/context.ts";
import { FAILED_SEE_LOG } from "../../src/http/routes/health.ts";
import { PUBLIC_ROUTES, type RunningHttpServer, startHttpServer } from "../../src/http/server.ts";
import { eventually } from "../support/bot-harness.ts";
import { captureLogger, makeTempDir, type TempDir, testConfig, waitUntil } from "../support/env.ts";
import { freePort } from "../support/ports.ts";
import { type LocalS3, S3_BUCKET, startS3 } from "../support/s3.ts";

let app: AppContext | undefined;
let server: RunningHttpServer | OperationsServer | undefined;
let dir: TempDir | undefined;
let s3: LocalS3 | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  await app?.close();
  await s3?.close();
  dir?.remove();
  app = server = dir = s3 = undefined;
});

async function context(env: Record<string, string> = {}) {
  dir = makeTempDir("crbot-hold-");
  const log = captureLogger();
  app = await createAppContext(testConfig(dir.path, env), log.logger);
  return { ctx: app, lines: log.lines };
}

/** A socket to 127.0.0.1:port that records what it received and whether it closed. */
async function open(port: number) {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  const seen = { data: "", closed: false };
  socket.on("data", (chunk) => {
    seen.data += String(chunk);
  });
  socket.on("error", () => undefined);
  socket.on("close", () => {
    seen.closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("close", () => reject(new Error("closed before it connected")));
  });
  return { socket, seen };
}

const portOf = (url: string) => Number(new URL(url).port);

describe("slow clients", () => {
  it("cuts off a client that sends its headers and part of a body, then a byte now and then", async () => {
    const { ctx } = await context();
    server = await startHttpServer(
      { ctx },
      {
        port: 0,
        host: "127.0.0.1",
        routes: PUBLIC_ROUTES,
        // Short, so the test is quick; the socket is never idle long enough for the idle timeout.
        limits: { requestTimeoutMs: 1000, headersTimeoutMs: 1000, checkIntervalMs: 200 },
      },
    );
    const { socket, seen } = await open(portOf(server.url));
    socket.write(
      "POST /webhooks/replicate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        'Content-Length: 100000\r\n\r\n{"id":"',
    );
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write("a");
    }, 100);
    try {
      await waitUntil(() => seen.closed, "the slow client to be cut off", 20_000);
    } finally {
      clearInterval(drip);
    }
    expect(seen.closed).toBe(true);
  });
});

describe("many clients", () => {
  it("closes a connection over the cap as it opens, and takes new ones once one has gone", async () => {
    const { ctx } = await context();
    server = await startHttpServer(
      { ctx },
      {
        port: 0,
        host: "127.0.0.1",
        routes: PUBLIC_ROUTES,
        limits: { maxConnections: 3, keepAliveTimeoutMs: 60_000 },
      },
    );
    const { url } = server;
    const port = portOf(url);
    const held = [];
    // Three connections, each answered once and kept open (keep-alive): the cap is reached.
    for (let i = 0; i < 3; i++) {
      const client = await open(port);
      client.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await waitUntil(() => client.seen.data.includes("HTTP/1.1 200"), "an answer");
      held.push(client);
    }
    const over = connect(port, "127.0.0.1");
    sockets.push(over);
    let answered = "";
    let closed = false;
    over.on("data", (chunk) => {
      answered += String(chunk);
    });
    over.on("error", () => undefined);
    over.on("close", () => {
      closed = true;
    });
    over.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await waitUntil(() => closed, "the connection over the cap to be closed");
    expect(answered).toBe("");
    expect(held.every((client) => !client.seen.closed)).toBe(true);

    held[0]?.socket.destroy();
    const status = await eventually(
      async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status,
      10_000,
      "a new connection to be taken",
    );
    expect(status).toBe(200);
  });
});

describe("the two listeners", () => {
  it("serves /readyz and /metrics on OPS_PORT only; the public one has webhooks, links and /healthz", async () => {
    const [httpPort, opsPort] = [await freePort(), await freePort()];
    const { ctx } = await context({ HTTP_PORT: String(httpPort), OPS_PORT: String(opsPort) });
    const running = await startOperationsServer(ctx);
    server = running;
    // Until the role has started, readiness fails (its listeners answer already).
    const starting = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
    expect(starting.status).toBe(503);
    expect(((await starting.json()) as { failed: string[] }).failed).toEqual(["process"]);
    running.started();
    expect(running.publicUrl).toBe(`http://127.0.0.1:${httpPort}`);
    expect(running.opsUrl).toBe(`http://127.0.0.1:${opsPort}`);
    const publicUrl = `http://127.0.0.1:${httpPort}`;
    const opsUrl = `http://127.0.0.1:${opsPort}`;
    expect((await fetch(`${publicUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${publicUrl}/readyz`)).status).toBe(404);
    expect((await fetch(`${publicUrl}/healthz`)).status).toBe(200);
    // The webhook route is there (an unsigned delivery is refused by it, not unknown).
    const hook = await fetch(`${publicUrl}/webhooks/replicate`, { method: "POST", body: "{}" });
    expect(hook.status).not.toBe(404);
    expect((await fetch(`${opsUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${opsUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${opsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${opsUrl}/webhooks/replicate`, { method: "POST", body: "{}" })).status).toBe(404);

    // Once the process begins to stop, readiness fails while both listeners still answer.
    running.beginStop();
    const stopping = await fetch(`${opsUrl}/readyz`);
    expect(stopping.status).toBe(503);
    expect(((await stopping.json()) as { failed: string[] }).failed).toEqual(["process"]);
  });

  it("names what failed in /readyz, never the host, port or bucket: those go to the log", async () => {
    s3 = await startS3();
    const opsPort = await freePort();
    const { ctx, lines } = await context({ ...s3.env(), OPS_PORT: String(opsPort) });
    const running = await startOperationsServer(ctx);
    running.started();
    server = running;
    const opsUrl = `http://127.0.0.1:${opsPort}`;
    expect((await fetch(`${opsUrl}/readyz`)).status).toBe(200);
    await s3.close();
    const response = await fetch(`${opsUrl}/readyz`);
    const text = await response.text();
    expect(response.status).toBe(503);
    const body = JSON.parse(text) as { failed: string[]; checks: Record<string, { error?: string }> };
    expect(body.failed).toEqual(["storage"]);
    expect(body.checks.storage?.error).toBe(FAILED_SEE_LOG);
    const endpoint = new URL(s3.endpoint);
    for (const internal of [endpoint.host, endpoint.port, S3_BUCKET, "127.0.0.1"]) {
      expect(text).not.toContain(internal);
    }
    expect(
      lines.some((line) => line.includes("readiness check failed") && line.includes('"check":"storage"')),
    ).toBe(true);
  });
});
