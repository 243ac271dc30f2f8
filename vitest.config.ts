import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Most tests wait on sockets, child processes and timers rather than the CPU: three files at a time take
    // about 55 s on a 2-core machine, where vitest's default (one file at a time) takes twice that.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
