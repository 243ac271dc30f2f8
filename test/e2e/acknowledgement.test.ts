// A request whose acknowledgement Discord refuses never runs, costs nothing and does not lock the member out.
import { describe, expect, it } from "vitest";
import type { SandboxInteraction } from "../../src/sandbox/server.ts";
import { ALICE, buttons, e2eSuite, type Harness } from "../support/bot-harness.ts";

const suite = e2eSuite("acknowledgement");

/** The next callback is answered with a 503 each time the REST client sends it (once, then its 3 retries). */
const refuseCallbacks = (h: Harness) =>
  h.sandbox.injectFault({
    method: "POST",
    path: /^\/interactions\/\d+\/[^/]+\/callback$/,
    status: 503,
    times: 4,
  });

/** Waits until the router has given up on the interaction: the failure is logged with its id. */
const failed = (h: Harness, interaction: SandboxInteraction) =>
  h.sandbox.waitFor(
    () => h.logLines.some((l) => l.includes(interaction.id) && l.includes('"msg":"interaction failed"')),
    15_000,
    "the interaction's failure",
  );

const used = (h: Harness, kind: "images" | "videos") =>
  h.ctx.quota.report(ALICE.id, h.sandbox.guild.id).user[kind].used;

describe("a refused acknowledgement", () => {
  it("gives up /character and Regenerate: nothing runs, nothing is held, the next request is accepted", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "30" });
    refuseCallbacks(h);
    const lost = h.sandbox.runCommand({
      command: "character",
      options: { description: "lost", count: 3 },
      user: ALICE,
    });
    await failed(h, lost);
    expect(lost.callback).toBeUndefined();
    expect(h.ctx.repos.generations.runningCount(ALICE.id)).toBe(0);
    expect(used(h, "images")).toBe(0);
    expect(h.ctx.generation.undelivered()).toEqual([]);

    const grid = await h.character({ description: "kept", count: 2 });
    expect(grid.attachments).toHaveLength(2);
    expect(used(h, "images")).toBe(2);

    refuseCallbacks(h);
    const regenerate = buttons(grid).find((b) => b.label === "Regenerate")?.custom_id as string;
    const press = h.sandbox.pressButton({ message: grid, customId: regenerate, user: ALICE });
    await failed(h, press);
    expect(h.ctx.repos.generations.runningCount(ALICE.id)).toBe(0);
    expect(used(h, "images")).toBe(2);

    // A restart resumes nothing that was given up: no prediction is made (or charged) for it later.
    await h.restart();
    expect(h.ctx.generation.undelivered()).toEqual([]);
    expect(used(h, "images")).toBe(2);
  });

  it("gives up /video the same way and refunds it", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "30" });
    const grid = await h.character({ description: "hero", count: 1 });
    await h.pick(grid, 1);
    refuseCallbacks(h);
    const lost = h.sandbox.runCommand({ command: "video", options: { prompt: "walks" }, user: ALICE });
    await failed(h, lost);
    expect(h.ctx.repos.videos.runningCount(ALICE.id)).toBe(0);
    expect(used(h, "videos")).toBe(0);
    expect(h.ctx.video.undelivered()).toEqual([]);

    const made = await h.settledReply(
      h.sandbox.runCommand({ command: "video", options: { prompt: "walks again" }, user: ALICE }),
      (m) => m.attachments.some((a) => a.filename.endsWith(".mp4")),
    );
    expect(made.attachments).toHaveLength(1);
    expect(used(h, "videos")).toBe(1);
  });
});
