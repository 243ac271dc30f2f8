// What moderators read (the audit log, the mod-log channel) and what a member without the permission, or with
// a copied button, cannot do.
import { describe, expect, it } from "vitest";
import { ALICE, BOB, buttons, e2eSuite, MOD, MODERATOR_PERMISSIONS } from "../../support/bot-harness.ts";
import { aliceGrid, reply } from "./support.ts";

const suite = e2eSuite("moderation audit");

describe("the audit log and the mod-log channel", () => {
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
    expect((await set("blocklist-add", { entry: "dragon*" })).content).toContain(
      "blocklist entry added. Entry: `dragon*`",
    );
    expect((await set("safety", { level: "block_low_and_above" })).content).toContain(
      "safety filter set to block_low_and_above",
    );
    expect((await set("modlog", { channel: h.sandbox.channel.id })).content).toContain(
      `mod-log channel set to <#${h.sandbox.channel.id}>`,
    );
    const view = (await set("view", {})).content;
    for (const part of [
      "Images per day: 2 per member",
      "Blocklist (1): `dragon*`",
      "Safety filter: block_low_and_above",
      `Mod-log channel: <#${h.sandbox.channel.id}>`,
    ]) {
      expect(view).toContain(part);
    }

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
    const log = await reply(h, "moderation log", {}, MOD, MODERATOR_PERMISSIONS);
    expect(log.visible_to).toBe(MOD.id);
    const lines = log.content.split("\n");
    expect(lines).toHaveLength(6);
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
});

describe("who may do what", () => {
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
});
