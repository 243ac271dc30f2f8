// Two processes on one PostgreSQL database: one sweeps at a time (a session advisory lock), and the daily part
// runs once a day whichever of them gets there first.
import { afterEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../../src/app/compose.ts";
import type { AppContext } from "../../../src/features/context.ts";
import { DAY_MS } from "../../../src/features/retention/retention-service.ts";
import { newId } from "../../../src/kit/ids.ts";
import {
  captureLogger,
  makeTempDir,
  sharedEngines,
  steppingClock,
  type TempDir,
  testConfig,
} from "../../support/env.ts";

let dir: TempDir | undefined;
const contexts: AppContext[] = [];
afterEach(async () => {
  for (const ctx of contexts.splice(0)) await ctx.close();
  dir?.remove();
  dir = undefined;
});

/** Two applications on the same schema, each its own pool (as two processes of a fleet), sharing one clock. */
async function twoRunners() {
  if (!sharedEngines()) throw new Error("runs in the engines tier only");
  dir = makeTempDir();
  const config = testConfig(dir.path, { IMAGE_PROVIDER: "mock" });
  const clock = steppingClock();
  for (let i = 0; i < 2; i++) {
    contexts.push(await createAppContext(config, captureLogger().logger, { clock }));
  }
  return { a: contexts[0] as AppContext, b: contexts[1] as AppContext, clock };
}

describe("the retention sweep on PostgreSQL", () => {
  it("runs in one process at a time: the other's sweep, tried meanwhile, does nothing", async () => {
    const { a, b } = await twoRunners();
    const inside = await a.data.exclusively("retention-sweep", async () => {
      // A holds the sweep's lock on its own connection: B's pool cannot take it.
      return b.retention.sweep();
    });
    expect(inside?.value).toEqual({ ran: false, tokens: 0 });
    // Released after A's run: B sweeps now.
    expect((await b.retention.sweep()).ran).toBe(true);
  });

  it("two processes sweeping together: one does the daily part, once", async () => {
    const { a, b, clock } = await twoRunners();
    const createdAt = clock.now() - 20 * 60_000;
    await a.data.db
      .insertInto("generations")
      .values({
        id: newId(),
        guildId: "100000000000000001",
        channelId: "100000000000000002",
        userId: "500000000000000001",
        interactionId: "100000000000000003",
        interactionToken: "token-of-an-old-interaction",
        applicationId: "100000000000000004",
        messageId: null,
        prompt: "a knight",
        params: "{}",
        model: "mock",
        requested: 1,
        status: "failed",
        createdAt,
        finishedAt: createdAt,
        deliveredAt: createdAt,
        parentImageId: null,
        referenceUrl: null,
        delivery: "channel",
      })
      .execute();
    clock.advance(40 * DAY_MS);

    const reports = await Promise.all([a.retention.sweep(), b.retention.sweep(), a.retention.sweep()]);
    expect(reports.filter((r) => r.daily)).toHaveLength(1);
    expect(reports.reduce((n, r) => n + r.tokens, 0)).toBe(1);
    expect(reports.find((r) => r.daily)?.daily?.prompts).toBe(1);

    // Within the day, neither repeats it; a day later, whichever sweeps first does.
    clock.advance(DAY_MS / 2);
    expect((await b.retention.sweep()).daily).toBeUndefined();
    clock.advance(DAY_MS / 2);
    expect((await b.retention.sweep()).daily).toBeDefined();
    expect((await a.retention.sweep()).daily).toBeUndefined();
  });
});
