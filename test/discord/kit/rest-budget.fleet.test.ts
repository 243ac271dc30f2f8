// Discord's global limit is the bot's, not a process's: two real processes sharing one Redis keep their
// bot-token requests under it together, while interaction-token requests (Discord does not count them) never
// wait behind that budget. Without the shared budget the same two processes overrun it.
import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { RequestLogEntry } from "../../../src/sandbox/rest.ts";
import { DiscordSandbox } from "../../../src/sandbox/server.ts";
import { BOT_TOKEN } from "../../support/bot-harness.ts";
import { engineEnv, makeTempDir, type TempDir } from "../../support/env.ts";
import { busiestSecond } from "../../support/rates.ts";
import { removeKeys, TEST_REDIS_URL, testQueuePrefix } from "../../support/redis.ts";
import { spawnScript } from "../../support/spawn.ts";

const LIMIT = 20;
const BOT_REQUESTS = 30;
const INTERACTION_REQUESTS = 10;

let sandbox: DiscordSandbox | undefined;
let dir: TempDir | undefined;
let prefix: string | undefined;

afterEach(async () => {
  await sandbox?.close();
  if (prefix) await removeKeys(prefix);
  dir?.remove();
  sandbox = dir = prefix = undefined;
});

/** The most bot-token requests the server saw arrive within any one second. */
const busiestBotSecond = (log: RequestLogEntry[]) =>
  busiestSecond(log.filter((r) => r.lane === "bot").map((r) => r.at));

async function race(shared: boolean) {
  sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
  sandbox.enforceGlobalLimit(LIMIT);
  dir = makeTempDir("crbot-budget-");
  prefix = testQueuePrefix();
  const go = `${dir.path}/go`;
  const env = {
    ...engineEnv(dir.path),
    DATA_DIR: dir.path,
    IMAGE_PROVIDER: "mock",
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_API_URL: sandbox.apiUrl,
    APPLICATION_ID: sandbox.applicationId,
    DISCORD_GLOBAL_REQUESTS_PER_SECOND: String(LIMIT),
    BOT_REQUESTS: String(BOT_REQUESTS),
    INTERACTION_REQUESTS: String(INTERACTION_REQUESTS),
    GO_FILE: go,
    ...(shared ? { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix } : {}),
  };
  const processes = [1, 2].map(() => spawnScript("test/discord/kit/rest-budget-process.ts", env));
  await Promise.all(processes.map((p) => p.printed("ready", 30_000)));
  writeFileSync(go, "");
  await Promise.all(processes.map((p) => p.printed("done ", 30_000)));
  expect(await Promise.all(processes.map((p) => p.exited()))).toEqual([0, 0]);
  return sandbox.requestLog.filter((r) => r.route !== "/gateway/bot");
}

describe("Discord's global limit across processes", () => {
  it("holds for two processes sharing Redis, and interaction-token requests do not wait behind it", async () => {
    const log = await race(true);
    const bot = log.filter((r) => r.lane === "bot");
    const interaction = log.filter((r) => r.lane === "interaction");
    expect(bot).toHaveLength(2 * BOT_REQUESTS);
    expect(interaction).toHaveLength(2 * INTERACTION_REQUESTS);
    expect(log.filter((r) => r.status === 429)).toHaveLength(0);
    expect(busiestBotSecond(log)).toBeLessThanOrEqual(LIMIT);
    // 60 bot-token requests at 10 a counting second take about six seconds; every interaction-token request
    // had arrived before the first two seconds' budget was spent.
    const firstBot = Math.min(...bot.map((r) => r.at));
    const lastBot = Math.max(...bot.map((r) => r.at));
    expect(lastBot - firstBot).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...interaction.map((r) => r.at))).toBeLessThan(bot[LIMIT]?.at as number);
    console.log(
      `global budget: ${bot.length} bot-token requests over ${lastBot - firstBot} ms, busiest second ${busiestBotSecond(log)} (limit ${LIMIT}), 0 × 429`,
    );
  }, 60_000);

  it("is overrun by the same two processes each counting alone", async () => {
    const log = await race(false);
    expect(log.filter((r) => r.status === 429).length).toBeGreaterThan(0);
  }, 60_000);
});
