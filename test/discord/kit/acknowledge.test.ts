// A request whose acknowledgement Discord refuses never runs, costs nothing and does not lock the member out.
import { describe, expect, it } from "vitest";
import type { SandboxInteraction } from "../../../src/sandbox/server.ts";
import { ALICE, buttons, e2eSuite, eventually, type Harness } from "../../support/bot-harness.ts";

const suite = e2eSuite("acknowledgement");

const CALLBACK = /^\/interactions\/\d+\/[^/]+\/callback$/;

/**
 * The next callbacks are answered with a 503: the acknowledgement each time the REST client sends it (once,
 * then its 3 retries), and the same for the error reply the router then tries.
 */
const REFUSED_CALLBACKS = 8;
const refuseCallbacks = (h: Harness) => {
  const before = callbacksSent(h);
  h.sandbox.injectFault({
    method: "POST",
    path: CALLBACK,
    status: 503,
    times: REFUSED_CALLBACKS,
  });
  return before;
};

const callbacksSent = (h: Harness) =>
  h.sandbox.requestLog.filter((r) => r.route.endsWith("/callback")).length;

/**
 * Waits until the router has given up on the interaction: the failure is logged with its id, and its error
 * reply was refused too (every refused callback was sent), so no answer can still be on its way.
 */
const failed = async (h: Harness, interaction: SandboxInteraction, before: number) => {
  await h.sandbox.waitFor(
    () => h.logLines.some((l) => l.includes(interaction.id) && l.includes('"msg":"interaction failed"')),
    15_000,
    "the interaction's failure",
  );
  await h.sandbox.waitFor(
    () => callbacksSent(h) >= before + REFUSED_CALLBACKS,
    15_000,
    "the refused error reply",
  );
};

const used = async (h: Harness, kind: "images" | "videos") =>
  (await h.ctx.quota.report(ALICE.id, h.sandbox.guild.id)).user[kind].used;

describe("a refused acknowledgement", () => {
  it("gives up /character and Regenerate: nothing runs, nothing is held, the next request is accepted", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "30" });
    let before = refuseCallbacks(h);
    const lost = h.sandbox.runCommand({
      command: "character",
      options: { description: "lost", count: 3 },
      user: ALICE,
    });
    await failed(h, lost, before);
    expect(lost.callback).toBeUndefined();
    expect(await h.ctx.repos.generations.runningCount(ALICE.id)).toBe(0);
    expect(await used(h, "images")).toBe(0);
    expect(await h.ctx.generation.undelivered()).toEqual([]);

    const grid = await h.character({ description: "kept", count: 2 });
    expect(grid.attachments).toHaveLength(2);
    expect(await used(h, "images")).toBe(2);

    before = refuseCallbacks(h);
    const regenerate = buttons(grid).find((b) => b.label === "Regenerate")?.custom_id as string;
    const press = h.sandbox.pressButton({ message: grid, customId: regenerate, user: ALICE });
    await failed(h, press, before);
    expect(await h.ctx.repos.generations.runningCount(ALICE.id)).toBe(0);
    expect(await used(h, "images")).toBe(2);

    // A restart resumes nothing that was given up: no prediction is made (or charged) for it later.
    await h.restart();
    expect(await h.ctx.generation.undelivered()).toEqual([]);
    expect(await used(h, "images")).toBe(2);
  });

  it("gives up /video the same way: nothing is recorded or charged", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "30" });
    const grid = await h.character({ description: "hero", count: 1 });
    await h.pick(grid, 1);
    const before = refuseCallbacks(h);
    const lost = h.sandbox.runCommand({ command: "video", options: { prompt: "walks" }, user: ALICE });
    await failed(h, lost, before);
    expect(await h.ctx.repos.videos.runningCount(ALICE.id)).toBe(0);
    expect(await used(h, "videos")).toBe(0);
    expect(await h.ctx.video.undelivered()).toEqual([]);

    const made = await h.settledReply(
      h.sandbox.runCommand({ command: "video", options: { prompt: "walks again" }, user: ALICE }),
      (m) => m.attachments.some((a) => a.filename.endsWith(".mp4")),
    );
    expect(made.attachments).toHaveLength(1);
    expect(await used(h, "videos")).toBe(1);
  });

  it("delivers to the channel, after a restart, a request recorded but never acknowledged", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "30" });
    // An interaction Discord sent and nobody answered: neither its reply nor the error reply got through.
    h.sandbox.injectFault({ method: "POST", path: CALLBACK, status: 503, times: 8 });
    const unanswered = h.sandbox.runCommand({ command: "usage", options: {}, user: ALICE });
    await h.sandbox.waitFor(
      () => h.logLines.some((l) => l.includes(unanswered.id) && l.includes("could not tell the user")),
      15_000,
      "both answers refused",
    );
    expect(unanswered.callback).toBeUndefined();
    // The bot recorded a request for it and died before acknowledging: the row is all that is left.
    const created = await h.ctx.generation.create({
      guildId: h.sandbox.guild.id,
      channelId: h.sandbox.channel.id,
      userId: ALICE.id,
      prompt: "recorded, never acknowledged",
      count: 1,
      aspectRatio: "1:1",
      interaction: {
        interactionId: unanswered.id,
        interactionToken: unanswered.token,
        applicationId: h.bot.client.application.id,
        locale: "en-US",
        publicLocale: "en-US",
      },
    });
    expect(created.ok).toBe(true);
    await h.restart();
    // There is no reply to edit (Discord answers Unknown Message), so the grid goes to the channel.
    const delivered = await h.sandbox.waitFor(
      () => h.sandbox.channelMessages().find((m) => m.content.includes("recorded, never acknowledged")),
      15_000,
      "the grid in the channel",
    );
    expect(delivered.content.startsWith(`<@${ALICE.id}>`)).toBe(true);
    expect(delivered.attachments).toHaveLength(1);
    await eventually(async () => (await h.ctx.generation.undelivered()).length === 0, 5000, "delivered");
  });

  it("does not post again a reply that a person deleted while it was being made", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "400" });
    const i = h.sandbox.runCommand({
      command: "character",
      options: { description: "shy ghost", count: 2 },
      user: ALICE,
    });
    const thinking = await h.sandbox.waitFor(() => h.sandbox.original(i), 5000, "the deferred reply");
    h.sandbox.deleteMessage(thinking.id);
    // The generation is recorded after the deferral: wait for its row before waiting for it to settle.
    await eventually(
      async () =>
        (await h.ctx.data.db
          .selectFrom("generations")
          .select("id")
          .where("interactionId", "=", i.id)
          .executeTakeFirst()) !== undefined,
      10_000,
      "the generation recorded",
    );
    await eventually(
      async () => (await h.ctx.generation.undelivered()).length === 0,
      10_000,
      "the generation settled",
    );
    expect(h.sandbox.channelMessages().filter((m) => m.content.includes("shy ghost"))).toEqual([]);
    // Nothing is lost: the images are kept and listed.
    expect((await h.ctx.references.listImages(ALICE.id, h.sandbox.guild.id, 1, 10)).total).toBe(2);
  });
});
