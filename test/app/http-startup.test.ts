// npm start's HTTP listeners as a real process: PUBLIC_URL with HTTP_PORT=0 is refused; with PUBLIC_URL a port
// that is taken ends the start with one clear message; the listeners start before the bot logs in (jobs resumed
// at start are woken by webhooks), serve /readyz and /metrics on OPS_PORT only, and close after the drain.
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DiscordSandbox } from "../../src/sandbox/server.ts";
import { BOT_TOKEN } from "../support/bot-harness.ts";
import { makeTempDir, type TempDir } from "../support/env.ts";
import { freePort } from "../support/ports.ts";
import { runScript, type ScriptProcess, spawnScript } from "../support/spawn.ts";

let sandbox: DiscordSandbox | undefined;
let dir: TempDir | undefined;
let bot: ScriptProcess | undefined;
let blocker: Server | undefined;

afterEach(async () => {
  await bot?.stop("SIGKILL");
  await sandbox?.close();
  await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
  dir?.remove();
  sandbox = dir = bot = blocker = undefined;
});

async function botEnv(extra: Record<string, string>) {
  sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
  dir = makeTempDir("crbot-http-start-");
  return {
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_API_URL: sandbox.apiUrl,
    IMAGE_PROVIDER: "mock",
    DATA_DIR: dir.path,
    LOG_LEVEL: "info",
    ...extra,
  };
}

/** Resolves with the exit code, or with "running" if the process is still up at the deadline. */
function exitWithin(proc: ScriptProcess, ms: number): Promise<number | null | "running"> {
  return Promise.race([proc.exited(), new Promise<"running">((r) => setTimeout(() => r("running"), ms))]);
}

describe("npm start's HTTP listeners", () => {
  it("refuses PUBLIC_URL with HTTP_PORT=0, saying what to set, and exits 2", async () => {
    const result = await runScript("src/index.ts", {
      DISCORD_TOKEN: "x.y.z",
      IMAGE_PROVIDER: "mock",
      PUBLIC_URL: "https://bot.example.org",
      HTTP_PORT: "0",
    });
    expect(result.status).toBe(2);
    expect(result.output).toContain("PUBLIC_URL is set but HTTP_PORT=0 turns the HTTP server off");
    expect(result.output).not.toMatch(/\n\s+at /);
  });

  it("with PUBLIC_URL and its port taken, says so and exits 1 instead of running without its server", async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    bot = spawnScript(
      "src/index.ts",
      await botEnv({ PUBLIC_URL: `http://127.0.0.1:${port}`, HTTP_PORT: String(port) }),
    );
    expect(await exitWithin(bot, 20_000)).toBe(1);
    expect(bot.output()).toContain(
      `Cannot start: PUBLIC_URL is set but the HTTP server cannot listen on 127.0.0.1:${port} (the port is taken by another process)`,
    );
    expect(bot.output()).not.toContain("logged in to Discord");
  });

  it("listens before logging in, serves readiness and metrics on OPS_PORT only, and closes after the drain", async () => {
    const [httpPort, opsPort] = [await freePort(), await freePort()];
    bot = spawnScript(
      "src/index.ts",
      await botEnv({ HTTP_PORT: String(httpPort), OPS_PORT: String(opsPort) }),
    );
    await bot.printed("logged in to Discord");
    const output = bot.output();
    const listening = output.indexOf("operations HTTP server listening");
    expect(listening).toBeGreaterThanOrEqual(0);
    expect(listening).toBeLessThan(output.indexOf("logged in to Discord"));

    expect((await fetch(`http://127.0.0.1:${httpPort}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${opsPort}/metrics`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status).toBe(200);

    expect(await bot.stop("SIGTERM")).toBe(0);
    const stopped = bot.output();
    const drained = stopped.indexOf("stopping: no new work");
    const closed = stopped.indexOf("HTTP listeners closed");
    expect(drained).toBeGreaterThanOrEqual(0);
    expect(closed).toBeGreaterThan(drained);
    expect(stopped.indexOf('"stopped"')).toBeGreaterThan(closed);
    await expect(fetch(`http://127.0.0.1:${opsPort}/healthz`)).rejects.toThrow();
  });
});
