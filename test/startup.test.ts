import { execFile, spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DiscordSandbox } from "../src/sandbox/server.ts";
import { makeTempDir } from "./support/env.ts";

const run = (script: string, env: Record<string, string>) =>
  spawnSync(process.execPath, ["--import", "tsx", script], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });

const COMMANDS = ["character", "reference", "video", "usage", "moderation", "settings"];

describe("npm start", () => {
  it("without DISCORD_TOKEN prints one clear message naming it and exits 2, with no stack trace", () => {
    const dir = makeTempDir();
    try {
      const result = run("src/index.ts", { IMAGE_PROVIDER: "mock", DATA_DIR: dir.path });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain("DISCORD_TOKEN is not set");
      expect(result.stderr).toContain("README");
      expect(result.stderr).toContain("npm run sandbox");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      dir.remove();
    }
  });

  it("without REPLICATE_API_TOKEN for the Replicate provider says so and exits 2", () => {
    const result = run("src/index.ts", { DISCORD_TOKEN: "x.y.z", IMAGE_PROVIDER: "replicate" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("REPLICATE_API_TOKEN is required when IMAGE_PROVIDER=replicate");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

/** Like `run`, without blocking this process: the sandbox answering the script lives here. */
const runAsync = (script: string, env: Record<string, string>) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", script],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe("npm run sandbox", () => {
  it("prints one line with its 127.0.0.1 address, serves the page there, and stops cleanly on Ctrl-C", async () => {
    const dir = makeTempDir();
    const child = spawn(process.execPath, ["--import", "tsx", "src/sandbox/main.ts"], {
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
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout?.on("data", (c) => {
          out += String(c);
          if (out.includes("\n")) resolve(out);
        });
        child.once("exit", () => reject(new Error(`exited early: ${out}`)));
      });
      expect(line.trim().split("\n")).toHaveLength(1);
      const url = /Sandbox running at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      expect(url).toBeDefined();
      const page = await fetch(`${url}/`);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(await page.text()).toContain("Character bot sandbox");
      const state = (await (await fetch(`${url}/ui/state`)).json()) as { commands: Array<{ name: string }> };
      expect(state.commands.map((c) => c.name)).toEqual(COMMANDS);
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      dir.remove();
    }
  });
});

describe("npm run deploy-commands", () => {
  it("registers globally without DISCORD_GUILD_ID, in the guild with it, and prints what it did", async () => {
    const sandbox = await DiscordSandbox.start({ token: "deploy-token-123456" });
    try {
      const env = {
        DISCORD_TOKEN: "deploy-token-123456",
        DISCORD_API_URL: sandbox.apiUrl,
        IMAGE_PROVIDER: "mock",
      };
      const global = await runAsync("src/deploy-commands.ts", env);
      expect(global.status).toBe(0);
      expect(global.stdout).toContain("globally");
      expect(global.stdout).toContain("/character, /reference, /video, /usage, /moderation, /settings");
      expect(sandbox.globalCommands.map((c) => c.name)).toEqual(COMMANDS);
      const guild = await runAsync("src/deploy-commands.ts", { ...env, DISCORD_GUILD_ID: sandbox.guild.id });
      expect(guild.stdout).toContain(`in guild ${sandbox.guild.id}`);
      expect(sandbox.guildCommands.get(sandbox.guild.id)?.map((c) => c.name)).toEqual(COMMANDS);
      expect(sandbox.violations).toEqual([]);
    } finally {
      await sandbox.close();
    }
  });
});
