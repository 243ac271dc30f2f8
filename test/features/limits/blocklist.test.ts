import { describe, expect, it } from "vitest";
import type { SandboxInteraction } from "../../../src/sandbox/server.ts";
import {
  ALICE,
  BOB,
  buttons,
  e2eSuite,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";

const suite = e2eSuite("blocklist");

/** Discord drops an interaction that is not acknowledged within 3 seconds of being sent. */
const ACK_DEADLINE_MS = 3000;
const ADMIN = MODERATOR_PERMISSIONS | (1n << 5n); // Manage Server, which /settings needs
const CAROL = { id: "500000000000000004", username: "carol" };
const DAVE = { id: "500000000000000005", username: "dave" };

const addEntry = (h: Harness, entry: string) =>
  h.settledReply(
    h.sandbox.runCommand({
      command: "settings blocklist-add",
      options: { entry },
      user: MOD,
      permissions: ADMIN,
    }),
  );

/** When each interaction was acknowledged, by the sandbox's clock. */
function recordAcks(h: Harness): Map<string, number> {
  const acked = new Map<string, number>();
  h.sandbox.on("interaction-callback", (i: SandboxInteraction) => acked.set(i.id, Date.now()));
  return acked;
}

describe("the prompt blocklist", () => {
  it("refuses an entry with too many wildcards at /settings blocklist-add, and saves the worst allowed ones", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const refused = await addEntry(h, "a*b*c*d*e*f");
    expect(refused.visible_to).toBe(MOD.id);
    expect(refused.content).toContain("An entry may have at most 4 `*` wildcards; this one has 5.");
    expect((await h.ctx.repos.guildSettings.get(h.sandbox.guild.id)).blocklist).toEqual([]);
    expect((await addEntry(h, "!!")).content).toContain("That entry has no letters or digits to match.");
    expect((await addEntry(h, "n*a*k*e*d")).content).toContain("Saved: blocklist entry added.");
    expect((await addEntry(h, "a*a*a*a*b")).content).toContain(
      "Saved: blocklist entry added. Entry: `a*a*a*a*b`",
    );
    const view = await h.settledReply(
      h.sandbox.runCommand({ command: "settings view", options: {}, user: MOD, permissions: ADMIN }),
    );
    expect(view.content).toContain("Blocklist (2): `n*a*k*e*d`, `a*a*a*a*b`");
  });

  it("refuses a description that expands past the limit, and an entry that does, before matching anything", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const entry = await addEntry(h, `*${"ﷺ".repeat(62)}x`);
    expect(entry.content).toContain("letters long once its special characters are expanded; the limit is 64");
    const refused = await h.settledReply(
      h.sandbox.runCommand({ command: "character", options: { description: "ﷺ".repeat(1000) }, user: ALICE }),
    );
    expect(refused.visible_to).toBe(ALICE.id);
    expect(refused.content).toContain("The description is 18000 characters once its special characters");
    expect(await h.recordedRows("generations")).toBe(0);
  });

  it("answers crafted prompts against the worst entries, and another member's /usage meanwhile, within 3 s", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    await addEntry(h, "n*a*k*e*d");
    await addEntry(h, "a*a*a*a*b");
    const acked = recordAcks(h);
    // Long near-misses first, then the blocked word: a backtracking matcher tried every way of sharing the
    // near-miss among the wildcards (13 s and 110 s) before it reached the word.
    const crafted = [`n${"ake".repeat(331)} naked`, `${"a".repeat(993)} aaaab`, `${"a ".repeat(498)}b`];
    // Each from its own member: one member's blocked prompts within a minute share one audit row.
    const pairs: Array<[SandboxInteraction, SandboxInteraction]> = crafted.map((description, i) => {
      expect(description.length).toBeLessThanOrEqual(1000);
      const user = [ALICE, CAROL, DAVE][i] ?? ALICE;
      const blocked = h.sandbox.runCommand({ command: "character", options: { description }, user });
      const usage = h.sandbox.runCommand({ command: "usage", user: BOB });
      return [blocked, usage];
    });
    for (const [blocked, usage] of pairs) {
      const refusal = await h.refusal(blocked);
      expect(refusal.visible_to).toBe(blocked.user.id);
      expect(refusal.content).toContain("That description is not allowed in this server");
      const answer = await h.settledReply(usage);
      expect(answer.visible_to).toBe(BOB.id);
      expect(answer.content).toContain("Images: 0 of 40");
      for (const i of [blocked, usage]) {
        expect((acked.get(i.id) as number) - i.createdAt).toBeLessThan(ACK_DEADLINE_MS);
      }
    }
    expect(await h.recordedRows("generations")).toBe(0);
    const audit = (await h.ctx.repos.audit.recent(h.sandbox.guild.id, 10)).filter(
      (a) => a.action === "prompt_blocked",
    );
    expect(audit.map((a) => a.details.entry).sort()).toEqual(["a*a*a*a*b", "a*a*a*a*b", "n*a*k*e*d"]);
  });

  it("blocks look-alike letters, punctuation between letters and stretched letters, and lets gorgeous through", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    await addEntry(h, "gore");
    for (const description of [
      "a g\u043Ere knight",
      "a g\u03BFre knight",
      "\u0261ore",
      "g,o,r,e",
      "g'o'r'e",
      "goore",
    ]) {
      const refused = await h.refusal(
        h.sandbox.runCommand({ command: "character", options: { description }, user: ALICE }),
      );
      expect(refused.content, description).toContain("That description is not allowed in this server");
    }
    const harmless = await h.character({ description: "a gorgeous knight", count: 1 });
    expect(buttons(harmless).map((b) => b.label)).toEqual(["1", "Vary 1", "Regenerate", "Remix"]);
  });
});
