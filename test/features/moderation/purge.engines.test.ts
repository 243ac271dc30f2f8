// /moderation purge: a member's references deleted only after a moderator confirms, the ones still being made
// included, and the messages that showed them edited even after their interactions expired.
import { describe, expect, it } from "vitest";
import { ALICE, BOB, buttons, e2eSuite, MOD, MODERATOR_PERMISSIONS } from "../../support/bot-harness.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";
import { aliceGrid, aliceVideo, confirmPurge, reply } from "./support.ts";

const suite = e2eSuite("purge");
const replicate = replicateFixture();

describe("/moderation purge", () => {
  it("purges a member's references only after a moderator confirms", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const { view } = await aliceGrid(h);
    const files = (view?.images ?? []).map((i) => i.fileName as string);
    const stored = () => Promise.all(files.map((f) => h.fileStored(f)));
    const ask = () =>
      h.settledReply(
        h.sandbox.runCommand({
          command: "moderation purge",
          options: { user: ALICE.id },
          user: MOD,
          permissions: MODERATOR_PERMISSIONS,
        }),
      );

    let prompt = await ask();
    expect(prompt.visible_to).toBe(MOD.id);
    expect(prompt.content).toContain("Delete all 4 references");
    expect((await stored()).every(Boolean)).toBe(true);
    const [confirm, cancel] = buttons(prompt);
    expect(confirm?.style).toBe(4);
    await h.sandbox.waitFor(
      () =>
        h.sandbox.pressButton({
          message: prompt,
          customId: cancel?.custom_id as string,
          user: MOD,
          permissions: MODERATOR_PERMISSIONS,
        }).id,
      1000,
      "cancel",
    );
    await h.sandbox.waitFor(
      () => h.sandbox.messages.get(prompt.id)?.content.includes("Cancelled") || undefined,
      5000,
      "cancelled",
    );
    expect((await stored()).every(Boolean)).toBe(true);

    prompt = await ask();
    const forged = h.sandbox.pressButton({
      message: prompt,
      customId: buttons(prompt)[0]?.custom_id as string,
      user: BOB,
    });
    expect((await h.settledReply(forged)).content).toContain("needs the Manage Messages permission");
    expect((await stored()).every(Boolean)).toBe(true);

    await confirmPurge(h, prompt, 4);
    expect((await stored()).some(Boolean)).toBe(false);
    expect((await h.ctx.repos.audit.recent(h.sandbox.guild.id, 5))[0]).toMatchObject({
      action: "purge",
      actorId: MOD.id,
      targetUserId: ALICE.id,
      details: { deleted: 4 },
    });
    expect((await h.ctx.references.listImages(ALICE.id, h.sandbox.guild.id, 1, 10)).total).toBe(0);
  });

  it("a purge also takes the images still being made: they land discarded, never shown", async () => {
    const fake = await replicate.start();
    const h = await suite.start(replicate.env);
    await h.character({ description: "done knight", count: 2 });
    fake.holdResults();
    const running = h.sandbox.runCommand({
      command: "character",
      options: { description: "knight in the making", count: 2 },
      user: ALICE,
    });
    await h.sandbox.waitFor(() => fake.creates.length === 4, 5000, "both slots created");
    const [making] = await h.ctx.generation.undelivered();
    const prompt = await reply(h, "moderation purge", { user: ALICE.id }, MOD, MODERATOR_PERMISSIONS);
    await confirmPurge(h, prompt, 2);
    fake.releaseResults();
    const grid = await h.settledReply(running, (m) => m.content.includes("removed by a moderator"));
    expect(grid.attachments).toEqual([]);
    await h.delivered(making?.id ?? "");
    const images = (await h.ctx.generation.view(making?.id ?? ""))?.images ?? [];
    expect(images).toHaveLength(2);
    expect(images.every((i) => i.deletedAt !== null)).toBe(true);
    for (const image of images) expect(await h.fileStored(`${image.id}.png`)).toBe(false);
    expect((await h.ctx.references.listImages(ALICE.id, h.sandbox.guild.id, 1, 10)).total).toBe(0);
  });

  it("after the 15-minute window a purge edits the grid and the video's message over the bot token", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const { grid, view, gridCommand, videoCommand, message, video } = await aliceVideo(h);
    // 20 minutes pass for the bot: both interactions' webhooks no longer take edits, as on Discord.
    h.clock.advance(20 * 60 * 1000);
    h.sandbox.expireInteraction(gridCommand);
    h.sandbox.expireInteraction(videoCommand);

    const prompt = await h.settledReply(
      h.sandbox.runCommand({
        command: "moderation purge",
        options: { user: ALICE.id },
        user: MOD,
        permissions: MODERATOR_PERMISSIONS,
      }),
    );
    h.sandbox.pressButton({
      message: prompt,
      customId: buttons(prompt)[0]?.custom_id as string,
      user: MOD,
      permissions: MODERATOR_PERMISSIONS,
    });
    const confirmed = await h.sandbox.waitFor(
      () =>
        h.sandbox.messages.get(prompt.id)?.content.includes("Deleted 4 references") &&
        h.sandbox.messages.get(prompt.id),
      5000,
      "purged",
    );
    expect(confirmed?.content).toContain("and 1 video made from them");

    const channel = h.sandbox.channel.id;
    const edits = h.sandbox.requestLog.filter((r) => r.method === "PATCH" && r.status === 200);
    expect(edits.map((r) => r.route)).toEqual(
      expect.arrayContaining([
        `/channels/${channel}/messages/${grid.id}`,
        `/channels/${channel}/messages/${message.id}`,
      ]),
    );
    const gridNow = h.sandbox.messages.get(grid.id);
    expect(gridNow?.content).toContain("removed by a moderator");
    expect(gridNow?.content).not.toContain("alice's knight");
    expect(gridNow?.attachments).toEqual([]);
    expect(gridNow?.components).toEqual([]);
    const videoNow = h.sandbox.messages.get(message.id);
    expect(videoNow?.content).toContain(`Video \`${video.id}\``);
    expect(videoNow?.attachments).toEqual([]);
    for (const image of view.images) expect(await h.fileStored(image.fileName as string)).toBe(false);
    expect(await h.fileStored(video.fileName as string)).toBe(false);
  });
});
