import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  buttons,
  e2eSuite,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../support/bot-harness.ts";

const suite = e2eSuite("moderation");

const reply = (
  h: Harness,
  command: string,
  options: Record<string, string>,
  user = ALICE,
  permissions?: bigint,
) =>
  h.settledReply(h.sandbox.runCommand({ command, options, user, ...(permissions ? { permissions } : {}) }));

async function aliceGrid(h: Harness) {
  const grid = await h.grid(
    h.sandbox.runCommand({
      command: "character",
      options: { description: "alice's knight", count: 4 },
      user: ALICE,
    }),
  );
  const generationId = (buttons(grid)[0]?.custom_id ?? "").split(":")[2] as string;
  return { grid, view: h.ctx.generation.view(generationId) };
}

describe("moderator tools", () => {
  it("/reference delete: refused for another member, done by a moderator with an audit row, a mod-log post and an updated grid", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const guildId = h.sandbox.guild.id;
    h.ctx.repos.guildSettings.save(
      { ...h.ctx.repos.guildSettings.get(guildId), modLogChannelId: h.sandbox.channel.id },
      "setup",
      Date.now(),
    );
    const { grid, view } = await aliceGrid(h);
    const target = view?.images[1];
    if (!target?.fileName) throw new Error("no image");
    const file = `${h.dir.path}/images/${target.fileName}`;
    const slot2Button = buttons(grid)[1]?.custom_id as string; // the grid object follows later edits

    const refused = await reply(h, "reference delete", { id: target.id }, BOB);
    expect(refused.content).toContain("No reference");
    expect(existsSync(file)).toBe(true);

    const done = await reply(h, "reference delete", { id: target.id }, MOD, MODERATOR_PERMISSIONS);
    expect(done.visible_to).toBe(MOD.id);
    expect(done.content).toContain(`Deleted reference \`${target.id}\``);
    expect(existsSync(file)).toBe(false);
    expect(
      h.ctx.db.prepare("SELECT deleted_at IS NOT NULL AS gone FROM images WHERE id = ?").get(target.id),
    ).toEqual({ gone: 1 });
    expect(h.ctx.repos.audit.recent(guildId, 5)[0]).toMatchObject({
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
    const updated = await h.sandbox.waitFor(
      () => {
        const m = h.sandbox.messages.get(grid.id);
        return m && m.attachments.length === 3 ? m : undefined;
      },
      5000,
      "the grid without the deleted image",
    );
    expect(buttons(updated).map((b) => b.label)).toEqual(["1", "3", "4", "Regenerate"]);
    // The old button for it answers that it is gone; other references are untouched.
    const press = h.sandbox.pressButton({
      message: grid,
      customId: slot2Button,
      user: ALICE,
    });
    expect((await h.settledReply(press)).content).toContain("Image 2 is not available");
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
    h.ctx.repos.guildSettings.save(
      {
        ...h.ctx.repos.guildSettings.get(guildId),
        blocklist: ["gore"],
        modLogChannelId: h.sandbox.channel.id,
      },
      "setup",
      Date.now(),
    );
    await reply(h, "character", { description: "G0RE" });
    const post = await h.sandbox.waitFor(
      () => h.sandbox.channelMessages().find((m) => m.content.startsWith("🛡️")),
      5000,
      "mod-log post",
    );
    expect(post.content).toContain(`Blocked a /character description from <@${ALICE.id}>`);
    expect(post.content).not.toContain("G0RE");
  });
});
