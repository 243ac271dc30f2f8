// INTERACTIONS_MODE=http: Discord POSTs each interaction, signed with Ed25519, to /interactions and the bot
// answers in the HTTP response; no gateway connection at all. The local Discord server delivers interactions
// this way (signed with its own key pair, whose public half is the bot's DISCORD_PUBLIC_KEY).
import { describe, expect, it } from "vitest";
import { startSandboxMode } from "../../src/app/sandbox-mode.ts";
import { ALICE, buttons, e2eSuite, type Harness } from "../support/bot-harness.ts";
import { makeTempDir } from "../support/env.ts";
import { freePort } from "../support/ports.ts";

const suite = e2eSuite("http interactions");

async function start(): Promise<Harness> {
  return suite.start({ INTERACTIONS_MODE: "http", HTTP_PORT: String(await freePort()), OPS_PORT: "0" });
}

describe("interactions over HTTP", () => {
  it("answers PING with PONG, and refuses a bad signature, a stale timestamp and missing headers with 401", async () => {
    const h = await start();
    const { http } = h.sandbox;

    const ping = await http.post(JSON.stringify({ type: 1, id: "1", token: "t", application_id: "1" }));
    expect(ping.status).toBe(200);
    expect(JSON.parse(ping.body)).toEqual({ type: 1 });

    expect((await http.post(JSON.stringify({ type: 1 }), { badSignature: true })).status).toBe(401);
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await http.post(JSON.stringify({ type: 1 }), { timestamp: sixMinutesAgo })).status).toBe(401);
    const unsigned = await fetch(http.url as string, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: 1 }),
    });
    expect(unsigned.status).toBe(401);
    // A verified body that is not an interaction.
    expect((await http.post(JSON.stringify({ hello: "there" }))).status).toBe(400);
  });

  it("runs /character → pick → /video with every answer in the HTTP response, never opening the gateway", async () => {
    const h = await start();
    const grid = await h.character({ description: "a lantern-bearing owl scout", count: 2 });
    expect(grid.attachments).toHaveLength(2);
    const confirmation = await h.pick(grid, 2);
    expect(confirmation.content).toContain("Picked image 2");

    const video = h.sandbox.runCommand({
      command: "video",
      options: { prompt: "takes flight" },
      user: ALICE,
    });
    const posted = await h.settledReply(video, (m) => m.attachments.some((a) => a.filename.endsWith(".mp4")));
    expect(posted.attachments).toHaveLength(1);

    // Every interaction was answered in its HTTP response (200), and the deferral came back as its callback.
    const { deliveries } = h.sandbox.http;
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    expect(deliveries.every((d) => d.status === 200)).toBe(true);
    for (const d of deliveries) expect(h.sandbox.interactions.get(d.interactionId)?.callback).toBeDefined();
    // A signed request sent again within its 5 minutes (a replay) is refused, and starts nothing.
    const generations = await h.recordedRows("generations");
    const first = deliveries[0] as (typeof deliveries)[number];
    const replay = await h.sandbox.http.post(first.body);
    expect(replay.status).toBe(401);
    expect(replay.body).toContain("already received");
    expect(await h.recordedRows("generations")).toBe(generations);
    // No gateway: nothing asked for its address, nothing identified.
    expect(h.sandbox.connected).toBe(false);
    expect(h.sandbox.requestLog.some((r) => r.route.startsWith("/gateway"))).toBe(false);
    const ms = deliveries.map((d) => d.ms).sort((a, b) => a - b);
    console.log(
      `http interactions: ${deliveries.length} delivered, answered in the HTTP response in median ${ms[Math.floor(ms.length / 2)]?.toFixed(1)} ms`,
    );
  });

  it("npm run sandbox with INTERACTIONS_MODE=http: the local server posts signed interactions to the bot", async () => {
    const dir = makeTempDir("crbot-sandbox-http-");
    const running = await startSandboxMode({
      env: { INTERACTIONS_MODE: "http", MOCK_LATENCY_MS: "50", PREDICTION_POLL_MS: "20" },
      port: 0,
      dataDir: dir.path,
      useReplicate: false,
    });
    try {
      const s = running.sandbox;
      expect(running.bot).toBeUndefined();
      expect(s.http.url).toBe(`${running.httpUrl}/interactions`);
      const asked = s.runCommand({
        command: "character",
        options: { description: "a paper crane", count: 1 },
        user: ALICE,
      });
      const grid = await s.waitFor(
        () => {
          const m = s.original(asked);
          return m && buttons(m).some((b) => b.label === "Regenerate") ? m : undefined;
        },
        15_000,
        "the grid",
      );
      expect(grid.attachments).toHaveLength(1);
      expect(s.http.deliveries).toEqual([expect.objectContaining({ status: 200 })]);
      expect(s.connected).toBe(false);
      // No gateway: readiness does not wait for one.
      expect((await fetch(`${running.httpUrl}/readyz`)).status).toBe(200);
    } finally {
      await running.stop();
      dir.remove();
    }
  });
});
