// What both entry points share: reading the environment (with an optional .env) and refusing to start
// with a clear message and exit code 2 when something required is missing.
import { existsSync } from "node:fs";
import { type BotConfig, type Config, ConfigError, loadConfig } from "../config/load.ts";
import { type DataStore, openDataStore } from "../db/data-store.ts";
import { databaseSettings } from "../db/database.ts";
import { type ObjectStore, StorageUnavailableError } from "../files/object-store.ts";
import type { Logger } from "../kit/logger.ts";
import { SharedJobQueue } from "../queue/job-queue.ts";
import { QueueUnavailableError } from "../queue/queue-errors.ts";

export const EXIT_CONFIG = 2;

/** The environment, with `.env` from the working directory applied first when it exists. */
export function readEnvironment(): Record<string, string | undefined> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  return process.env;
}

/**
 * Loads the configuration or prints every problem in one message and exits with code 2. With
 * `discordToken: true` a missing DISCORD_TOKEN is one of the problems, and the result carries the token.
 */
export function configOrExit(
  env: Record<string, string | undefined>,
  require: { discordToken: true },
): BotConfig;
export function configOrExit(
  env: Record<string, string | undefined>,
  require: { discordToken: false },
): Config;
export function configOrExit(
  env: Record<string, string | undefined>,
  require: { discordToken: boolean },
): Config {
  const problems: string[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (require.discordToken && !env.DISCORD_TOKEN?.trim()) {
    problems.unshift(
      'DISCORD_TOKEN is not set: create a bot in the Discord Developer Portal and put its token in .env (README: "Running on Discord")',
    );
  }
  if (problems.length > 0 || !config) {
    console.error(
      `Cannot start: ${problems.length === 1 ? problems[0] : `\n${problems.map((p) => `  - ${p}`).join("\n")}`}\n` +
        "Every variable is described in .env.example and the README.\n" +
        "To try the bot with no Discord application or Replicate account: npm run sandbox",
    );
    process.exit(EXIT_CONFIG);
  }
  return config;
}

/**
 * Checks the object store can be reached (STORAGE_URL's bucket, or DATA_DIR) or prints one message naming the
 * variable to fix and exits with code 2, as for any other configuration problem.
 */
export async function storageOrExit(objects: ObjectStore): Promise<void> {
  try {
    await objects.check();
  } catch (err) {
    if (!(err instanceof StorageUnavailableError)) throw err;
    console.error(
      `Cannot start: ${err.variable} ${err.message}\n` +
        "Every variable is described in .env.example and the README (storage: STORAGE_URL, S3_ENDPOINT, S3_REGION, S3_FORCE_PATH_STYLE).",
    );
    process.exit(EXIT_CONFIG);
  }
}

/**
 * Opens the database (DATABASE_URL, or DATA_DIR/bot.sqlite) and brings its schema up to date, or prints one
 * message naming the variable and exits with code 2. A failed migration leaves nothing half-made: every pending
 * migration runs in one transaction.
 */
export async function dataStoreOrExit(config: Pick<Config, "dataDir" | "databaseUrl">): Promise<DataStore> {
  try {
    return await openDataStore(databaseSettings(config));
  } catch (err) {
    if (!(err instanceof StorageUnavailableError)) throw err;
    console.error(storageProblem(err));
    process.exit(EXIT_CONFIG);
  }
}

/** What a start that cannot reach its database (or object store) prints: the variable to fix, then where to read. */
export function storageProblem(err: StorageUnavailableError): string {
  const hint =
    err.variable === "DATABASE_URL"
      ? "database: DATABASE_URL, or DATA_DIR for SQLite"
      : "storage: STORAGE_URL, S3_ENDPOINT, S3_REGION, S3_FORCE_PATH_STYLE";
  return (
    `Cannot start: ${err.variable} ${err.message}\n` +
    `Every variable is described in .env.example and the README (${hint}).`
  );
}

/**
 * Connects to the shared job queue when REDIS_URL is set, or prints one message naming REDIS_URL and exits
 * with code 2, as for any other setting that cannot be reached at start.
 */
export async function jobQueueOrExit(config: Config, logger: Logger): Promise<SharedJobQueue | undefined> {
  if (!config.queue) return undefined;
  try {
    return await SharedJobQueue.open(
      {
        ...config.queue,
        concurrency: config.maxConcurrentPredictions,
        createsPerMinute: config.createsPerMinute,
      },
      logger,
    );
  } catch (err) {
    if (!(err instanceof QueueUnavailableError)) throw err;
    console.error(
      `Cannot start: REDIS_URL ${redactUrl(err.message, config.queue.redisUrl)}\n` +
        "Every variable is described in .env.example and the README (fleet mode: REDIS_URL, ROLE).",
    );
    process.exit(EXIT_CONFIG);
  }
}

/** The message without the URL's password, whatever the driver put in it. */
function redactUrl(message: string, url: string): string {
  const password = new URL(url).password;
  return password ? message.split(password).join("[redacted]") : message;
}
