import { afterEach, describe, expect, it } from "vitest";
import { openDataStore } from "../../../src/db/data-store.ts";
import { databaseSettings } from "../../../src/db/database.ts";
import type { StoredMessage } from "../../../src/sandbox/server.ts";
import {
  ALICE,
  BOB,
  BOT_TOKEN,
  buttons,
  e2eSuite,
  eventually,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";
import { engineEnv } from "../../support/env.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";
import { type ScriptProcess, spawnScript } from "../../support/spawn.ts";

const suite = e2eSuite("moderation");
const replicate = replicateFixture();
let child: ScriptProcess | undefined;
afterEach(async () => {
  await child?.stop();
  child = undefined;
});

const reply = (
  h: Harness,
  command: string,
  options: Record<string, string>,
  user = ALICE,
  permissions?: bigint,
) =>
  h.settledReply(h.sandbox.runCommand({ command, options, user, ...(permissions ? { permissions } : {}) }));

async function aliceGrid(h: Harness) {
  const grid = await h.character({ description: "alice's knight", count: 4 });
  return { grid, view: await h.generationOf(grid) };
}

/** Presses the purge confirmation as the moderator and waits until it says how many were deleted. */
async function confirmPurge(h: Harness, prompt: StoredMessage, deleted: number) {
  h.sandbox.pressButton({
    message: prompt,
    customId: buttons(prompt)[0]?.custom_id as string,
    user: MOD,
    permissions: MODERATOR_PERMISSIONS,
  });
  await h.sandbox.waitFor(
    () => h.sandbox.messages.get(prompt.id)?.content.includes(`Deleted ${deleted} references`) || undefined,
    5000,
    "purged",
  );
}

/** Waits until the grid message holds `images` attachments: the bot edited it after a deletion. */
const gridWith = (h: Harness, messageId: string, images: number, timeoutMs = 5000, what = "") =>
  h.sandbox.waitFor(
    () => {
      const m = h.sandbox.messages.get(messageId);
      return m && m.attachments.length === images ? m : undefined;
    },
    timeoutMs,
    `the grid without the deleted image${what}`,
  );

/** Alice's grid, her pick of image 1 and a video made from it, with the interactions that made them. */
async function aliceVideo(h: Harness) {
  const gridCommand = h.sandbox.runCommand({
    command: "character",
    options: { description: "alice's knight", count: 4 },
    user: ALICE,
  });
  const grid = await h.grid(gridCommand);
  const view = await h.generationOf(grid);
  await h.pick(grid, 1);
  const videoCommand = h.sandbox.runCommand({ command: "video", options: { prompt: "walks" }, user: ALICE });
  const message = await h.settledReply(videoCommand, (m) => m.attachments.length === 1);
  const video = (await h.ctx.video.forImage(view?.images[0]?.id as string))[0];
  if (!video?.fileName || !view) throw new Error("no video");
  return { grid, view, gridCommand, videoCommand, message, video };
}

describe("moderator tools", () => {
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

  it("posts a blocked prompt to the mod-log channel", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const guildId = h.sandbox.guild.id;
    await h.ctx.repos.guildSettings.save(
      {
        ...(await h.ctx.repos.guildSettings.get(guildId)),
        blocklist: ["gore"],
        modLogChannelId: h.sandbox.channel.id,
      },
      "setup",
      Date.now(),
    );
    await h.refusal(
      h.sandbox.runCommand({ command: "character", options: { description: "G0RE" }, user: ALICE }),
    );
    const post = await h.sandbox.waitFor(
      () => h.sandbox.channelMessages().find((m) => m.content.startsWith("🛡️")),
      5000,
      "mod-log post",
    );
    expect(post.content).toContain(`Blocked a /character description from <@${ALICE.id}>`);
    expect(post.content).not.toContain("G0RE");
  });

  it("refuses every moderator command to a member without the permission", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const manageMessagesOnly = MODERATOR_PERMISSIONS; // moderates references, but not the server's settings
    const attempts: Array<[string, Record<string, string | number>, bigint | undefined, string]> = [
      ["moderation purge", { user: ALICE.id }, undefined, "needs the Manage Messages permission"],
      ["moderation log", {}, undefined, "needs the Manage Messages permission"],
      ["settings view", {}, undefined, "needs the Manage Server permission"],
      [
        "settings allowance",
        { kind: "images", scope: "member", per_day: 100 },
        undefined,
        "needs the Manage Server permission",
      ],
      ["settings blocklist-add", { entry: "x" }, undefined, "needs the Manage Server permission"],
      [
        "settings safety",
        { level: "block_only_high" },
        manageMessagesOnly,
        "needs the Manage Server permission",
      ],
      ["settings modlog", {}, manageMessagesOnly, "needs the Manage Server permission"],
    ];
    for (const [command, options, permissions, expected] of attempts) {
      const answer = await h.settledReply(
        h.sandbox.runCommand({ command, options, user: BOB, ...(permissions ? { permissions } : {}) }),
      );
      expect(answer.visible_to, command).toBe(BOB.id);
      expect(answer.content, command).toContain(expected);
    }
    expect(await h.ctx.repos.audit.recent(h.sandbox.guild.id, 10)).toEqual([]);
    expect((await h.ctx.repos.guildSettings.get(h.sandbox.guild.id)).blocklist).toEqual([]);
  });

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

  it("/settings changes allowances, the blocklist, the safety level and the mod-log channel, each audited", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const admin = MODERATOR_PERMISSIONS | (1n << 5n);
    const set = (sub: string, options: Record<string, string | number>) =>
      h.settledReply(
        h.sandbox.runCommand({ command: `settings ${sub}`, options, user: MOD, permissions: admin }),
      );
    expect((await set("allowance", { kind: "images", scope: "member", per_day: 2 })).content).toContain(
      "images per member allowance set to 2 a day",
    );
    expect((await set("blocklist-add", { entry: "dragon*" })).content).toContain("Blocklist (1): `dragon*`");
    expect((await set("safety", { level: "block_low_and_above" })).content).toContain(
      "Safety filter: block_low_and_above",
    );
    expect((await set("modlog", { channel: h.sandbox.channel.id })).content).toContain(
      `Mod-log channel: <#${h.sandbox.channel.id}>`,
    );

    const tooMany = await h.refusal(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "knight", count: 4 },
        user: ALICE,
      }),
    );
    expect(tooMany.content).toContain("Your daily allowance of 2 images");
    const blocked = await h.refusal(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "a DRAG0NS lair", count: 1 },
        user: ALICE,
      }),
    );
    expect(blocked.content).toContain("not allowed");
    const knight = await h.character({ description: "knight", count: 1 });
    expect((await h.generationOf(knight)).generation.params).toEqual({
      aspectRatio: "1:1",
      safetyFilterLevel: "block_low_and_above",
    });

    const actions = (await h.ctx.repos.audit.recent(h.sandbox.guild.id, 10)).map((a) => a.action);
    expect(actions).toEqual([
      "prompt_blocked",
      "settings_modlog",
      "settings_safety",
      "settings_blocklist-add",
      "settings_allowance",
    ]);
    // Moderators read the same record with /moderation log, newest first, the blocked prompt's text included.
    const log = await reply(h, "moderation log", { count: "3" }, MOD, MODERATOR_PERMISSIONS);
    expect(log.visible_to).toBe(MOD.id);
    const lines = log.content.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(
      /^<t:\d+:R> The bot blocked a \/character prompt of <@\d+> \(entry `dragon\*`\): “a DRAG0NS lair”$/,
    );
    expect(lines[2]).toContain(`<@${MOD.id}> changed the settings: mod-log channel set to`);
    expect(lines[3]).toContain("changed the settings: safety filter set to block_low_and_above");
    expect(
      h.sandbox.channelMessages().filter((m) => m.content.startsWith("🛡️")).length,
    ).toBeGreaterThanOrEqual(2);
    expect((await set("allowance", { kind: "images", scope: "member" })).content).toContain(
      "back to the default",
    );
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
    ]);
    expect(updated.attachments.map((a) => a.filename)).toEqual([
      "character-2.png",
      "character-3.png",
      "character-4.png",
    ]);
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

  it("honours a pick only on the generation's own message: a copied button elsewhere is refused", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const first = await aliceGrid(h);
    const second = await aliceGrid(h);
    const copied = buttons(first.grid)[2]?.custom_id as string;

    for (const elsewhere of [second.grid, await reply(h, "reference list", {})]) {
      const press = h.sandbox.pressButton({ message: elsewhere, customId: copied, user: ALICE });
      const refusal = await h.refusal(press);
      expect(refusal.visible_to).toBe(ALICE.id);
      expect(refusal.content).toContain("not on the grid it belongs to");
      expect(await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id)).toBeUndefined();
    }
    expect(h.sandbox.messages.get(second.grid.id)?.content).not.toContain("Picked");

    const own = h.sandbox.pressButton({ message: first.grid, customId: copied, user: ALICE });
    expect((await h.followUp(own)).content).toContain("Picked image 3");
    expect((await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id))?.image.id).toBe(
      first.view?.images[2]?.id,
    );
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
