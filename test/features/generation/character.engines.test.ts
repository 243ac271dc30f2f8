import { createHash } from "node:crypto";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { ALICE, BOB, buttons, e2eSuite } from "../../support/bot-harness.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";

const suite = e2eSuite("character");
const replicate = replicateFixture();

describe("/character", () => {
  it("defers first, edits as images land, then shows the grid; the requester's pick is recorded and marked", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "400" });
    const i = h.sandbox.runCommand({
      command: "character",
      options: { description: "silver robot with blue eyes", aspect_ratio: "3:4" },
      user: ALICE,
    });
    // The first thing the bot sends for the interaction is the deferral.
    const first = await h.sandbox.waitFor(
      () => h.sandbox.requestLog.find((r) => r.route.includes(i.id)),
      5000,
      "defer",
    );
    expect(first.route).toBe(`/interactions/${i.id}/${i.token}/callback`);
    expect(i.callback?.type).toBe(5);

    const message = await h.grid(i);
    expect(message.attachments.map((a) => a.filename)).toEqual([1, 2, 3, 4].map((n) => `character-${n}.png`));
    for (const a of message.attachments) expect((await sharp(a.data).metadata()).height).toBe(1184);
    expect(buttons(message).map((b) => b.label)).toEqual([
      "1",
      "2",
      "3",
      "4",
      "Vary 1",
      "Vary 2",
      "Vary 3",
      "Vary 4",
      "Regenerate",
      "Remix",
    ]);
    expect(message.content).toContain("silver robot with blue eyes");
    expect(message.content).toContain(`<@${ALICE.id}>`);

    const press = h.sandbox.pressButton({
      message,
      customId: buttons(message)[1]?.custom_id as string,
      user: ALICE,
    });
    const confirmation = await h.followUp(press);
    // The press is acknowledged before anything is read (a deferred update), then the grid is edited.
    expect(press.callback?.type).toBe(6);
    expect(confirmation.visible_to).toBe(ALICE.id);
    const picked = await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id);
    expect(picked?.image.slot).toBe(2);
    expect(confirmation.content).toContain(picked?.image.id);
    expect(confirmation.content).toContain("/video");
    const updated = h.sandbox.messages.get(message.id);
    // The picked number turns green; the Vary row and Regenerate stay grey.
    expect(buttons(updated ?? message).map((b) => b.style)).toEqual([2, 3, 2, 2, 2, 2, 2, 2, 2, 2]);
    // Images already posted are kept, not uploaded again.
    expect(updated?.attachments.map((a) => a.id)).toEqual(message.attachments.map((a) => a.id));

    // The pick can be changed.
    const again = h.sandbox.pressButton({
      message,
      customId: buttons(message)[3]?.custom_id as string,
      user: ALICE,
    });
    await h.followUp(again);
    expect((await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id))?.image.slot).toBe(4);
    expect(buttons(h.sandbox.messages.get(message.id) ?? message).map((b) => b.style)).toEqual([
      2, 2, 2, 3, 2, 2, 2, 2, 2, 2,
    ]);
  });

  it("refuses a stranger's press ephemerally and changes nothing", async () => {
    const h = await suite.start();
    const message = await h.character({ description: "a knight", count: 2 });
    const before = JSON.stringify(message.components);
    for (const customId of [
      buttons(message)[0]?.custom_id,
      buttons(message).find((b) => b.label === "Regenerate")?.custom_id,
    ] as string[]) {
      const press = h.sandbox.pressButton({ message, customId, user: BOB });
      const refusal = await h.refusal(press);
      expect(refusal.visible_to).toBe(BOB.id);
      expect(refusal.content).toContain(`Only <@${ALICE.id}>`);
    }
    expect(JSON.stringify(h.sandbox.messages.get(message.id)?.components)).toBe(before);
    expect(await h.ctx.references.currentSelection(BOB.id, h.sandbox.guild.id)).toBeUndefined();
    expect(await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id)).toBeUndefined();
  });

  it("shows a partial failure: buttons only for the images that exist, and why the other failed", async () => {
    const h = await suite.start();
    const message = await h.character({ description: "a dragon [mock:safety_blocked:3]" });
    expect(message.attachments).toHaveLength(3);
    expect(buttons(message).map((b) => b.label)).toEqual([
      "1",
      "2",
      "4",
      "Vary 1",
      "Vary 2",
      "Vary 4",
      "Regenerate",
      "Remix",
    ]);
    expect(message.content).toContain("Image 3: blocked by the model's safety filter");
  });

  it("says clearly when every image failed, with no select buttons", async () => {
    const h = await suite.start();
    const message = await h.character({ description: "x [mock:provider_error]", count: 2 });
    expect(message.attachments).toEqual([]);
    expect(buttons(message).map((b) => b.label)).toEqual(["Regenerate", "Remix"]);
    expect(message.content).toContain("No image could be made");
    expect(message.content).toContain("Image 1: the image service failed");
    expect(message.content).toContain("Image 2: the image service failed");
  });

  it("sends previews under the upload limit when the originals are too large, keeping the originals", async () => {
    const noise = await sharp(
      Buffer.from(Array.from({ length: 1024 * 1024 * 3 }, (_, k) => (k * 7919) % 251)),
      {
        raw: { width: 1024, height: 1024, channels: 3 },
      },
    )
      .png({ compressionLevel: 0 })
      .toBuffer();
    await replicate.start({ outputImage: noise });
    const h = await suite.start(replicate.env);
    const limit = 2 * 1024 * 1024;
    const i = h.sandbox.runCommand({
      command: "character",
      options: { description: "noisy", count: 4 },
      user: ALICE,
      attachmentSizeLimit: limit,
    });
    const message = await h.grid(i);
    expect(noise.length * 4).toBeGreaterThan(limit);
    expect(message.attachments.map((a) => a.filename)).toEqual(
      [1, 2, 3, 4].map((n) => `character-${n}-preview.jpg`),
    );
    expect(message.attachments.reduce((sum, a) => sum + a.size, 0)).toBeLessThan(limit);
    expect(message.content).toContain("previews");
    const rows = (await h.generationOf(message)).images;
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      // Read back from where the bot keeps its files (DATA_DIR, or the bucket).
      const stored = await h.ctx.files.read(row.fileName as string);
      expect(stored.length).toBe(noise.length);
      expect(createHash("sha256").update(stored).digest("hex")).toBe(row.sha256);
    }
  });

  it("Regenerate makes a new generation with the same parameters, for the requester only", async () => {
    const h = await suite.start();
    const message = await h.character({ description: "a bard", count: 2, aspect_ratio: "16:9" });
    const regenerate = buttons(message).find((b) => b.label === "Regenerate")?.custom_id as string;
    const press = h.sandbox.pressButton({ message, customId: regenerate, user: ALICE });
    const second = await h.grid(press);
    expect(second.id).not.toBe(message.id);
    expect(second.attachments).toHaveLength(2);
    const [first, again] = (await Promise.all([message, second].map((m) => h.generationOf(m)))).map(
      (v) => v.generation,
    );
    expect(again?.id).not.toBe(first?.id);
    for (const g of [first, again]) {
      expect(g).toMatchObject({ prompt: "a bard", requested: 2, params: { aspectRatio: "16:9" } });
    }
  });

  it("rejects an empty description before doing anything", async () => {
    const h = await suite.start();
    const i = h.sandbox.runCommand({
      command: "character",
      options: { description: " \u200b\u0007 " },
      user: ALICE,
    });
    const reply = await h.sandbox.waitFor(() => h.sandbox.original(i), 5000, "reply");
    expect(reply.visible_to).toBe(ALICE.id);
    expect(reply.content).toContain("The description is empty");
    expect(await h.recordedRows("generations")).toBe(0);
  });

  it("still delivers the grid when Discord answers an edit with 429 or 500", async () => {
    const h = await suite.start();
    h.sandbox.injectFault({
      method: "PATCH",
      path: /messages\/@original$/,
      status: 429,
      retryAfterSeconds: 0.3,
    });
    h.sandbox.injectFault({ method: "PATCH", path: /messages\/@original$/, status: 500 });
    const message = await h.character({ description: "resilient", count: 1 });
    expect(message.attachments).toHaveLength(1);
    expect(h.sandbox.requestLog.filter((r) => r.status === 429 || r.status === 500)).toHaveLength(2);
  });
});
