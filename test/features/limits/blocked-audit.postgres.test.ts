// A member's blocked prompts within a minute share one audit row even when two bot processes on one PostgreSQL
// database admit them at the same moment (test/db/race-process.ts is each process).
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppContext } from "../../../src/app/compose.ts";
import type { AppContext } from "../../../src/features/context.ts";
import { captureLogger, engineEnv, makeTempDir, type TempDir, testConfig } from "../../support/env.ts";
import { spawnScript } from "../../support/spawn.ts";

const SCRIPT = "test/db/race-process.ts";
const GUILD = "100000000000000001";

let dir: TempDir;
let app: AppContext;
let round = 0;

beforeAll(async () => {
  dir = makeTempDir();
  app = await createAppContext(testConfig(dir.path, { IMAGE_PROVIDER: "mock" }), captureLogger().logger);
  // race-process's admit scenario asks for "a knight in silver armour".
  await app.repos.guildSettings.save(
    { ...(await app.repos.guildSettings.get(GUILD)), blocklist: ["knight"] },
    "setup",
    Date.now(),
  );
});
afterAll(async () => {
  await app?.close();
  dir?.remove();
});

/** Two processes, let go at the same moment, each making `parallel` requests as `user`; every outcome. */
async function race(user: string, parallel: number): Promise<string[]> {
  const go = `${dir.path}/go-${++round}`;
  const env = {
    ...engineEnv(dir.path),
    DATA_DIR: dir.path,
    IMAGE_PROVIDER: "mock",
    LOG_LEVEL: "warn",
    RACE_SCENARIO: "admit",
    RACE_USER: user,
    RACE_GUILD: GUILD,
    RACE_PARALLEL: String(parallel),
    RACE_GO: go,
  };
  const processes = [1, 2].map(() => spawnScript(SCRIPT, env));
  await Promise.all(processes.map((p) => p.printed("ready", 30_000)));
  writeFileSync(go, "");
  await Promise.all(processes.map((p) => p.printed("outcomes ", 20_000))).catch((err: Error) => {
    for (const p of processes) p.child.kill("SIGKILL");
    throw new Error(`${err.message}\n${processes.map((p) => p.output()).join("\n---\n")}`);
  });
  expect(await Promise.all(processes.map((p) => p.exited()))).toEqual([0, 0]);
  return processes.flatMap((p) => JSON.parse(/outcomes (.*)/.exec(p.stdout())?.[1] ?? "[]") as string[]);
}

const blockedRowsOf = async (user: string) =>
  (await app.repos.audit.list(GUILD, { action: "prompt_blocked", memberId: user }, 0, 50)).map((r) => ({
    actorId: r.actorId,
    occurrences: r.occurrences,
  }));

describe("blocked prompts admitted by two processes at once", () => {
  it("makes one audit row counted twice for one request in each process", async () => {
    const user = "200000000000000011";
    expect(await race(user, 1)).toEqual(["blocked", "blocked"]);
    expect(await blockedRowsOf(user)).toEqual([{ actorId: user, occurrences: 2 }]);
  });

  it("makes one audit row counted 20 times for 2 × 10 requests", async () => {
    const user = "200000000000000012";
    const outcomes = await race(user, 10);
    expect(outcomes).toEqual(Array(20).fill("blocked"));
    expect(await blockedRowsOf(user)).toEqual([{ actorId: user, occurrences: 20 }]);
  });
});
