// DEFAULT_BLOCKLIST: a comma-separated list, or a file with one entry a line; an unreadable file is a
// configuration problem named at start.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { makeTempDir } from "../support/env.ts";

const base = { IMAGE_PROVIDER: "mock" };

describe("DEFAULT_BLOCKLIST", () => {
  it("is empty by default, and reads a comma-separated list trimmed, lower-cased and without repeats", () => {
    expect(loadConfig(base).defaultBlocklist).toEqual([]);
    const config = loadConfig({ ...base, DEFAULT_BLOCKLIST: " Gore, nud*, ,gore " });
    expect(config.defaultBlocklist).toEqual(["gore", "nud*"]);
  });

  it("reads a file with one entry a line, skipping comments and blank lines", () => {
    const dir = makeTempDir();
    try {
      const file = join(dir.path, "blocklist.txt");
      writeFileSync(file, "# the bot-wide list\ngore\r\n\nwyvern\n");
      expect(loadConfig({ ...base, DEFAULT_BLOCKLIST: file }).defaultBlocklist).toEqual(["gore", "wyvern"]);
    } finally {
      dir.remove();
    }
  });

  it("names a file it cannot read", () => {
    expect(() => loadConfig({ ...base, DEFAULT_BLOCKLIST: "/nonexistent/blocklist.txt" })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ ...base, DEFAULT_BLOCKLIST: "/nonexistent/blocklist.txt" })).toThrow(
      /DEFAULT_BLOCKLIST cannot read \/nonexistent\/blocklist.txt \(ENOENT\)/,
    );
  });
});
