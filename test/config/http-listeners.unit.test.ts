// The HTTP listeners' settings: the public one (HTTP_PORT) and the operations one (OPS_PORT), and the rules
// across them: PUBLIC_URL needs a public listener in a process that serves requests, and the two need ports
// of their own.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.ts";

const base = { IMAGE_PROVIDER: "mock" };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("HTTP listener settings", () => {
  it("default to a public listener on 127.0.0.1:8080 and an operations one on 127.0.0.1:9464", () => {
    const { http } = loadConfig(base);
    expect(http.port).toBe(8080);
    expect(http.host).toBe("127.0.0.1");
    expect(http.maxConnections).toBe(512);
    expect(http.ops).toEqual({ port: 9464, host: "127.0.0.1" });
  });

  it("take OPS_PORT, OPS_HOST and HTTP_MAX_CONNECTIONS, and OPS_PORT=0 turns the operations listener off", () => {
    const { http } = loadConfig({ ...base, OPS_PORT: "0", OPS_HOST: "0.0.0.0", HTTP_MAX_CONNECTIONS: "64" });
    expect(http.ops).toEqual({ port: 0, host: "0.0.0.0" });
    expect(http.maxConnections).toBe(64);
    expect(problemsOf({ HTTP_MAX_CONNECTIONS: "0" })).toEqual([
      expect.stringContaining("HTTP_MAX_CONNECTIONS"),
    ]);
  });

  it("refuse PUBLIC_URL with HTTP_PORT=0, saying why and what to set", () => {
    for (const role of [{}, { ROLE: "all" }] as Record<string, string>[]) {
      const problems = problemsOf({ ...role, PUBLIC_URL: "https://bot.example.org", HTTP_PORT: "0" });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain("PUBLIC_URL is set but HTTP_PORT=0 turns the HTTP server off");
      expect(problems[0]).toContain("set HTTP_PORT");
    }
    expect(problemsOf({ PUBLIC_URL: "https://bot.example.org", HTTP_PORT: "8080" })).toEqual([]);
    expect(problemsOf({ PUBLIC_URL: "https://bot.example.org" })).toEqual([]);
  });

  it("let a fleet worker name the fleet's PUBLIC_URL without serving it", () => {
    const worker = {
      ROLE: "worker",
      REDIS_URL: "redis://127.0.0.1:6379",
      DATABASE_URL: "postgres://bot@db.example.org/bot",
    };
    expect(problemsOf({ ...worker, PUBLIC_URL: "https://bot.example.org", HTTP_PORT: "0" })).toEqual([]);
    const gateway = { ...worker, ROLE: "gateway", PUBLIC_URL: "https://bot.example.org", HTTP_PORT: "0" };
    expect(problemsOf(gateway)).toEqual([expect.stringContaining("PUBLIC_URL is set but HTTP_PORT=0")]);
  });

  it("refuse one port for both listeners", () => {
    expect(problemsOf({ HTTP_PORT: "9000", OPS_PORT: "9000" })).toEqual([
      expect.stringContaining("OPS_PORT and HTTP_PORT are both 9000"),
    ]);
    expect(problemsOf({ HTTP_PORT: "9464" })).toEqual([expect.stringContaining("OPS_PORT and HTTP_PORT")]);
    expect(problemsOf({ HTTP_PORT: "0", OPS_PORT: "0" })).toEqual([]);
  });
});
