import { describe, expect, it } from "vitest";
import { openDataStore } from "../../src/db/data-store.ts";
import { databaseSettings } from "../../src/db/database.ts";
import { ALICE, BOB, buttons, e2eSuite, eventually } from "../support/bot-harness.ts";

const suite = e2eSuite("resilience");

describe("resilience", () => {
  it("answers forged and malformed custom_ids with an ephemeral error and keeps serving", async () => {
    const h = await suite.start();
    const message = await h.character({ description: "target", count: 1 });
    const forged = [
      "gen:pick:../../etc/passwd:1",
      "gen:pick:1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed:1",
      "gen:pick:1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed:9",
      "gen:again:nope",
      "ref:page:123:1",
      `ref:page:${BOB.id}:1`,
      "",
      "x".repeat(100),
      "gen:pick",
    ];
    for (const customId of forged) {
      const press = h.sandbox.pressButton({ message, customId, user: ALICE });
      // A reply of its own, or (after a pick's deferred update, whose @original is the grid) a follow-up.
      const answer = await h.sandbox.waitFor(
        () =>
          h.sandbox.followUps(press)[0] ??
          (press.originalMessageId !== message.id ? h.sandbox.original(press) : undefined),
        5000,
        customId,
      );
      expect(answer.visible_to).toBe(ALICE.id);
      expect(answer.content).toMatch(/⚠️/);
      expect(answer.content).not.toMatch(/at \w+ \(|Error:/); // no stack trace
    }
    expect(await h.recordedRows("selections")).toBe(0);
    const still = await h.character({ description: "still here", count: 1 });
    expect(still.attachments).toHaveLength(1);
  });

  it("records a pick made after the bot restarted between the grid and the press", async () => {
    const h = await suite.start();
    const message = await h.character({ description: "durable" });
    await h.restart();
    await h.sandbox.waitFor(() => h.sandbox.connected, 10_000, "reconnect");
    const press = h.sandbox.pressButton({
      message,
      customId: buttons(message)[2]?.custom_id as string,
      user: ALICE,
    });
    const confirmation = await h.followUp(press);
    expect(confirmation.content).toContain("Picked image 3");
    expect((await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id))?.image.slot).toBe(3);
    expect(buttons(h.sandbox.messages.get(message.id) ?? message)[2]?.style).toBe(3);
  });

  it("resumes its gateway session after the connection drops, and after a RECONNECT request", async () => {
    const h = await suite.start();
    h.sandbox.dropConnections();
    const first = h.sandbox.runCommand({
      command: "character",
      options: { description: "after a drop", count: 1 },
      user: ALICE,
    });
    expect((await h.grid(first)).attachments).toHaveLength(1);
    h.sandbox.requestReconnect();
    const second = h.sandbox.runCommand({
      command: "character",
      options: { description: "after reconnect", count: 1 },
      user: ALICE,
    });
    expect((await h.grid(second)).attachments).toHaveLength(1);
  });

  it("on shutdown, tells the user their images come later and leaves the predictions resumable", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "3000" });
    const running = h.sandbox.runCommand({
      command: "character",
      options: { description: "interrupted", count: 2 },
      user: ALICE,
    });
    await h.sandbox.waitFor(() => running.callback, 5000, "defer");
    // The generation is recorded just after the deferral.
    const [generation] = await eventually(
      async () => {
        const undelivered = await h.ctx.generation.undelivered();
        return undelivered.length > 0 && undelivered;
      },
      5000,
      "the generation recorded",
    );
    if (!generation) throw new Error("no generation recorded");
    await eventually(
      async () => (await h.ctx.generation.view(generation.id))?.images.every((i) => i.predictionId !== null),
      5000,
      "predictions started",
    );
    await h.bot.stop();
    const message = h.sandbox.original(running);
    expect(message?.content).toContain("The bot is restarting");
    // The stopped bot's database is closed: its store takes no more queries.
    await expect(h.ctx.data.db.selectFrom("images").select("id").execute()).rejects.toThrow(
      "driver has already been destroyed",
    );
    // Read back through a repository on the closed bot's database.
    const store = await openDataStore(databaseSettings(h.ctx.config));
    const rows = await store.repos.images.forGeneration(generation.id).finally(() => store.close());
    expect(rows.map((r) => r.status)).toEqual(["running", "running"]); // resumable, not failed
    await h.restart(); // the harness's close() stops the new bot
  });
});
