// /settings with a full blocklist: the view still answers within Discord's limits, the list is paged, and a
// change is confirmed with the change alone.
import { describe, expect, it } from "vitest";
import { MAX_BLOCKLIST_ENTRIES } from "../../../src/features/limits/prompt-policy.ts";
import { e2eSuite, type Harness, MOD, MODERATOR_PERMISSIONS } from "../../support/bot-harness.ts";

const suite = e2eSuite("settings-view");

/** Manage Server on top of Manage Messages: what /settings needs. */
const ADMIN = MODERATOR_PERMISSIONS | (1n << 5n);

const settings = (h: Harness, sub: string, options: Record<string, string | number> = {}) =>
  h.settledReply(
    h.sandbox.runCommand({ command: `settings ${sub}`, options, user: MOD, permissions: ADMIN }),
  );

describe("/settings with a full blocklist", () => {
  it("views 200 entries within limits, pages them all, and confirms a change with the change alone", async () => {
    const h = await suite.start();
    const guildId = h.sandbox.guild.id;
    const entries = Array.from({ length: MAX_BLOCKLIST_ENTRIES }, (_, n) => `forbidden phrase ${n + 1}`);
    const current = await h.ctx.repos.guildSettings.get(guildId);
    await h.ctx.repos.guildSettings.save({ ...current, blocklist: entries }, MOD.id, Date.now());

    const view = await settings(h, "view");
    expect(view.content).toContain("**Settings for this server**");
    expect(view.content.length).toBeLessThanOrEqual(2000);
    expect(view.content).toContain(`Blocklist (${MAX_BLOCKLIST_ENTRIES}): \`forbidden phrase 1\``);
    expect(view.content).toMatch(/…and \d+ more/);
    expect(view.content).toContain("/settings blocklist");

    // Every entry is on one of the pages, in order.
    const first = await settings(h, "blocklist");
    expect(first.content).toContain(`page 1/8 · ${MAX_BLOCKLIST_ENTRIES} in all`);
    expect(first.content).toContain("Next: /settings blocklist page:2");
    const seen: string[] = [];
    for (let page = 1; page <= 8; page++) {
      const reply = await settings(h, "blocklist", { page });
      expect(reply.content.length).toBeLessThanOrEqual(2000);
      seen.push(...[...reply.content.matchAll(/^\d+\. `(.*)`$/gm)].map((m) => m[1] as string));
    }
    expect(seen).toEqual(entries);

    const removed = await settings(h, "blocklist-remove", { entry: "forbidden phrase 7" });
    expect(removed.content).toContain("Saved: blocklist entry removed. Entry: `forbidden phrase 7`");
    expect(removed.content).not.toContain("Settings for this server");
    expect(removed.content).not.toContain("forbidden phrase 8");
    expect((await h.ctx.repos.guildSettings.get(guildId)).blocklist).toHaveLength(MAX_BLOCKLIST_ENTRIES - 1);
    const safety = await settings(h, "safety", { level: "block_low_and_above" });
    expect(safety.content).toContain("Saved: safety filter set to block_low_and_above.");
    expect(safety.content).not.toContain("Blocklist");
  });
});
