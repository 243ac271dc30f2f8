import { defineConfig } from "vitest/config";
import { probePostgres, TEST_ADMIN_URL } from "./test/support/engines.ts";
import { probeRedis, TEST_REDIS_URL } from "./test/support/redis.ts";

/**
 * The test tiers, each a vitest project (`vitest run --project <name>`), chosen by the test file's own name so
 * that a new test lands in its tier without touching this file:
 *
 * - `unit`      `*.unit.test.ts`: pure code (views against Discord's limits, custom ids, prompt policy, latency,
 *               config, pacing). No database, no files, no sockets.
 * - `sqlite`    every other `*.test.ts`: the real parts on the embedded default (a temp-dir SQLite, files, the
 *               local Discord server and fake Replicate), `*.engines.test.ts` included.
 * - `engines`   `*.engines.test.ts` a second time on PostgreSQL + S3 (s3rver), and `*.postgres.test.ts`, which
 *               only make sense there (two processes racing on one database).
 * - `fleet`     `*.fleet.test.ts`: gateway and worker processes on Redis (BullMQ), PostgreSQL and s3rver.
 * - `browser`   `*.browser.test.ts`: the sandbox page in Debian's chromium (skipped without it).
 *
 * `npm test` runs them all; `npm run test:quick` runs unit and sqlite.
 */
const UNIT = "test/**/*.unit.test.ts";
const ENGINES = "test/**/*.engines.test.ts";
const POSTGRES_ONLY = "test/**/*.postgres.test.ts";
const FLEET = "test/**/*.fleet.test.ts";
const BROWSER = "test/**/*.browser.test.ts";

/** Whether a service the selected tiers need answers; in CI an unreachable one fails the run, never skips. */
async function reachable(
  name: string,
  url: string,
  probe: () => Promise<void>,
  hint: string,
): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (err) {
    const why = `${name} is unreachable at ${url} (${(err as Error).message})`;
    if (process.env.CI) throw new Error(`${why}; CI runs every tier on the real services`);
    console.warn(`${why}: ${hint}`);
    return false;
  }
}

/** The `--project` names on the command line, if any: services are probed only for the tiers that run. */
function selectedProjects(): Set<string> | undefined {
  const names = new Set<string>();
  process.argv.forEach((arg, i) => {
    if (arg === "--project") names.add(process.argv[i + 1] ?? "");
    else if (arg.startsWith("--project=")) names.add(arg.slice("--project=".length));
  });
  return names.size > 0 ? names : undefined;
}

export default defineConfig(async () => {
  const selected = selectedProjects();
  const wants = (name: string) => !selected || selected.has(name);
  const postgres =
    (wants("engines") || wants("fleet")) &&
    (await reachable(
      "PostgreSQL",
      TEST_ADMIN_URL,
      probePostgres,
      "skipping the engines and fleet tiers (set TEST_DATABASE_URL to point elsewhere)",
    ));
  const redis =
    postgres &&
    wants("fleet") &&
    (await reachable(
      "Redis",
      TEST_REDIS_URL,
      probeRedis,
      "skipping the fleet tier (set TEST_REDIS_URL to point elsewhere)",
    ));
  // One process per worker runs file after file (isolate: false): a fresh one per file loaded discord.js, the
  // AWS SDK and the whole bot again each time, about 0.6 s of CPU a file. Nothing in src/ keeps module-level
  // state, and every file closes what it starts.
  const shared = { pool: "forks" as const, isolate: false, testTimeout: 30_000, hookTimeout: 30_000 };
  // The tiers that start the bot as its own process get it compiled (built once per run when stale).
  const compiled = "test/support/compiled-app.ts";
  const services = { globalSetup: [compiled, "test/support/engines.ts"] };
  return {
    test: {
      // Most tests wait on sockets, child processes and timers rather than the CPU: three files at a time keep
      // both cores busy on a 2-core machine (one file at a time took twice as long).
      maxWorkers: 3,
      projects: [
        { test: { ...shared, name: "unit", include: [UNIT] } },
        {
          test: {
            ...shared,
            name: "sqlite",
            globalSetup: [compiled],
            include: ["test/**/*.test.ts"],
            exclude: [UNIT, POSTGRES_ONLY, FLEET, BROWSER],
          },
        },
        ...(postgres
          ? [{ test: { ...shared, ...services, name: "engines", include: [ENGINES, POSTGRES_ONLY] } }]
          : []),
        ...(redis ? [{ test: { ...shared, ...services, name: "fleet", include: [FLEET] } }] : []),
        { test: { ...shared, name: "browser", include: [BROWSER] } },
      ],
    },
  };
});
