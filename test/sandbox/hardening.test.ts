// The sandbox's local server is safe to leave running: real HTTP and WebSocket requests against a started
// sandbox (the real bot logged in), each bad one refused with its status while the server keeps serving.
import { spawn } from "node:child_process";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type RunningSandbox, startSandboxMode } from "../../src/app/sandbox-mode.ts";
import { DiscordSandbox } from "../../src/sandbox/server.ts";
import { SANDBOX_PEOPLE } from "../../src/sandbox/web.ts";
import { eventually } from "../support/bot-harness.ts";
import { makeTempDir, type TempDir } from "../support/env.ts";

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

interface RawRequest {
  method?: string;
  /** Sent as is, not normalised or encoded. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with chunked transfer encoding, so its size is not known up front. */
  chunked?: boolean;
  /** Declare this Content-Length and send only the headers: the body never comes. */
  declaredLength?: number;
}

/** One HTTP request with full control over Host, Origin and the body; resolves with the server's answer. */
function rawRequest(port: number, r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...r.headers };
    if (r.declaredLength !== undefined) headers["content-length"] = String(r.declaredLength);
    if (r.chunked) headers["transfer-encoding"] = "chunked";
    const req = httpRequest({ host: "127.0.0.1", port, method: r.method ?? "GET", path: r.path, headers });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
        });
        req.destroy();
      });
    });
    // After the answer the server may close a connection we are still writing to; only an error before it counts.
    req.on("error", reject);
    if (r.declaredLength !== undefined) req.flushHeaders();
    else if (r.chunked) {
      req.write(r.body ?? "");
      req.end();
    } else req.end(r.body);
  });
}

type SocketOutcome =
  | { kind: "refused"; status: number }
  | { kind: "closed"; code: number; frames: Array<{ op: number }> };

/**
 * Opens the gateway as `origin`/`host`, sends `frames` once HELLO arrived, and reports how it ended: refused
 * at the handshake with an HTTP status, or closed by the server with a close code.
 */
