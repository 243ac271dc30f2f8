// Replicate's 3,000 non-create requests a minute are the account's, not a process's: two real processes
// sharing one Redis keep their status checks within REPLICATE_STATUS_CHECKS_PER_MINUTE together (each check
// over budget waits its turn); the same two processes counting alone send twice as fast.
import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { engineEnv, makeTempDir, TEST_REPLICATE_TOKEN, type TempDir } from "../../support/env.ts";
import { FakeReplicate } from "../../support/fake-replicate.ts";
import { busiestSecond } from "../../support/rates.ts";
import { removeKeys, TEST_REDIS_URL, testQueuePrefix } from "../../support/redis.ts";
import { spawnScript } from "../../support/spawn.ts";

/** 600 a minute: 10 in each counting second. */
const PER_MINUTE = 600;
const PER_WINDOW = PER_MINUTE / 60;
const CHECKS = 30;

let fake: FakeReplicate | undefined;
let dir: TempDir | undefined;
let prefix: string | undefined;

afterEach(async () => {
  await fake?.close();
  if (prefix) await removeKeys(prefix);
  dir?.remove();
  fake = dir = prefix = undefined;
});

/** The status requests (a prediction's GET, or the list) the fake Replicate received, by arrival time. */
async function race(shared: boolean): Promise<number[]> {
  // Predictions that run for the whole test: every check finds them running.
  fake = await FakeReplicate.start({ token: TEST_REPLICATE_TOKEN, latencyMs: 120_000 });
  dir = makeTempDir("crbot-replicate-budget-");
  prefix = testQueuePrefix();
  const go = `${dir.path}/go`;
  const env = {
    ...engineEnv(dir.path),
    DATA_DIR: dir.path,
    DISCORD_TOKEN: "unused",
    IMAGE_PROVIDER: "replicate",
    REPLICATE_API_TOKEN: TEST_REPLICATE_TOKEN,
    REPLICATE_API_URL: fake.url,
    REPLICATE_STATUS_CHECKS_PER_MINUTE: String(PER_MINUTE),
    CHECKS: String(CHECKS),
    GO_FILE: go,
    ...(shared ? { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix } : {}),
  };
  const processes = [1, 2].map(() =>
    spawnScript("test/providers/replicate/replicate-budget-process.ts", env),
  );
  await Promise.all(processes.map((p) => p.printed("ready", 30_000)));
  const from = Date.now();
  writeFileSync(go, "");
  await Promise.all(processes.map((p) => p.printed("done", 30_000)));
  expect(await Promise.all(processes.map((p) => p.exited()))).toEqual([0, 0]);
  return fake.requests
    .filter((r) => r.method === "GET" && r.path.startsWith("/v1/predictions") && r.at >= from)
    .map((r) => r.at)
    .sort((a, b) => a - b);
}

describe("Replicate's status-check budget across processes", () => {
  it("holds for two processes sharing Redis: 60 checks at 10 a counting second take five seconds and more", async () => {
    const times = await race(true);
    expect(times).toHaveLength(2 * CHECKS);
    const span = (times.at(-1) as number) - (times[0] as number);
    // 60 requests, 10 per counting second: the last goes out in the sixth second at the earliest.
    expect(span).toBeGreaterThanOrEqual(((2 * CHECKS) / PER_WINDOW - 1) * 1000 - 50);
    // Fixed windows: a rolling second may take the end of one and the start of the next, never more.
    expect(busiestSecond(times)).toBeLessThanOrEqual(2 * PER_WINDOW);
    console.log(
      `replicate status budget: ${times.length} checks from 2 processes over ${span} ms, busiest second ${busiestSecond(times)} (${PER_WINDOW} a counting second)`,
    );
  }, 60_000);

  it("is twice as fast, so over budget, for the same two processes each counting alone", async () => {
    const times = await race(false);
    expect(times).toHaveLength(2 * CHECKS);
    const span = (times.at(-1) as number) - (times[0] as number);
    // Each process alone: 30 at 10 a second, both at once, so the 60 arrive in about three seconds.
    expect(span).toBeLessThan(((2 * CHECKS) / PER_WINDOW - 1) * 1000 - 500);
  }, 60_000);
});
