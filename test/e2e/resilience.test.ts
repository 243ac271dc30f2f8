import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { ALICE, BOB, buttons, e2eSuite } from "../support/bot-harness.ts";

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
      const answer = await h.sandbox.waitFor(
        () => h.sandbox.original(press) ?? h.sandbox.followUps(press)[0],
        5000,
        customId,
      );
      expect(answer.visible_to).toBe(ALICE.id);
      expect(answer.content).toMatch(/⚠️/);
      expect(answer.content).not.toMatch(/at \w+ \(|Error:/); // no stack trace
    }
    expect(h.ctx.db.prepare("SELECT count(*) AS n FROM selections").get()).toEqual({ n: 0 });
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
    expect(h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id)?.image.slot).toBe(3);
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
    const harness = h;
    const running = h.sandbox.runCommand({
      command: "character",
      options: { description: "interrupted", count: 2 },
      user: ALICE,
    });
    await h.sandbox.waitFor(() => running.callback, 5000, "defer");
    await h.sandbox.waitFor(
      () =>
        (
          harness.ctx.db
            .prepare("SELECT count(*) AS n FROM images WHERE prediction_id IS NOT NULL")
            .get() as {
            n: number;
          }
        ).n === 2,
      5000,
      "predictions started",
    );
    await h.bot.stop();
    const message = h.sandbox.original(running);
    expect(message?.content).toContain("The bot is restarting");
    expect(h.ctx.db.open).toBe(false);
    const db = new Database(`${h.dir.path}/bot.sqlite`, { readonly: true });
    const rows = db.prepare("SELECT status, prediction_id FROM images").all() as Array<{ status: string }>;
    db.close();
    expect(rows.map((r) => r.status)).toEqual(["running", "running"]); // resumable, not failed
    await h.restart(); // the harness's close() stops the new bot
  });
});