function gatewayAttempt(
  port: number,
  options: { origin?: string; host?: string; frames?: Array<string | Buffer> },
): Promise<SocketOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/gateway?v=10&encoding=json`, {
      ...(options.origin ? { origin: options.origin } : {}),
      ...(options.host ? { headers: { host: options.host } } : {}),
    });
    const frames: Array<{ op: number }> = [];
    ws.on("unexpected-response", (_req, res) => {
      resolve({ kind: "refused", status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on("message", (raw) => {
      const frame = JSON.parse(String(raw)) as { op: number };
      frames.push(frame);
      if (frame.op === 10) for (const f of options.frames ?? []) ws.send(f);
    });
    ws.on("close", (code) => resolve({ kind: "closed", code, frames }));
    ws.on("error", (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

const ALICE = SANDBOX_PEOPLE[0]?.id as string;

describe("the sandbox's local server, left running", () => {
  let running: RunningSandbox;
  let dir: TempDir;
  let port: number;
  let own: string;

  beforeAll(async () => {
    dir = makeTempDir("crbot-hardening-");
    running = await startSandboxMode({
      env: { MOCK_LATENCY_MS: "50", PREDICTION_POLL_MS: "20" },
      port: 0,
      dataDir: dir.path,
      useReplicate: false,
    });
    port = running.sandbox.port;
    own = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await running?.stop();
    dir?.remove();
  });

  /** The page, the page's state and the bot's gateway connection all still work. */
  const expectServing = async () => {
    const page = await rawRequest(port, { path: "/" });
    expect(page.status).toBe(200);
    expect(page.text).toContain("Character bot sandbox");
    const state = await rawRequest(port, { path: `/ui/state?user=${ALICE}` });
    expect(state.status).toBe(200);
    expect((JSON.parse(state.text) as { commands: unknown[] }).commands.length).toBeGreaterThan(0);
    expect(running.sandbox.connected).toBe(true);
  };

  /** A /ui/command as Alice from the sandbox's own page, but for the headers given (undefined: not sent). */
  const uiCommand = (headers: Record<string, string | undefined> = {}) => {
    const all = { "content-type": "application/json", origin: `http://${own}`, ...headers };
    return rawRequest(port, {
      method: "POST",
      path: "/ui/command",
      headers: Object.fromEntries(
        Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined),
      ),
      body: JSON.stringify({ user: ALICE, command: "usage" }),
    });
  };

  it("serves readiness, metrics and a working link to a reference it made, with no account", async () => {
    const ready = await fetch(`${running.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    const alice = { id: ALICE, username: "alice" };
    const made = running.sandbox.runCommand({
      command: "character",
      options: { description: "a fox", count: 1 },
      user: alice,
    });
    const grid = await running.sandbox.waitFor(
      () => {
        const m = running.sandbox.original(made);
        return m?.attachments.length === 1 && !m.content.includes("…") ? m : undefined;
      },
      15_000,
      "the grid",
    );
    const generationId = /[0-9a-f]{8}-[0-9a-f-]{27}/.exec(JSON.stringify(grid.components))?.[0] ?? "";
    // The grid goes out while its image is being stored; the reference is there once it is delivered.
    await eventually(
      async () => (await running.ctx.generation.view(generationId))?.generation.deliveredAt != null,
      15_000,
      "the generation marked delivered",
    );
    const reference = (await running.ctx.repos.images.forGeneration(generationId))[0]?.id;
    if (!reference) throw new Error("no reference");
    const shown = running.sandbox.runCommand({
      command: "reference show",
      options: { id: reference },
      user: alice,
    });
    const reply = await running.sandbox.waitFor(
      () => {
        const m = running.sandbox.original(shown);
        return m && m.components.length > 0 ? m : undefined;
      },
      10_000,
      "/reference show",
    );
    const url = /"url":"([^"]+)"/.exec(JSON.stringify(reply.components))?.[1];
    expect(url?.startsWith(`${running.httpUrl}/files/${reference}?`)).toBe(true);
    const original = await fetch(url as string);
    expect(original.status).toBe(200);
    expect(original.headers.get("content-type")).toMatch(/^image\//);
    const metrics = await (await fetch(`${running.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/crbot_interactions_total\{[^}]*command="character"[^}]*\} [1-9]/);
  });

  it("answers 400 to paths that do not decode, and keeps serving after each", async () => {
    for (const path of ["/%ZZ", "/api/v10/users/%E0%A4%A", "/attachments/%ZZ/1/x.png", "/ui/%"]) {
      const res = await rawRequest(port, { path });
      expect(res.status, path).toBe(400);
      expect(res.text).toContain("malformed path");
      await expectServing();
    }
  });

  it("answers only to its own Host (127.0.0.1 or localhost with its port), so a rebound DNS name gets nothing", async () => {
    expect((await rawRequest(port, { path: "/", headers: { host: `localhost:${port}` } })).status).toBe(200);
    for (const host of [
      `evil.example:${port}`,
      "127.0.0.1",
      `127.0.0.1:${port + 1}`,
      `localhost.evil:${port}`,
    ]) {
      for (const path of ["/", `/ui/state?user=${ALICE}`, "/api/v10/gateway/bot"]) {
        const res = await rawRequest(port, { path, headers: { host } });
        expect(res.status, `${host} ${path}`).toBe(403);
        expect(res.text).not.toContain("Character bot sandbox");
      }
      await expectServing();
    }
  });

  it("acts as a member on /ui/* only for application/json from its own Origin and Host", async () => {
    const before = running.sandbox.interactions.size;
    const refusals: Array<[Record<string, string | undefined>, number]> = [
      [{ origin: undefined }, 403],
      [{ origin: "http://evil.example" }, 403],
      [{ origin: "null" }, 403],
      [{ origin: `http://${own}.evil.example` }, 403],
      [{ origin: `https://${own}` }, 403],
      [{ host: `evil.example:${port}`, origin: `http://evil.example:${port}` }, 403],
      [{ "content-type": undefined }, 415],
      [{ "content-type": "text/plain" }, 415],
      [{ "content-type": "application/x-www-form-urlencoded" }, 415],
      [{ "content-type": "multipart/form-data; boundary=x" }, 415],
    ];
    for (const [headers, status] of refusals) {
      const res = await uiCommand(headers);
      expect(res.status, JSON.stringify(headers)).toBe(status);
      await expectServing();
    }
    // None of them reached the bot.
    expect(running.sandbox.interactions.size).toBe(before);
    // A page elsewhere cannot read the state or the live events either.
    for (const path of [`/ui/state?user=${ALICE}`, `/ui/events?user=${ALICE}`]) {
      const res = await rawRequest(port, { path, headers: { origin: "http://evil.example" } });
      expect(res.status, path).toBe(403);
    }

    // The sandbox's own page, by either of its names, is answered and the bot replies.
    for (const name of [own, `localhost:${port}`]) {
      const res = await uiCommand({
        host: name,
        origin: `http://${name}`,
        "content-type": "application/json; charset=utf-8",
      });
      expect(res.status, name).toBe(202);
    }
    await running.sandbox.waitFor(
      () => [...running.sandbox.interactions.values()].filter((i) => i.callback).length === before + 2,
      15_000,
      "the bot to answer both commands",
    );
  });

  it("refuses a gateway handshake from another origin or host; the bot (no Origin) stays connected", async () => {
    for (const origin of ["http://evil.example", "null", `http://${own}.evil.example`]) {
      expect(await gatewayAttempt(port, { origin })).toEqual({ kind: "refused", status: 403 });
      await expectServing();
    }
    expect(await gatewayAttempt(port, { host: `evil.example:${port}` })).toEqual({
      kind: "refused",
      status: 403,
    });
    // Without an Origin, as discord.js connects: HELLO, and a wrong token is refused by close code 4004.
    const wrongToken = await gatewayAttempt(port, {
      frames: [JSON.stringify({ op: 2, d: { token: "sandbox-mode-bot-token", intents: 1, properties: {} } })],
    });
    expect(wrongToken).toMatchObject({ kind: "closed", code: 4004 });
    expect((wrongToken as { frames: Array<{ op: number }> }).frames[0]?.op).toBe(10);
    await expectServing();
  });

  it("closes a gateway connection that sends a malformed or oversized frame, and keeps serving", async () => {
    const cases: Array<[string | Buffer, number]> = [
      ["null", 4002],
      ["[1,2]", 4002],
      ["42", 4002],
      ["{not json", 4002],
      [JSON.stringify({ op: 1, d: "x".repeat(200 * 1024) }), 1009],
    ];
    for (const [frame, code] of cases) {
      const outcome = await gatewayAttempt(port, { frames: [frame] });
      expect(outcome, String(frame).slice(0, 20)).toMatchObject({ kind: "closed", code });
      await expectServing();
    }
  });

  it("uses a random bot token for each run, accepted on REST, and not the old fixed one", async () => {
    const token = running.sandbox.token;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The bot logged in with it: the token it was configured with is this run's.
    expect(running.config.discord.token).toBe(token);
    const me = (auth: string) =>
      rawRequest(port, { path: "/api/v10/users/@me", headers: { authorization: `Bot ${auth}` } });
    expect((await me(token)).status).toBe(200);
    expect((await me("sandbox-mode-bot-token")).status).toBe(401);
    const other = await DiscordSandbox.start({});
    try {
      expect(other.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(other.token).not.toBe(token);
    } finally {
      await other.close();
    }
  });

  it("checks the token before reading a body: a wrong one is refused while the body is still unsent", async () => {
    const channel = running.sandbox.channel.id;
    for (const authorization of [undefined, "Bot wrong-token", `Bearer ${running.sandbox.token}`]) {
      const res = await rawRequest(port, {
        method: "POST",
        path: `/api/v10/channels/${channel}/messages`,
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        declaredLength: 1000,
      });
      expect(res.status, String(authorization)).toBe(401);
      await expectServing();
    }
    // Interaction routes need no token, but a wrong one is still refused before the body.
    const callback = await rawRequest(port, {
      method: "POST",
      path: "/api/v10/interactions/1/token/callback",
      headers: { "content-type": "application/json", authorization: "Bot wrong-token" },
      declaredLength: 1000,
    });
    expect(callback.status).toBe(401);
    await expectServing();
  });

  it("answers 413 to a REST body over the cap, from its Content-Length before reading it", async () => {
    const res = await rawRequest(port, {
      method: "POST",
      path: `/api/v10/channels/${running.sandbox.channel.id}/messages`,
      headers: { "content-type": "application/json", authorization: `Bot ${running.sandbox.token}` },
      declaredLength: 33 * 1024 * 1024,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toEqual({ message: "Request entity too large", code: 40005 });
    await expectServing();
  });

  it("answers 413 to a /ui body over 64 KiB, declared or streamed, and acts on nothing", async () => {
    const before = running.sandbox.interactions.size;
    const big = JSON.stringify({ user: ALICE, command: "usage", padding: "x".repeat(70 * 1024) });
    const headers = { "content-type": "application/json", origin: `http://${own}` };
    const declared = await rawRequest(port, { method: "POST", path: "/ui/command", headers, body: big });
    expect(declared.status).toBe(413);
    await expectServing();
    const streamed = await rawRequest(port, {
      method: "POST",
      path: "/ui/command",
      headers,
      body: big,
      chunked: true,
    });
    expect(streamed.status).toBe(413);
    await expectServing();
    expect(running.sandbox.interactions.size).toBe(before);
  });
});

describe("a streamed REST body over the cap", () => {
  it("is answered 413 once the cap is passed, and the server keeps serving", async () => {
    const sandbox = await DiscordSandbox.start({ maxBodyBytes: 1024 });
    try {
      const headers = { "content-type": "application/json", authorization: `Bot ${sandbox.token}` };
      const path = `/api/v10/channels/${sandbox.channel.id}/messages`;
      const over = await rawRequest(sandbox.port, {
        method: "POST",
        path,
        headers,
        body: JSON.stringify({ content: "x".repeat(4096) }),
        chunked: true,
      });
      expect(over.status).toBe(413);
      const under = await rawRequest(sandbox.port, {
        method: "POST",
        path,
        headers,
        body: JSON.stringify({ content: "hello" }),
        chunked: true,
      });
      expect(under.status).toBe(200);
      expect(sandbox.channelMessages().map((m) => m.content)).toEqual(["hello"]);
    } finally {
      await sandbox.close();
    }
  });
});

describe("npm run sandbox, sent bad requests", () => {
  it("answers them and keeps running until Ctrl-C", async () => {
    const dir = makeTempDir();
    const child = spawn(process.execPath, ["--import", "tsx", "src/sandbox-main.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        SANDBOX_PORT: "0",
        SANDBOX_DATA_DIR: dir.path,
        MOCK_LATENCY_MS: "100",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      child.stderr?.on("data", (c) => {
        out += String(c);
      });
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout?.on("data", (c) => {
          out += String(c);
          const found = /Sandbox running at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
          if (found) resolve(found);
        });
        child.once("exit", () => reject(new Error(`exited early: ${out}`)));
      });
      const childPort = Number(new URL(url).port);
      expect((await rawRequest(childPort, { path: "/%ZZ" })).status).toBe(400);
      expect(await gatewayAttempt(childPort, { frames: ["null"] })).toMatchObject({
        kind: "closed",
        code: 4002,
      });
      expect(await gatewayAttempt(childPort, { origin: "http://evil.example" })).toEqual({
        kind: "refused",
        status: 403,
      });
      const page = await rawRequest(childPort, { path: "/" });
      expect(page.status).toBe(200);
      expect(child.exitCode).toBeNull();
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).not.toContain("request failed");
    } finally {
      child.kill("SIGKILL");
      dir.remove();
    }
  });
});
