import { existsSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiscordSandbox } from "../../src/sandbox/server.ts";
import { makeTempDir, waitUntil } from "../support/env.ts";
import { runScript, spawnScript } from "../support/spawn.ts";

const COMMANDS = ["character", "reference", "video", "usage", "moderation", "settings", "library", "privacy"];

describe("npm start", () => {
  it("without DISCORD_TOKEN prints one clear message naming it and exits 2, with no stack trace", async () => {
    const dir = makeTempDir();
    try {
      const result = await runScript("src/index.ts", { IMAGE_PROVIDER: "mock", DATA_DIR: dir.path });
      expect(result.status).toBe(2);
      expect(result.output).toContain("DISCORD_TOKEN is not set");
      expect(result.output).toContain("README");
      expect(result.output).toContain("npm run sandbox");
      expect(result.output).not.toMatch(/\n\s+at /);
    } finally {
      dir.remove();
    }
  });

  it("with SHARD_IDS but no SHARD_COUNT says how to fix it and exits 2", async () => {
    const result = await runScript("src/index.ts", {
      DISCORD_TOKEN: "x.y.z",
      IMAGE_PROVIDER: "mock",
      SHARD_IDS: "1",
    });
    expect(result.status).toBe(2);
    expect(result.output).toContain("SHARD_IDS is set but SHARD_COUNT is not: set SHARD_COUNT to the total");
    expect(result.output).not.toMatch(/\n\s+at /);
  });

  it("without REPLICATE_API_TOKEN for the Replicate provider says so and exits 2", async () => {
    const result = await runScript("src/index.ts", { DISCORD_TOKEN: "x.y.z", IMAGE_PROVIDER: "replicate" });
    expect(result.status).toBe(2);
    expect(result.output).toContain("REPLICATE_API_TOKEN is required when IMAGE_PROVIDER=replicate");
    expect(result.output).not.toMatch(/\n\s+at /);
  });
});

describe("npm start in fleet mode", () => {
  it("refuses ROLE=gateway and ROLE=worker without REDIS_URL and DATABASE_URL, saying why, and exits 2", async () => {
    for (const role of ["gateway", "worker"]) {
      const result = await runScript("src/index.ts", {
        DISCORD_TOKEN: "x.y.z",
        IMAGE_PROVIDER: "mock",
        ROLE: role,
      });
      expect(result.status).toBe(2);
      expect(result.output).toContain(`ROLE=${role} needs REDIS_URL`);
      expect(result.output).toContain(`ROLE=${role} needs DATABASE_URL`);
      expect(result.output).not.toMatch(/\n\s+at /);
    }
  });

  it("with a Redis that does not answer prints one message naming REDIS_URL, without its password, and exits 2", async () => {
    const dir = makeTempDir();
    try {
      const result = await runScript("src/index.ts", {
        DISCORD_TOKEN: "x.y.z",
        IMAGE_PROVIDER: "mock",
        DATA_DIR: dir.path,
        // A port nothing listens on; the database is not reached first.
        REDIS_URL: "redis://:hunter2-secret@127.0.0.1:1",
        DATABASE_URL: "postgres://bot@127.0.0.1:1/crbot",
      });
      expect(result.status).toBe(2);
      expect(result.output.split("\n")[0]).toMatch(/^Cannot start: REDIS_URL cannot be reached/);
      expect(result.output).not.toContain("hunter2-secret");
      expect(result.output).not.toMatch(/\n\s+at /);
    } finally {
      dir.remove();
    }
  });
});

