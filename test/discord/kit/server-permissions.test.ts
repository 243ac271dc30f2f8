// Server-wide actions (purge, deleting or reading another member's references, the library, the mod log,
// /settings) need the permission in the server: a channel's overwrite that grants it there is not enough.
import { describe, expect, it } from "vitest";
import { channelPermissions } from "../../../src/sandbox/guild.ts";
import { PERMISSIONS, type SandboxUser } from "../../../src/sandbox/server.ts";
import {
  ALICE,
  buttons,
  e2eSuite,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";

const suite = e2eSuite("server permissions");
const CLEO: SandboxUser = { id: "500000000000000011", username: "cleo" };
const RHEA: SandboxUser = { id: "500000000000000012", username: "rhea" };
const ADA: SandboxUser = { id: "500000000000000013", username: "ada" };

type Who = { user: SandboxUser; roles?: string[] };

const answer = (h: Harness, command: string, options: Record<string, string>, who: Who) =>
  h.settledReply(h.sandbox.runCommand({ command, options, user: who.user, roles: who.roles ?? [] }));

/** Alice's four images, one of them in the library as "Fox" (added by the moderator). */
async function aliceImages(h: Harness) {
  const view = await h.generationOf(await h.character({ description: "alice's fox", count: 4 }));
  const ids = (view?.images ?? []).map((i) => i.id);
  const [first] = ids;
  if (!first) throw new Error("no images");
  const added = await h.settledReply(
    h.sandbox.runCommand({
      command: "library add",
      options: { reference: first, name: "Fox" },
      user: MOD,
      permissions: MODERATOR_PERMISSIONS,
    }),
  );
  expect(added.content).toContain("Fox");
  return ids;
}

/** A purge prompt the moderator asked for, pressed as `who`; the reply to the press. */
async function pressPurge(h: Harness, who: Who) {
  const prompt = await h.settledReply(
    h.sandbox.runCommand({
      command: "moderation purge",
      options: { user: ALICE.id },
      user: MOD,
      permissions: MODERATOR_PERMISSIONS,
    }),
  );
  return h.sandbox.pressButton({
    message: prompt,
    customId: buttons(prompt)[0]?.custom_id as string,
    user: who.user,
    roles: who.roles ?? [],
  });
}

describe("server-wide actions", () => {
  it("are refused to a member with Manage Messages and Manage Server only through this channel's overwrite", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const ids = await aliceImages(h);
    const [first, second, third] = ids as [string, string, string];
    const channel = h.sandbox.channel.id;
    const granted = PERMISSIONS.MANAGE_MESSAGES | PERMISSIONS.MANAGE_GUILD;
    h.sandbox.setOverwrites(channel, [{ id: CLEO.id, type: "member", allow: granted }]);
    // What the interaction carries (discord.js's memberPermissions) holds both here; her roles grant neither.
    expect(channelPermissions(h.sandbox.guild, channel, CLEO.id, []) & granted).toBe(granted);
    await h.sandbox.waitFor(
      () => {
        const cached = h.bot.client.channels.cache.get(channel);
        return cached && "permissionOverwrites" in cached && cached.permissionOverwrites.cache.has(CLEO.id);
      },
      5000,
      "the bot to learn the overwrite",
    );
    const cleo = { user: CLEO };

    const refusals: Array<[string, Record<string, string>, string]> = [
      ["moderation purge", { user: ALICE.id }, "needs the Manage Messages permission"],
      ["moderation log", {}, "needs the Manage Messages permission"],
      ["settings view", {}, "needs the Manage Server permission"],
      ["reference list", { user: ALICE.id }, "Only moderators (Manage Messages) can list"],
      ["reference info", { id: second }, "that you can see"],
      ["reference show", { id: second }, "that you can see"],
      ["reference delete", { id: second }, "that you can see"],
      ["library add", { reference: third, name: "Vixen" }, "Only moderators (Manage Messages) and members"],
      ["library remove", { name: "Fox" }, "Only moderators (Manage Messages) and members"],
    ];
    for (const [command, options, expected] of refusals) {
      const refused = await answer(h, command, options, cleo);
      expect.soft(refused.visible_to, command).toBe(CLEO.id);
      expect.soft(refused.content, command).toContain(expected);
      expect.soft(refused.content, command).not.toContain("alice's fox");
    }
    const press = await h.settledReply(await pressPurge(h, cleo));
    expect.soft(press.content).toContain("needs the Manage Messages permission");

    expect((await h.ctx.references.listImages(ALICE.id, h.sandbox.guild.id, 1, 10)).total).toBe(4);
    expect((await h.ctx.library.show(h.sandbox.guild.id, "Fox")).imageId).toBe(first);
    expect(await h.ctx.repos.audit.recent(h.sandbox.guild.id, 10)).not.toContainEqual(
      expect.objectContaining({ actorId: CLEO.id }),
    );
  });

  it("are allowed to a member with Manage Messages through a server role, to an Administrator and to the owner", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const [, second, third] = (await aliceImages(h)) as [string, string, string];
    const moderator = { user: RHEA, roles: [h.sandbox.role("Moderators").id] };
    const admin = { user: ADA, roles: [h.sandbox.role("Administrators").id] };
    const owner = { user: { id: h.sandbox.guild.ownerId as string, username: "owner" } };

    expect((await answer(h, "reference list", { user: ALICE.id }, moderator)).content).toContain(second);
    expect((await answer(h, "reference info", { id: second }, moderator)).content).toContain("alice's fox");
    expect((await answer(h, "moderation log", {}, moderator)).content).toContain("Fox");
    const added = await answer(h, "library add", { reference: second, name: "Vixen" }, moderator);
    expect(added.content).toContain("Vixen");
    expect((await answer(h, "library remove", { name: "Vixen" }, admin)).content).toContain(
      "Removed `Vixen`",
    );
    expect((await answer(h, "settings view", {}, owner)).content).toContain("Settings for this server");
    expect((await answer(h, "settings view", {}, admin)).content).toContain("Settings for this server");
    expect((await answer(h, "moderation log", {}, owner)).content).toContain("Vixen");
    expect((await answer(h, "reference delete", { id: third }, admin)).content).toContain(
      "Deleted reference",
    );
    expect((await answer(h, "reference delete", { id: second }, owner)).content).toContain(
      "Deleted reference",
    );

    await pressPurge(h, moderator);
    await h.sandbox.waitFor(
      () => [...h.sandbox.messages.values()].some((m) => m.content.includes("Deleted 2 references")),
      5000,
      "the purge",
    );
    expect((await h.ctx.references.listImages(ALICE.id, h.sandbox.guild.id, 1, 10)).total).toBe(0);
    expect((await h.ctx.repos.audit.recent(h.sandbox.guild.id, 1))[0]).toMatchObject({
      action: "purge",
      actorId: RHEA.id,
    });
  });

  it("without the server in the gateway's cache, reads its roles over REST once a minute", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    await aliceImages(h);
    const guildId = h.sandbox.guild.id;
    h.sandbox.setOverwrites(h.sandbox.channel.id, [
      { id: CLEO.id, type: "member", allow: PERMISSIONS.MANAGE_MESSAGES },
    ]);
    // As with interactions over HTTP: the member's role ids and the server's id, and no cached server.
    h.bot.client.guilds.cache.delete(guildId);
    const moderator = { user: RHEA, roles: [h.sandbox.role("Moderators").id] };
    const owner = { user: { id: h.sandbox.guild.ownerId as string, username: "owner" } };

    // A server the bot cannot read grants nothing server-wide, and the failure is not kept.
    // discord.js tries a request that failed with 5xx three more times.
    h.sandbox.injectFault({ method: "GET", path: /^\/guilds\/\d+$/, status: 503, times: 4 });
    expect((await answer(h, "moderation log", {}, moderator)).content).toContain(
      "needs the Manage Messages permission",
    );
    expect(h.sandbox.requestLog.filter((r) => r.route === `/guilds/${guildId}`)).toHaveLength(4);
    expect((await answer(h, "moderation log", {}, { user: CLEO })).content).toContain(
      "needs the Manage Messages permission",
    );
    expect((await answer(h, "moderation log", {}, moderator)).content).toContain("Fox");
    expect((await answer(h, "moderation log", {}, owner)).content).toContain("Fox");
    const reads = h.sandbox.requestLog.filter((r) => r.route === `/guilds/${guildId}` && r.status === 200);
    expect(reads).toHaveLength(1);

    h.clock.advance(60_000);
    expect((await answer(h, "moderation log", {}, moderator)).content).toContain("Fox");
    expect(
      h.sandbox.requestLog.filter((r) => r.route === `/guilds/${guildId}` && r.status === 200),
    ).toHaveLength(2);

    // A refusal (the bot is not in the server) is kept for the minute: presses do not spend Discord's
    // invalid-request limit.
    h.clock.advance(60_000);
    h.sandbox.injectFault({ method: "GET", path: /^\/guilds\/\d+$/, status: 403, times: 1 });
    for (const _ of [1, 2]) {
      expect((await answer(h, "moderation log", {}, moderator)).content).toContain(
        "needs the Manage Messages permission",
      );
    }
    expect(
      h.sandbox.requestLog.filter((r) => r.route === `/guilds/${guildId}` && r.status === 403),
    ).toHaveLength(1);
    h.clock.advance(60_000);
    expect((await answer(h, "moderation log", {}, moderator)).content).toContain("Fox");
  });
});
