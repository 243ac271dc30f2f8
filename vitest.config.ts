import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Most tests wait on sockets, child processes and timers rather than the CPU: two files at a time halve
    // the run on a 2-core machine (vitest's default would run one there).
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