// npm run sandbox runs the sources through tsx, so these do too.
describe("npm run sandbox", () => {
  it("with SANDBOX_SHARDS that is not 1 to 16 says so and exits 2", async () => {
    const result = await runScript("src/sandbox-main.ts", { SANDBOX_PORT: "0", SANDBOX_SHARDS: "0" }, [], {
      tsx: true,
    });
    expect(result.status).toBe(2);
    expect(result.output).toContain(
      'SANDBOX_SHARDS must be a number of gateway shards from 1 to 16, not "0".',
    );
  });

  it("prints one line with its 127.0.0.1 address, serves the page there, and stops cleanly on Ctrl-C", async () => {
    const dir = makeTempDir();
    const sandbox = spawnScript(
      "src/sandbox-main.ts",
      { SANDBOX_PORT: "0", SANDBOX_DATA_DIR: dir.path, MOCK_LATENCY_MS: "100" },
      { tsx: true },
    );
    try {
      await waitUntil(() => sandbox.stdout().includes("\n"), "the sandbox's line");
      const line = sandbox.stdout();
      expect(line.trim().split("\n")).toHaveLength(1);
      const url = /Sandbox running at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      expect(url).toBeDefined();
      const page = await fetch(`${url}/`);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(await page.text()).toContain("Character bot sandbox");
      const state = (await (await fetch(`${url}/ui/state`)).json()) as { commands: Array<{ name: string }> };
      expect(state.commands.map((c) => c.name)).toEqual(COMMANDS);
      expect(await sandbox.stop("SIGINT")).toBe(0);
    } finally {
      await sandbox.stop();
      dir.remove();
    }
  });

  it("with an unreachable DATABASE_URL prints one message naming it and exits 2, with no stack trace", async () => {
    const dir = makeTempDir();
    try {
      const result = await runScript(
        "src/sandbox-main.ts",
        {
          SANDBOX_PORT: "0",
          SANDBOX_DATA_DIR: dir.path,
          DATABASE_URL: "postgres://bot:db-secret-hunter2@127.0.0.1:1/crbot",
        },
        [],
        { tsx: true },
      );
      expect(result.status).toBe(2);
      expect(result.output.split("\n")[0]).toMatch(
        /^Cannot start: DATABASE_URL the database is unreachable: ECONNREFUSED/,
      );
      expect(result.output).not.toContain("Sandbox running at");
      expect(result.output).not.toMatch(/\n\s+at /);
      expect(result.output).not.toContain("db-secret-hunter2");
    } finally {
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
      const global = await runScript("src/deploy-commands.ts", env);
      expect(global.status).toBe(0);
      expect(global.output).toContain("globally");
      expect(global.output).toContain(
        "/character, /reference, /video, /usage, /moderation, /settings, /library",
      );
      expect(sandbox.globalCommands.map((c) => c.name)).toEqual(COMMANDS);
      const guild = await runScript("src/deploy-commands.ts", { ...env, DISCORD_GUILD_ID: sandbox.guild.id });
      expect(guild.output).toContain(`in guild ${sandbox.guild.id}`);
      expect(sandbox.guildCommands.get(sandbox.guild.id)?.map((c) => c.name)).toEqual(COMMANDS);
      expect(sandbox.violations).toEqual([]);
    } finally {
      await sandbox.close();
    }
  });
});

describe("npm start's compiled JavaScript", () => {
  const DIST_STAMP = join(import.meta.dirname, "..", "..", "dist", ".built");

  it("builds dist/ when it is older than src/, then runs it with no TypeScript loader, migrations and all", async () => {
    const dir = makeTempDir();
    const sandbox = await DiscordSandbox.start({ token: "dist-token-123456" });
    try {
      // As after a pull: the sources are newer than the last build (or there is none).
      if (existsSync(DIST_STAMP)) utimesSync(DIST_STAMP, new Date(0), new Date(0));
      const migrate = await runScript("scripts/start.mjs", { DATA_DIR: dir.path }, ["migrate"], {
        tsx: false,
      });
      expect(migrate.output).toContain("Building dist/");
      expect(migrate.status).toBe(0);
      expect(migrate.output).toMatch(/is now at schema version \d+ of \d+; applied 0001_initial/);
      expect(existsSync(join(import.meta.dirname, "..", "..", "dist", "index.js"))).toBe(true);

      // Up to date now: no second build, and the bot itself runs from dist/ on plain Node.
      const bot = spawnScript(
        "scripts/start.mjs",
        {
          DISCORD_TOKEN: "dist-token-123456",
          DISCORD_API_URL: sandbox.apiUrl,
          IMAGE_PROVIDER: "mock",
          DATA_DIR: dir.path,
        },
        { tsx: false },
      );
      try {
        await waitUntil(() => sandbox.connected, "the compiled bot on the gateway", 30_000);
        expect(bot.output()).not.toContain("Building dist/");
      } finally {
        await bot.stop("SIGTERM");
      }
    } finally {
      await sandbox.close();
      dir.remove();
    }
  }, 120_000);
});
