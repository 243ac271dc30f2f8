// Replicate's webhooks end to end: the real bot (discord.js against the local Discord server, the real Replicate
// client against the fake) with PUBLIC_URL pointing at its real operations HTTP server, which the fake posts
// signed completions to.

import { afterEach, describe, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../src/http/server.ts";
import { ALICE, e2eSuite, eventually, type Harness } from "../support/bot-harness.ts";
import type { FakeReplicate, FakeReplicateOptions } from "../support/fake-replicate.ts";
import { freePort } from "../support/ports.ts";
import { replicateFixture } from "../support/replicate-fixture.ts";

const replicate = replicateFixture();
const suite = e2eSuite("webhooks");
let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Setup {
  h: Harness;
  fake: FakeReplicate;
  /** `${PUBLIC_URL}/webhooks/replicate`. */
  hook: string;
}

async function setUp(options: {
  fake?: Partial<FakeReplicateOptions>;
  env?: Record<string, string>;
  configuredSecret?: boolean;
}): Promise<Setup> {
  const fake = await replicate.start({ latencyMs: 500, ...options.fake });
  const port = await freePort();
  const h = await suite.start({
    ...replicate.env,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HTTP_PORT: String(port),
    // The safety-net poll is then 30 s: a test that finishes within the harness's 15-s wait was woken.
    PREDICTION_POLL_MS: "3000",
    ...(options.configuredSecret === false ? {} : { REPLICATE_WEBHOOK_SECRET: fake.webhookSecret }),
    ...options.env,
  });
  server = await startHttpServer({ ctx: h.ctx }, { port, host: "127.0.0.1" });
  return { h, fake, hook: `http://127.0.0.1:${port}/webhooks/replicate` };
}

/** The status checks the bot made of one prediction, in order. */
function statusGets(fake: FakeReplicate, predictionId: string) {
  return fake.requests.filter((r) => r.method === "GET" && r.path === `/v1/predictions/${predictionId}`);
}

function post(url: string, headers: Record<string, string>, body: string) {
  return fetch(url, { method: "POST", headers, body });
}

const now = () => Math.floor(Date.now() / 1000);

describe("Replicate webhooks", () => {
  it("creates predictions with the webhook, and a delivery finishes /character without waiting for a poll", async () => {
    const { h, fake, hook } = await setUp({});
    const grid = await h.character({ description: "silver robot", count: 2 });
    expect(grid.attachments).toHaveLength(2);

    expect(fake.creates).toHaveLength(2);
    for (const create of fake.creates) {
      expect(create.webhook).toEqual({ url: hook, events: ["completed"] });
      const delivery = fake.webhooks.find((w) => w.predictionId === create.id);
      expect(delivery).toMatchObject({ url: hook, status: 200, dropped: false });
      // One check right after the create (still processing), then the one the delivery woke: the next
      // safety-net poll (30 s later) was never needed.
      const gets = statusGets(fake, create.id);
      expect(gets).toHaveLength(2);
      expect(gets[0]?.at).toBeLessThanOrEqual(delivery?.at ?? 0);
      expect(gets[1]?.at).toBeGreaterThanOrEqual(delivery?.at ?? Number.POSITIVE_INFINITY);
    }
    // No secret fetch: REPLICATE_WEBHOOK_SECRET is set.
    expect(fake.requests.some((r) => r.path === "/v1/webhooks/default/secret")).toBe(false);
  });

  it("creates /video's prediction with the webhook, and its delivery finishes the video", async () => {
    const { h, fake, hook } = await setUp({});
    await h.pick(await h.character({ description: "a red fox knight", count: 1 }), 1);
    const interaction = h.sandbox.runCommand({
      command: "video",
      options: { prompt: "walks through rain" },
      user: ALICE,
    });
    const message = await h.settledReply(interaction, (m) => !m.content.includes("elapsed"));
    expect(message.attachments).toHaveLength(1);
    const create = fake.creates.at(-1);
    expect(create?.model).toBe("minimax/video-01");
    expect(create?.webhook).toEqual({ url: hook, events: ["completed"] });
    expect(fake.webhooks.find((w) => w.predictionId === create?.id)?.status).toBe(200);
    // Checked after the create and once more when woken; the safety-net poll (30 s) never came.
    expect(statusGets(fake, create?.id ?? "")).toHaveLength(2);
  });

  it("fetches the signing secret once from Replicate when REPLICATE_WEBHOOK_SECRET is unset", async () => {
    const { h, fake, hook } = await setUp({ configuredSecret: false });
    // Requests that could never be valid (no signature headers, a stale timestamp) are refused before the
    // secret is needed: they cost no request to Replicate.
    const json = { "content-type": "application/json" };
    expect((await post(hook, json, "{}")).status).toBe(401);
    const stale = {
      ...json,
      "webhook-id": "msg_x",
      "webhook-timestamp": String(now() - 600),
      "webhook-signature": "v1,AAAA",
    };
    expect((await post(hook, stale, "{}")).status).toBe(401);
    expect(fake.requests.filter((r) => r.path === "/v1/webhooks/default/secret")).toHaveLength(0);
    await h.character({ description: "silver robot", count: 2 });
    expect(fake.webhooks.map((w) => w.status)).toEqual([200, 200]);
    const fetches = fake.requests.filter((r) => r.path === "/v1/webhooks/default/secret");
    expect(fetches).toHaveLength(1);
    expect(fetches[0]).toMatchObject({ method: "GET", status: 200 });
    expect(h.logLines.join("\n")).not.toContain(fake.webhookSecret);
  });

  it("finishes a prediction whose webhook is lost by the slow safety-net poll", async () => {
    // Normal polling every 100 ms; the safety net every 1 s.
    const { h, fake } = await setUp({
      fake: { latencyMs: 300, webhookDelivery: "drop" },
      env: { PREDICTION_POLL_MS: "100" },
    });
    const grid = await h.character({ description: "silver robot", count: 1 });
    expect(grid.attachments).toHaveLength(1);
    const [create] = fake.creates;
    expect(fake.webhooks).toEqual([expect.objectContaining({ predictionId: create?.id, dropped: true })]);
    // The check after the create, then one at the safety-net interval; paced polling would have made several.
    expect(statusGets(fake, create?.id ?? "")).toHaveLength(2);
  });

  it("refuses bad, stale and oversized deliveries, ignores repeats, and wakes the job only on a valid one", async () => {
    // Results held until released (no latency of their own), and the fake's own deliveries dropped: the test
    // posts every delivery itself.
    const { h, fake, hook } = await setUp({ fake: { latencyMs: 0, webhookDelivery: "drop" } });
    fake.holdResults();
    const interaction = h.sandbox.runCommand({
      command: "character",
      options: { description: "silver robot", count: 1 },
      user: ALICE,
    });
    const create = await eventually(async () => fake.creates[0], 10_000, "the create");
    await eventually(async () => statusGets(fake, create.id).length === 1, 10_000, "the first status check");
    const body = JSON.stringify({ id: create.id, status: "succeeded", output: "https://evil.example/x.png" });

    // A wrong secret, a missing signature, a stale and a future timestamp: 401, nothing settled or woken.
    const wrong = fake.signDelivery(
      body,
      "msg_bad",
      now(),
      `whsec_${Buffer.from("not the secret").toString("base64")}`,
    );
    expect((await post(hook, wrong, body)).status).toBe(401);
    const { "webhook-signature": _, ...unsigned } = fake.signDelivery(body, "msg_unsigned", now());
    expect((await post(hook, unsigned, body)).status).toBe(401);
    expect((await post(hook, fake.signDelivery(body, "msg_stale", now() - 6 * 60), body)).status).toBe(401);
    expect((await post(hook, fake.signDelivery(body, "msg_future", now() + 6 * 60), body)).status).toBe(401);
    // A signature over other bytes than those sent.
    const tampered = body.replace("succeeded", "failed");
    expect((await post(hook, fake.signDelivery(body, "msg_tampered", now()), tampered)).status).toBe(401);
    // Over 1 MiB: refused before it is read, however it is signed.
    const big = JSON.stringify({ id: create.id, status: "succeeded", logs: "x".repeat(1024 * 1024) });
    expect((await post(hook, fake.signDelivery(big, "msg_big", now()), big)).status).toBe(413);
    expect(h.ctx.predictionEvents.isSettled(create.id)).toBe(false);

    // A valid delivery wakes the job at once (the safety-net poll is 30 s away); the output comes from the
    // status check, not from the body's URL.
    fake.releaseResults();
    const valid = fake.signDelivery(body, "msg_valid", now());
    const first = await post(hook, valid, body);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, result: "woken" });
    const grid = await h.grid(interaction);
    expect(grid.attachments).toHaveLength(1);
    // Exactly two status checks: the refused deliveries woke nothing.
    expect(statusGets(fake, create.id)).toHaveLength(2);

    // The same delivery again, and a new delivery of the settled prediction: 200, nothing changes.
    const replay = await post(hook, valid, body);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ ok: true, result: "repeated delivery" });
    const again = await post(hook, fake.signDelivery(body, "msg_again", now()), body);
    expect(await again.json()).toEqual({ ok: true, result: "already settled" });
    expect(statusGets(fake, create.id)).toHaveLength(2);
    expect(h.sandbox.original(interaction)?.content).toBe(grid.content);
  });
});
