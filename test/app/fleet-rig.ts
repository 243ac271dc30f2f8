// What the fleet tests share: the local Discord server, the fake Replicate, the run's PostgreSQL, s3rver and
// Redis prefix for one test, and fleet processes started as `npm start` starts them.
import { afterEach } from "vitest";
import { type DataStore, openDataStore } from "../../src/db/data-store.ts";
import { databaseSettings } from "../../src/db/database.ts";
import { deployCommands } from "../../src/discord/commands/register.ts";
import { parseCustomId } from "../../src/discord/kit/custom-id.ts";
import { FileStore } from "../../src/files/file-store.ts";
import { openObjectStore } from "../../src/files/open-object-store.ts";
import {
  DiscordSandbox,
  type SandboxInteraction,
  type SandboxUser,
  type StoredMessage,
} from "../../src/sandbox/server.ts";
import { BOT_TOKEN, buttons, eventually } from "../support/bot-harness.ts";
import { engineEnv, makeTempDir, TEST_REPLICATE_TOKEN, type TempDir, testConfig } from "../support/env.ts";
import { FakeReplicate } from "../support/fake-replicate.ts";
import { removeKeys, TEST_REDIS_URL, testQueuePrefix } from "../support/redis.ts";
import { type ScriptProcess, spawnScript } from "../support/spawn.ts";

export const CAP = 4;

let sandbox: DiscordSandbox | undefined;
let fake: FakeReplicate | undefined;
let dir: TempDir | undefined;
let store: DataStore | undefined;
let files: FileStore | undefined;
let prefix: string | undefined;
const processes: ScriptProcess[] = [];

/** Registers the clean-up every fleet test file needs: processes killed, services closed, keys removed. */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop("SIGKILL")));
    await store?.close();
    files?.close();
    await sandbox?.close();
    await fake?.close();
    if (prefix) await removeKeys(prefix);
    dir?.remove();
    sandbox = fake = dir = store = files = prefix = undefined;
  });
}

export async function setup(latencyMs: number) {
  sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
  fake = await FakeReplicate.start({ token: TEST_REPLICATE_TOKEN, latencyMs });
  dir = makeTempDir("crbot-fleet-");
  prefix = testQueuePrefix();
  const config = testConfig(dir.path);
  store = await openDataStore(databaseSettings(config));
  files = new FileStore(openObjectStore(config.storage, dir.path));
  await deployCommands({ token: BOT_TOKEN, apiUrl: sandbox.apiUrl, guildId: sandbox.guild.id });
  return { sandbox, fake, dir, store, files, prefix };
}

/** Starts one process of the fleet as `npm start` would, with `ROLE` and the shared services. */
export async function start(role: "gateway" | "worker", extra: Record<string, string> = {}) {
  if (!sandbox || !fake || !dir || !prefix) throw new Error("setup() first");
  const proc = spawnScript("src/index.ts", {
    ...engineEnv(dir.path),
    ROLE: role,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_API_URL: sandbox.apiUrl,
    IMAGE_PROVIDER: "replicate",
    REPLICATE_API_TOKEN: TEST_REPLICATE_TOKEN,
    REPLICATE_API_URL: fake.url,
    DATA_DIR: dir.path,
    MAX_CONCURRENT_PREDICTIONS: String(CAP),
    MAX_RUNNING_PER_USER: "2",
    PREDICTION_POLL_MS: "50",
    QUEUE_EDIT_INTERVAL_MS: "100",
    // A killed worker's jobs go back to the queue once its lock lapses: 3 s here, 8 s by default.
    JOB_LOCK_SECONDS: "3",
    LOG_LEVEL: "debug",
    ...extra,
  });
  processes.push(proc);
  const ready =
    role === "worker"
      ? "worker taking jobs"
      : extra.INTERACTIONS_MODE === "http"
        ? "taking interactions over HTTP"
        : "logged in to Discord";
  await proc.printed(ready, 30_000);
  return proc;
}

export const users: SandboxUser[] = Array.from({ length: 20 }, (_, i) => ({
  id: `5100000000000000${String(i).padStart(2, "0")}`,
  username: `member${i}`,
}));

export function finalGrid(
  s: DiscordSandbox,
  i: SandboxInteraction,
  timeoutMs: number,
): Promise<StoredMessage> {
  return s.waitFor(
    () => {
      const m = s.original(i);
      return m && buttons(m).some((b) => b.label === "Regenerate") ? m : undefined;
    },
    timeoutMs,
    "a final grid",
  );
}

export function generationIdOf(grid: StoredMessage): string {
  const id = parseCustomId(buttons(grid)[0]?.custom_id ?? "");
  if (id.handler !== "gen") throw new Error("not a grid");
  return id.generationId;
}

/**
 * The slots of the grids' generations once none is open. A grid goes out while its last image's row is being
 * marked (the early grid): read at once, that row can still say running for the moment of a statement.
 */
export function settledRows(db: DataStore, grids: readonly StoredMessage[]) {
  return eventually(
    async () => {
      const ids = grids.map(generationIdOf);
      const rows = (await Promise.all(ids.map((id) => db.repos.images.forGeneration(id)))).flat();
      return rows.every((r) => r.status !== "pending" && r.status !== "running") && rows;
    },
    10_000,
    "every slot of the grids to be recorded",
  );
}

/** Keeps a process the test started itself, so the clean-up kills it too. */
export function track(proc: ScriptProcess): void {
  processes.push(proc);
}

export const output = () => processes.map((p, i) => `--- process ${i}\n${p.output()}`).join("\n");
