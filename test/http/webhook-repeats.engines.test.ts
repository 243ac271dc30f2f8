// A Replicate webhook delivery is handled once by the bot, not once per process: without Redis the delivery
// ids are kept in the database, so a second process on the same database and a process started after a
// restart both answer a repeat as one, and ids older than the receiver's memory are pruned.
import { afterEach, describe, expect, it } from "vitest";
import { DELIVERY_MEMORY_MS } from "../../src/providers/replicate/webhooks.ts";
import { makeTempDir, steppingClock, type TempDir, testConfig } from "../support/env.ts";
import { deliver, type Receiving, startReceiving, WEBHOOK_SECRET } from "../support/webhook-deliveries.ts";

let dir: TempDir | undefined;
const running: Receiving[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.close();
  dir?.remove();
  dir = undefined;
});

async function receiver(clock = steppingClock()): Promise<Receiving> {
  dir ??= makeTempDir("crbot-webhooks-");
  const r = await startReceiving(testConfig(dir.path, { REPLICATE_WEBHOOK_SECRET: WEBHOOK_SECRET }), {
    clock,
  });
  running.push(r);
  return r;
}

const rows = async (r: Receiving) =>
  (await r.ctx.data.db.selectFrom("webhookDeliveries").select(["id"]).orderBy("id").execute()).map(
    (x) => x.id,
  );

describe("repeated webhook deliveries without Redis", () => {
  it("answers a delivery one process handled as a repeat in another on the same database", async () => {
    const first = await receiver();
    const second = await receiver();
    expect(await deliver(first, "msg_shared", "pred_shared")).toEqual({ status: 200, result: "no waiter" });
    expect(await deliver(second, "msg_shared", "pred_shared")).toEqual({
      status: 200,
      result: "repeated delivery",
    });
    expect(await deliver(first, "msg_shared", "pred_shared")).toEqual({
      status: 200,
      result: "repeated delivery",
    });
    // Another delivery of the same prediction is its own delivery.
    expect(await deliver(second, "msg_other", "pred_shared")).toEqual({ status: 200, result: "no waiter" });
  });

  it("answers a delivery handled before a restart as a repeat after it", async () => {
    const before = await receiver();
    expect(await deliver(before, "msg_restart", "pred_restart")).toEqual({
      status: 200,
      result: "no waiter",
    });
    await before.close();
    running.splice(running.indexOf(before), 1);

    const after = await receiver();
    expect(await deliver(after, "msg_restart", "pred_restart")).toEqual({
      status: 200,
      result: "repeated delivery",
    });
  });

  it("forgets delivery ids older than its memory", async () => {
    const clock = steppingClock();
    const r = await receiver(clock);
    expect(await deliver(r, "msg_old", "pred_old", clock.now())).toMatchObject({ result: "no waiter" });
    expect(await rows(r)).toEqual(["msg_old"]);
    clock.advance(DELIVERY_MEMORY_MS + 1000);
    // The next delivery prunes the old id; a copy of the old one (signed now) would be new again.
    expect(await deliver(r, "msg_new", "pred_new", clock.now())).toMatchObject({ result: "no waiter" });
    expect(await rows(r)).toEqual(["msg_new"]);
  });
});
