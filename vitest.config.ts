import { defineConfig } from "vitest/config";
import { probePostgres, TEST_ADMIN_URL } from "./test/support/engines.ts";
import { probeRedis, TEST_REDIS_URL } from "./test/support/redis.ts";

/**
 * The tests that run a second time on PostgreSQL + S3 (s3rver): storage, admission and refunds, and the
 * /character, pick, /video, moderation and restart flows end to end. Tests of SQLite itself (its file, its
 * migrations from old versions) and of the pure parts run once.
 */
const BOTH_ENGINES = [
  "test/e2e/character.test.ts",
  "test/e2e/reference.test.ts",
  "test/e2e/video.test.ts",
  "test/e2e/restart.test.ts",
  "test/e2e/moderation.test.ts",
  "test/e2e/limits.test.ts",
  "test/e2e/resilience.test.ts",
  "test/e2e/library.test.ts",
  "test/e2e/variations.test.ts",
  "test/e2e/storage-s3.test.ts",
  "test/services/quota.test.ts",
  "test/services/refund.test.ts",
  "test/services/prediction-job.test.ts",
  "test/storage/database.test.ts",
  "test/storage/object-recovery.test.ts",
  "test/storage/storage-outage.test.ts",
  "test/http/links.test.ts",
];

/** Tests that exist only for PostgreSQL: two processes racing on one database. */
const POSTGRES_ONLY = ["test/postgres/**/*.test.ts"];

/** Fleet mode: gateway and worker processes on Redis (BullMQ), PostgreSQL and s3rver. */
const FLEET = ["test/fleet/**/*.test.ts"];

export default defineConfig(async () => {
  let postgres = true;
  try {
    await probePostgres();
  } catch (err) {
    const why = `PostgreSQL is unreachable at ${TEST_ADMIN_URL} (${(err as Error).message})`;
    // CI always runs both set-ups: a missing service is a failure there, never a skip.
    if (process.env.CI) throw new Error(`${why}; CI runs every test on both engines`);
    console.warn(`${why}: skipping the PostgreSQL + S3 runs (set TEST_DATABASE_URL to point elsewhere).`);
    postgres = false;
  }
  let redis = postgres;
  if (postgres) {
    try {
      await probeRedis();
    } catch (err) {
      const why = `Redis is unreachable at ${TEST_REDIS_URL} (${(err as Error).message})`;
      if (process.env.CI) throw new Error(`${why}; CI runs the fleet tests on the real services`);
      console.warn(`${why}: skipping the fleet tests (set TEST_REDIS_URL to point elsewhere).`);
      redis = false;
    }
  }
  const shared = {
    pool: "forks" as const,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  };
  return {
    test: {
      // Most tests wait on sockets, child processes and timers rather than the CPU: three files at a time take
      // both projects in about 2 min on a 2-core machine (one file at a time took twice as long).
      maxWorkers: 3,
      projects: [
        {
          test: {
            ...shared,
            name: "sqlite",
            include: ["test/**/*.test.ts"],
            exclude: [...POSTGRES_ONLY, ...FLEET],
          },
        },
        ...(postgres
          ? [
              {
                test: {
                  ...shared,
                  name: "postgres",
                  include: [...BOTH_ENGINES, ...POSTGRES_ONLY],
                  globalSetup: ["test/support/engines.ts"],
                },
              },
            ]
          : []),
        ...(redis
          ? [
              {
                test: {
                  ...shared,
                  name: "fleet",
                  include: FLEET,
                  globalSetup: ["test/support/engines.ts"],
                },
              },
            ]
          : []),
      ],
    },
  };
});
