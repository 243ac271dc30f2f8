// Deleting a reference, by its owner or a moderator: its files, the videos made from it, and every message
// that showed them, including work still running and edits left over from a stop.
import { afterEach, describe, expect, it } from "vitest";
import { openDataStore } from "../../../src/db/data-store.ts";
import { databaseSettings } from "../../../src/db/database.ts";
import {
  ALICE,
  BOB,
  BOT_TOKEN,
  buttons,
  e2eSuite,
  eventually,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";
import { engineEnv } from "../../support/env.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";
import { type ScriptProcess, spawnScript } from "../../support/spawn.ts";
import { aliceGrid, aliceVideo, gridWith, reply } from "./support.ts";

const suite = e2eSuite("reference deletion");
const replicate = replicateFixture();
let child: ScriptProcess | undefined;
afterEach(async () => {
  await child?.stop();
  child = undefined;
});

describe("deleting a reference", () => {
  it("/reference delete: refused for another member, done by a moderator with an audit row, a mod-log post and an updated grid", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const guildId = h.sandbox.guild.id;
    await h.ctx.repos.guildSettings.save(
      { ...(await h.ctx.repos.guildSettings.get(guildId)), modLogChannelId: h.sandbox.channel.id },
      "setup",
      Date.now(),
    );
    const { grid, view } = await aliceGrid(h);
    const target = view?.images[1];
    if (!target?.fileName) throw new Error("no image");
    const file = target.fileName;
    const slot2Button = buttons(grid)[1]?.custom_id as string; // the grid object follows later edits

    const refused = await reply(h, "reference delete", { id: target.id }, BOB);
    expect(refused.content).toContain("No reference");
    expect(await h.fileStored(file)).toBe(true);

    const done = await reply(h, "reference delete", { id: target.id }, MOD, MODERATOR_PERMISSIONS);
    expect(done.visible_to).toBe(MOD.id);
    expect(done.content).toContain(`Deleted reference \`${target.id}\``);
    expect(await h.fileStored(file)).toBe(false);
    expect((await h.ctx.references.imageRow(target.id))?.deletedAt).toEqual(expect.any(Number));
    expect((await h.ctx.repos.audit.recent(guildId, 5))[0]).toMatchObject({
      action: "reference_delete",
      actorId: MOD.id,
      targetUserId: ALICE.id,
      targetId: target.id,
      details: { byModerator: true },
    });
    const post = await h.sandbox.waitFor(
      () => h.sandbox.channelMessages().find((m) => m.content.startsWith("🛡️")),
      5000,
      "mod-log post",
    );
    expect(post.content).toContain(target.id);
    const updated = await gridWith(h, grid.id, 3);
    expect(buttons(updated).map((b) => b.label)).toEqual([
      "1",
      "3",
      "4",
      "Vary 1",
      "Vary 3",
      "Vary 4",
      "Regenerate",
      "Remix",
    ]);
    // The old button for it answers that it is gone; other references are untouched.
    const press = h.sandbox.pressButton({
      message: grid,
      customId: slot2Button,
      user: ALICE,
    });
    expect((await h.refusal(press)).content).toContain("Image 2 is not available");
    expect(
      (await reply(h, "reference show", { id: view?.images[0]?.id as string })).attachments,
    ).toHaveLength(1);
  });

  it("/reference delete by the owner, and /reference list user: for moderators only", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const { view } = await aliceGrid(h);
    const own = await reply(h, "reference delete", { id: view?.images[0]?.id as string });
    expect(own.content).toContain("Deleted reference");

    const refused = await reply(h, "reference list", { user: ALICE.id }, BOB);
    expect(refused.content).toContain("Only moderators");
    const listed = await reply(h, "reference list", { user: ALICE.id }, MOD, MODERATOR_PERMISSIONS);
    expect(listed.content).toContain(`References of <@${ALICE.id}>`);
    expect(listed.content).toContain("3 in all");
    expect(listed.content).not.toContain(view?.images[0]?.id as string);
  });

  it("deleting a reference deletes the videos made from it and edits the grid and the video's message", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const { grid, view, message, video } = await aliceVideo(h);
    const image = view.images[0] as NonNullable<(typeof view.images)[0]>;
    const videoFile = video.fileName as string;
    expect(await h.fileStored(videoFile)).toBe(true);

    const done = await reply(h, "reference delete", { id: image.id }, MOD, MODERATOR_PERMISSIONS);
    expect(done.content).toContain("and 1 video made from it");
    expect(await h.fileStored(image.fileName as string)).toBe(false);
    expect(await h.fileStored(videoFile)).toBe(false);
    expect(await h.ctx.video.get(video.id)).toMatchObject({ deletedBy: MOD.id, status: "succeeded" });
    expect(await h.ctx.repos.pendingDeletions.all()).toEqual([]);
    expect((await h.ctx.repos.audit.recent(h.sandbox.guild.id, 1))[0]?.details).toMatchObject({ videos: 1 });

    const videoMessage = await h.sandbox.waitFor(
      () => {
        const m = h.sandbox.messages.get(message.id);
        return m?.content.includes("removed by a moderator") ? m : undefined;
      },
      5000,
      "the video's message saying it was removed",
    );
    expect(videoMessage.attachments).toEqual([]);
    expect(videoMessage.content).toContain(video.id);
    expect(videoMessage.content).not.toContain("walks");
    const updated = await gridWith(h, grid.id, 3);
    expect(updated.content).toContain("Image 1: removed by a moderator.");
    expect(updated.content).not.toContain("Picked image 1");
    expect(buttons(updated).map((b) => b.label)).toEqual([
      "2",
      "3",
      "4",
      "Vary 2",
      "Vary 3",
      "Vary 4",
      "Regenerate",
      "Remix",
    ]);
    expect(updated.attachments.map((a) => a.filename)).toEqual([
      "character-2.png",
      "character-3.png",
      "character-4.png",
    ]);
  });

  it("a video still being made when its reference is deleted is never delivered, nor resumed after a restart", async () => {
    const fake = await replicate.start({
      behaviour: (input) => (String(input.prompt).includes("forever") ? { outcome: "never" } : {}),
    });
    const h = await suite.start(replicate.env);
    const { grid, view } = await aliceGrid(h);
    const image = view?.images[0];
    if (!image) throw new Error("no image");
    await h.pick(grid, 1);
    const command = h.sandbox.runCommand({
      command: "video",
      options: { prompt: "walks forever" },
      user: ALICE,
    });
    const running = await eventually(
      async () => (await h.ctx.video.forImage(image.id)).find((v) => v.status === "running" && v.messageId),
      10_000,
      "the video's prediction running, its progress shown",
    );
    const creates = fake.creates.length;

    await reply(h, "reference delete", { id: image.id }, MOD, MODERATOR_PERMISSIONS);
    expect(await h.ctx.video.get(running.id)).toMatchObject({
      status: "failed",
      deletedBy: MOD.id,
      errorMessage: "its reference was deleted",
    });
    await h.sandbox.waitFor(
      () => h.sandbox.original(command)?.content.includes("removed by a moderator"),
      5000,
      "the video's message saying it was removed",
    );

    await h.restart();
    const after = await h.ctx.video.get(running.id);
    expect(after?.deliveredAt).not.toBeNull();
    const message = h.sandbox.original(command);
    expect(message?.content).toContain(`Video \`${running.id}\``);
    expect(message?.content).toContain("removed by a moderator");
    expect(message?.attachments).toEqual([]);
    expect(fake.creates.length).toBe(creates);
    expect(await h.ctx.video.undelivered()).toEqual([]);
  });

  it("edits at the next start a grid whose deletion committed before the bot stopped", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const { grid, view } = await aliceGrid(h);
    const image = view?.images[1];
    const lookup = await h.ctx.references.getImage(image?.id ?? "", {
      userId: MOD.id,
      guildId: h.sandbox.guild.id,
      canModerate: true,
    });
    if (!view || !lookup.ok) throw new Error("no image");
    // The deletion commits (rows, files, the scheduled edit); the bot stops before it edits any message.
    await h.ctx.moderation.deleteReference(lookup.image, { userId: MOD.id, guildId: h.sandbox.guild.id });
    expect(await h.ctx.repos.pendingMessageEdits.all()).toEqual([
      { kind: "grid", jobId: view.generation.id },
    ]);
    await h.bot.stop();
    expect(h.sandbox.messages.get(grid.id)?.attachments).toHaveLength(4);
    // The test reads the database the other process writes through a store of its own, opened (and so
    // migrated, a write) while nothing else writes to it: afterwards the test only reads.
    const store = await openDataStore(databaseSettings(h.ctx.config));
    try {
      // `npm start` on the same data directory.
      child = spawnScript("src/index.ts", {
        ...engineEnv(h.dir.path),
        DISCORD_TOKEN: BOT_TOKEN,
        DISCORD_API_URL: h.sandbox.apiUrl,
        DATA_DIR: h.dir.path,
        IMAGE_PROVIDER: "mock",
        LOG_LEVEL: "info",
      });
      const updated = await gridWith(
        h,
        grid.id,
        3,
        20_000,
        `, edited by the restarted bot:\n${child.output()}`,
      );
      expect(updated.content).toContain("Image 2: removed by a moderator.");
      expect(buttons(updated).map((b) => b.label)).toEqual([
        "1",
        "3",
        "4",
        "Vary 1",
        "Vary 3",
        "Vary 4",
        "Regenerate",
        "Remix",
      ]);
      // Read through a repository on the database the other process writes.
      await eventually(
        async () => (await store.repos.pendingMessageEdits.all()).length === 0,
        5000,
        "the pending edit cleared",
      );
    } finally {
      await store.close();
    }
    expect(child.output()).not.toContain(BOT_TOKEN);
  });
});
