// A member spamming blocked prompts floods neither the audit log nor the mod-log channel, and a moderator's
// action stays findable in /moderation log (filters, ◀ ▶ pages) however many blocked prompts follow it.
import { describe, expect, it } from "vitest";
import type { SandboxUser } from "../../../src/sandbox/types.ts";
import {
  ALICE,
  BOB,
  buttons,
  e2eSuite,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";
import { aliceGrid, confirmPurge, reply } from "./support.ts";

const suite = e2eSuite("audit flood");

/** Blocks "gore" and posts to the sandbox's channel as the mod log. */
async function blockGore(h: Harness) {
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
}

/** Sends blocked /character prompts all at once, one per entry, and waits for every refusal. */
async function spam(h: Harness, prompts: Array<{ user: SandboxUser; description: string }>) {
  const sent = prompts.map(({ user, description }) =>
    h.sandbox.runCommand({ command: "character", options: { description }, user }),
  );
  for (const refused of await Promise.all(sent.map((i) => h.refusal(i)))) {
    expect(refused.content).toContain("That description is not allowed in this server");
  }
}

const modLogPosts = (h: Harness) => h.sandbox.channelMessages().filter((m) => m.content.startsWith("🛡️"));

/** Thirty members, each blocked once: a flood that coalescing per member cannot fold into one row. */
const members = Array.from({ length: 30 }, (_, i) => ({
  id: `6000000000000000${String(i).padStart(2, "0")}`,
  username: `spammer${i}`,
}));

/** A purge of Alice's references, then a blocked prompt from each of thirty members. */
async function purgeThenFlood(h: Harness) {
  await blockGore(h);
  await aliceGrid(h);
  const prompt = await reply(h, "moderation purge", { user: ALICE.id }, MOD, MODERATOR_PERMISSIONS);
  await confirmPurge(h, prompt, 4);
  await spam(
    h,
    members.map((user, i) => ({ user, description: `gore ${i + 1}` })),
  );
  await h.sandbox.waitFor(() => modLogPosts(h).length >= 31 || undefined, 10_000, "the mod-log posts");
}

const logAsMod = (h: Harness, options: Record<string, string> = {}) =>
  reply(h, "moderation log", options, MOD, MODERATOR_PERMISSIONS);

describe("blocked prompts in the audit log", () => {
  it("makes 30 blocked prompts of one member within a minute one audit row counted ×30, posted once", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    await blockGore(h);
    await spam(h, [{ user: BOB, description: "the first gore" }]);
    await spam(
      h,
      Array.from({ length: 29 }, (_, i) => ({ user: BOB, description: `more gore ${i + 2}` })),
    );

    const rows = await h.ctx.repos.audit.recent(h.sandbox.guild.id, 50);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "prompt_blocked", actorId: BOB.id, occurrences: 30 });
    expect(rows[0]?.details.prompt).toBe("the first gore");
    const posts = modLogPosts(h);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.content).toContain(`Blocked a /character description from <@${BOB.id}>`);

    const log = await logAsMod(h);
    expect(log.content.split("\n")).toHaveLength(2);
    expect(log.content).toMatch(/The bot blocked a \/character prompt of <@\d+> .*“the first gore” ×30$/);

    // A minute later the member's next blocked prompt is a new row, and posted again.
    h.clock.advance(61_000);
    await spam(h, [{ user: BOB, description: "gore again" }]);
    const later = await h.ctx.repos.audit.recent(h.sandbox.guild.id, 50);
    expect(later.map((r) => r.occurrences)).toEqual([1, 30]);
    await h.sandbox.waitFor(() => modLogPosts(h).length === 2 || undefined, 5000, "a second post");
  });

  it("finds a purge followed by 30 blocked prompts with /moderation log action:purge and member:", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    await purgeThenFlood(h);

    const latest = await logAsMod(h);
    expect(latest.content).not.toContain("purged");
    expect(latest.content.split("\n")).toHaveLength(11);

    const purges = await logAsMod(h, { action: "purge" });
    const lines = purges.content.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("action purge");
    expect(lines[1]).toContain(`<@${MOD.id}> purged 4 references of <@${ALICE.id}>`);
    expect(buttons(purges)).toEqual([]);

    const aboutAlice = await logAsMod(h, { member: ALICE.id });
    expect(aboutAlice.content.split("\n").slice(1)).toEqual([lines[1]]);
    const blockedOfOne = await logAsMod(h, { action: "prompt_blocked", member: members[3]?.id as string });
    expect(blockedOfOne.content).toContain("“gore 4”");
    expect(blockedOfOne.content.split("\n")).toHaveLength(2);
  });

  it("pages through the log 10 at a time with ◀ ▶, newest first", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    await purgeThenFlood(h);
    const entriesOf = (content: string) => content.split("\n").slice(1);
    const newestFirst = (await h.ctx.repos.audit.recent(h.sandbox.guild.id, 50)).map((r) => r.id);
    expect(newestFirst).toHaveLength(31);

    const first = await logAsMod(h);
    expect(first.content).toContain("page 1");
    expect(buttons(first).map((b) => [b.label, b.disabled])).toEqual([
      ["◀ Newer", true],
      ["Older ▶", false],
    ]);
    const seen = new Set(entriesOf(first.content));
    const press = async (label: string, page: number) => {
      const current = h.sandbox.messages.get(first.id) ?? first;
      const button = buttons(current).find((b) => b.label === label);
      h.sandbox.pressButton({
        message: current,
        customId: button?.custom_id as string,
        user: MOD,
        permissions: MODERATOR_PERMISSIONS,
      });
      return h.sandbox.waitFor(
        () => {
          const m = h.sandbox.messages.get(first.id);
          return m?.content.includes(`page ${page}`) ? m : undefined;
        },
        5000,
        `page ${page}`,
      );
    };

    const second = await press("Older ▶", 2);
    expect(entriesOf(second.content)).toHaveLength(10);
    for (const line of entriesOf(second.content)) expect(seen.has(line), line).toBe(false);
    expect(buttons(second).map((b) => b.disabled)).toEqual([false, false]);
    await press("Older ▶", 3);
    const last = await press("Older ▶", 4);
    expect(entriesOf(last.content)).toEqual([expect.stringContaining("purged 4 references")]);
    expect(buttons(last).map((b) => b.disabled)).toEqual([false, true]);
    const back = await press("◀ Newer", 3);
    expect(entriesOf(back.content)).toHaveLength(10);

    // Only a moderator pages the log: a member's press of a copied button reads nothing.
    const forged = h.sandbox.pressButton({
      message: back,
      customId: buttons(back)[0]?.custom_id as string,
      user: BOB,
    });
    expect((await h.settledReply(forged)).content).toContain("needs the Manage Messages permission");
  });
});
