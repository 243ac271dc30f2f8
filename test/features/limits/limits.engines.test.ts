import { describe, expect, it } from "vitest";
import { deployCommands } from "../../../src/discord/commands/register.ts";
import {
  ALICE,
  BOB,
  BOT_TOKEN,
  buttons,
  e2eSuite,
  eventually,
  type Harness,
} from "../../support/bot-harness.ts";

const suite = e2eSuite("limits");

const reply = (h: Harness, command: string, options: Record<string, string | number>, user = ALICE) =>
  h.settledReply(h.sandbox.runCommand({ command, options, user }));

/** A /character or /video the bot refuses after deferring: the refusal is an ephemeral follow-up. */
const refusal = (h: Harness, command: string, options: Record<string, string | number>, user = ALICE) =>
  h.refusal(h.sandbox.runCommand({ command, options, user }));

/**
 * Waits until Alice's generation has a prediction under way. The generation is recorded after its deferral
 * and its slots then queue for the one place, so the deferral alone does not mean her slots are queued.
 */
const aliceStarted = (h: Harness) =>
  eventually(
    async () => {
      for (const g of await h.ctx.generation.undelivered()) {
        if (g.userId !== ALICE.id) continue;
        const view = await h.ctx.generation.view(g.id);
        if (view?.images.some((i) => i.predictionId !== null)) return true;
      }
      return false;
    },
    5000,
    "alice's first prediction started",
  );

describe("allowances, running jobs and the blocklist", () => {
  it("refuses a request beyond the daily allowance, privately, and /usage shows what is used and left", async () => {
    const h = await suite.start({ DAILY_IMAGES_PER_USER: "5", MOCK_LATENCY_MS: "50" });
    await h.character({ description: "first", count: 4 });
    const refused = await refusal(h, "character", { description: "second", count: 4 });
    expect(refused.visible_to).toBe(ALICE.id);
    expect(refused.content).toContain("Your daily allowance of 5 images has 1 left");
    expect(await h.recordedRows("generations")).toBe(1);
    const usage = await reply(h, "usage", {});
    expect(usage.visible_to).toBe(ALICE.id);
    expect(usage.content).toContain("Images: 4 of 5 (1 left)");
    expect(usage.content).toContain("This server today");
    // Bob's allowance is his own.
    expect((await h.character({ description: "bob", count: 4 }, BOB)).attachments).toHaveLength(4);
  });

  it("gives failed slots back: they cost nothing", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const grid = await h.character({ description: "x [mock:provider_error:2,3]", count: 4 });
    expect(grid.attachments).toHaveLength(2);
    expect((await reply(h, "usage", {})).content).toContain("Images: 2 of 40 (38 left)");
    expect(await h.ctx.repos.usage.heldByJob((await h.generationOf(grid)).generation.id, "image")).toBe(2);
  });

  it("refuses a second request while the first is running, then accepts one after", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "1200" });
    const first = h.sandbox.runCommand({
      command: "character",
      options: { description: "slow one", count: 2 },
      user: ALICE,
    });
    await h.sandbox.waitFor(() => first.callback, 5000, "first deferred");
    const second = await refusal(h, "character", { description: "impatient", count: 1 });
    expect(second.visible_to).toBe(ALICE.id);
    expect(second.content).toContain("You already have a request running");
    await h.grid(first);
    expect((await h.character({ description: "next", count: 1 })).attachments).toHaveLength(1);
  });

  it("blocks obfuscated blocklist variants with a private message and an audit row, and lets a harmless prompt pass", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const guildId = h.sandbox.guild.id;
    await h.ctx.repos.guildSettings.save(
      { ...(await h.ctx.repos.guildSettings.get(guildId)), blocklist: ["gore", "blood*"] },
      "setup",
      Date.now(),
    );
    for (const description of [
      "a G0RE knight",
      "a g\u200Bo\u200Bre knight",
      "ＧＯＲＥ",
      "BLOODY mess",
      "g.o.r.e",
    ]) {
      // A minute apart: a member's blocked prompts within a minute share one audit row (audit-flood test).
      h.clock.advance(61_000);
      const refused = await refusal(h, "character", { description });
      expect(refused.visible_to, description).toBe(ALICE.id);
      expect(refused.content).toContain("That description is not allowed in this server");
    }
    expect(await h.recordedRows("generations")).toBe(0);
    const audit = await h.ctx.repos.audit.recent(guildId, 10);
    expect(audit).toHaveLength(5);
    expect(audit.every((a) => a.action === "prompt_blocked" && a.actorId === ALICE.id)).toBe(true);
    expect(audit.map((a) => a.details.entry).sort()).toEqual(["blood*", "gore", "gore", "gore", "gore"]);
    const harmless = await h.character({ description: "a gorgeous knight", count: 1 });
    expect(buttons(harmless).map((b) => b.label)).toEqual(["1", "Vary 1", "Regenerate", "Remix"]);
  });

  it("applies the video allowance to /video", async () => {
    const h = await suite.start({ DAILY_VIDEOS_PER_USER: "0", MOCK_LATENCY_MS: "50" });
    const grid = await h.character({ description: "hero", count: 1 });
    await h.pick(grid, 1);
    const refused = await refusal(h, "video", { prompt: "runs" });
    expect(refused.visible_to).toBe(ALICE.id);
    expect(refused.content).toContain("Your daily allowance of 0 videos is used up");
    expect(await h.recordedRows("videos")).toBe(0);
  });

  it("shows a waiting request its place in the queue, and the place advances", async () => {
    // Places are updated at most every 150 ms: alice's slots take about 1 s each, one at a time, so bob's
    // request is queued behind two of them even when recording it takes a while (PostgreSQL on a busy machine
    // records it in a few hundred ms), and his place moves at least twice while he waits.
    const h = await suite.start({
      MAX_CONCURRENT_PREDICTIONS: "1",
      MOCK_LATENCY_MS: "1000",
      QUEUE_EDIT_INTERVAL_MS: "150",
      REPLY_EDIT_INTERVAL_MS: "50",
    });
    const first = h.sandbox.runCommand({
      command: "character",
      options: { description: "alice first", count: 3 },
      user: ALICE,
    });
    await h.sandbox.waitFor(() => first.callback, 5000, "first deferred");
    await aliceStarted(h);
    const waiting = h.sandbox.runCommand({
      command: "character",
      options: { description: "bob waits", count: 1 },
      user: BOB,
    });
    const positions: number[] = [];
    h.sandbox.on("message", (m) => {
      const ahead =
        m.id === waiting.originalMessageId ? /Queued: (\d+) ahead of you/.exec(m.content)?.[1] : undefined;
      if (ahead) positions.push(Number(ahead));
    });
    const grid = await h.grid(waiting);
    expect(grid.attachments).toHaveLength(1);
    expect(positions[0]).toBe(2);
    expect(positions).toContain(1);
    expect(new Set(positions).size).toBeGreaterThanOrEqual(2);
    expect(positions.every((p, i) => i === 0 || p <= (positions[i - 1] as number))).toBe(true);
  });

  it("in a DM: /character, /reference and /usage work with the member's own limits; server tools are refused", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50", DAILY_IMAGES_PER_USER: "3" });
    // As on Discord, only globally registered commands exist in DMs.
    await deployCommands({ token: BOT_TOKEN, apiUrl: h.sandbox.apiUrl });
    const dm = { guildId: undefined, channelId: "700000000000000001" };
    const grid = await h.grid(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "dm knight", count: 2 },
        user: ALICE,
        ...dm,
      }),
    );
    expect(grid.attachments).toHaveLength(2);
    expect((await h.generationOf(grid)).generation.guildId).toBeNull();
    const usage = await h.settledReply(
      h.sandbox.runCommand({ command: "usage", options: {}, user: ALICE, ...dm }),
    );
    expect(usage.content).toContain("Images: 2 of 3 (1 left)");
    expect(usage.content).not.toContain("This server today");
    const list = await h.settledReply(
      h.sandbox.runCommand({ command: "reference list", options: {}, user: ALICE, ...dm }),
    );
    expect(list.content).toContain("2 in all");
    // DMs have their own allowance: the same member in the server still has all of theirs.
    expect((await h.character({ description: "guild knight", count: 3 })).attachments).toHaveLength(3);
    for (const command of ["moderation purge", "settings view"]) {
      const options: Record<string, string> = command === "moderation purge" ? { user: BOB.id } : {};
      const refused = await h.settledReply(h.sandbox.runCommand({ command, options, user: ALICE, ...dm }));
      expect(refused.content, command).toContain("works in a server that has added the bot");
    }
  });

  it("shows a queued /video its place in the queue too", async () => {
    // The place is shown by the video's progress edits: the first (0:00 elapsed) may go out before the video
    // reaches the queue (its reads come first, and take real time on PostgreSQL), and the next would wait the
    // default 5 s, longer than alice's slots take.
    const h = await suite.start({
      MAX_CONCURRENT_PREDICTIONS: "1",
      MOCK_LATENCY_MS: "300",
      QUEUE_EDIT_INTERVAL_MS: "150",
      VIDEO_PROGRESS_INTERVAL_MS: "50",
    });
    const bobs = await h.character({ description: "bob hero", count: 1 }, BOB);
    await h.pick(bobs, 1, BOB);
    const first = h.sandbox.runCommand({
      command: "character",
      options: { description: "alice first", count: 3 },
      user: ALICE,
    });
    await h.sandbox.waitFor(() => first.callback, 5000, "first deferred");
    await aliceStarted(h);
    const video = h.sandbox.runCommand({ command: "video", options: { prompt: "waits" }, user: BOB });
    const queued = await h.settledReply(video, (m) => /Queued: \d+ ahead of you/.test(m.content));
    expect(queued.content).toMatch(/Queued: 2 ahead of you/);
    const done = await h.settledReply(video, (m) => m.attachments.length === 1);
    expect(done.content).not.toContain("Queued");
  });

  it("a member's bot-wide cap spans the server and DMs, a refund gives it back, and /usage shows it", async () => {
    // Each place's own allowance (5) would allow every request below; the cap of 6 across them does not.
    const h = await suite.start({ MOCK_LATENCY_MS: "50", DAILY_IMAGES_PER_USER: "5", USER_DAILY_CAP: "6" });
    await deployCommands({ token: BOT_TOKEN, apiUrl: h.sandbox.apiUrl });
    const dm = { guildId: undefined, channelId: "700000000000000001" };
    const draw = (description: string, count: number, where = {}) =>
      h.sandbox.runCommand({ command: "character", options: { description, count }, user: ALICE, ...where });

    expect((await h.grid(draw("server knight", 4))).attachments).toHaveLength(4);
    const refused = await h.refusal(draw("dm knight", 4, dm));
    expect(refused.visible_to).toBe(ALICE.id);
    expect(refused.content).toContain(
      "Your daily allowance of 6 images across all servers and DMs has 2 left, not enough for this request",
    );
    // One of two images fails in the DM: its unit comes back to the cap as well.
    expect((await h.grid(draw("dm knight [mock:provider_error:2]", 2, dm))).attachments).toHaveLength(1);
    const usage = await h.settledReply(
      h.sandbox.runCommand({ command: "usage", options: {}, user: ALICE, ...dm }),
    );
    expect(usage.content).toContain("Images: 1 of 5 (4 left)");
    expect(usage.content).toContain(
      "**You in all servers and DMs today** (the bot-wide limit)\nImages: 5 of 6 (1 left)",
    );
    expect((await h.grid(draw("server knight again", 1))).attachments).toHaveLength(1);
    expect((await h.refusal(draw("one too many", 1, dm))).content).toContain(
      "Your daily allowance of 6 images across all servers and DMs is used up",
    );
    expect(await h.recordedRows("generations")).toBe(3);
    // Bob's cap is his own.
    expect((await h.character({ description: "bob", count: 4 }, BOB)).attachments).toHaveLength(4);
  });

  it("two requests at once in the server and a DM cannot both pass the bot-wide cap", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50", MAX_RUNNING_PER_USER: "2", USER_DAILY_CAP: "4" });
    await deployCommands({ token: BOT_TOKEN, apiUrl: h.sandbox.apiUrl });
    const both = [
      h.sandbox.runCommand({
        command: "character",
        options: { description: "in the server", count: 4 },
        user: ALICE,
      }),
      h.sandbox.runCommand({
        command: "character",
        options: { description: "in a dm", count: 4 },
        user: ALICE,
        guildId: undefined,
        channelId: "700000000000000001",
      }),
    ];
    // Each ends with its grid, or with a refusal sent privately as a follow-up (its deferral deleted).
    const outcome = (i: (typeof both)[number]) => {
      const refused = h.sandbox.followUps(i).find((m) => m.content.includes("allowance"));
      if (refused) return h.sandbox.original(i) === undefined ? refused : undefined;
      const m = h.sandbox.original(i);
      return m && (m.flags & 128) === 0 && m.content.includes("Pick your reference") ? m : undefined;
    };
    const replies = await Promise.all(
      both.map((i) => h.sandbox.waitFor(() => outcome(i), 15_000, "a grid or a refusal")),
    );
    const refusals = replies.filter((m) => m.content.includes("across all servers and DMs is used up"));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.visible_to).toBe(ALICE.id);
    expect(replies.filter((m) => m.attachments.length === 4)).toHaveLength(1);
    expect(await h.recordedRows("generations")).toBe(1);
    expect((await h.ctx.quota.report(ALICE.id, null)).everywhere.images.used).toBe(4);
  });
});
