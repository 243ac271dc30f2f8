// /usage, /privacy info and /settings in the member's and the server's languages, through the running bot: the
// member reads their answers in their client's language, the server's mod log reads a change in the server's,
// and the audit row keeps it in English.
import { describe, expect, it } from "vitest";
import { MAX_BLOCKLIST_ENTRIES } from "../../../src/features/limits/prompt-policy.ts";
import { ALICE, e2eSuite, MOD, MODERATOR_PERMISSIONS } from "../../support/bot-harness.ts";

const suite = e2eSuite("members-locale");

/** Manage Server on top of Manage Messages: what /settings needs. */
const ADMIN = MODERATOR_PERMISSIONS | (1n << 5n);
const ALICE_DE = { ...ALICE, locale: "de" };
const MOD_JA = { ...MOD, locale: "ja" };

describe("members' answers in their language", () => {
  it("/usage and /privacy info answer a German client in German, prices as Germans write them", async () => {
    const h = await suite.start({ DAILY_IMAGES_PER_USER: "5" });
    await h.character({ description: "knight", count: 1 }, ALICE_DE);
    const usage = await h.settledReply(
      h.sandbox.runCommand({ command: "usage", options: {}, user: ALICE_DE }),
    );
    expect(usage.visible_to).toBe(ALICE.id);
    for (const part of [
      "**Deine Nutzung heute**",
      "Bilder: 1 von 5 (4 übrig)",
      "**Dieser Server heute**",
      "**Preise** (ungefähr):",
      // Intl's German currency: a non-breaking space before the sign.
      "(0,00\u00a0$ pro Bild)",
      "maßgeblich ist die Rechnung von Replicate",
    ]) {
      expect(usage.content).toContain(part);
    }
    expect(usage.content).toMatch(/ · etwa \d+,\d\d\u00a0\$$/m);
    expect(usage.content).not.toContain("Your use today");

    const info = await h.settledReply(
      h.sandbox.runCommand({ command: "privacy info", options: {}, user: ALICE_DE }),
    );
    expect(info.visible_to).toBe(ALICE.id);
    expect(info.content.length).toBeLessThanOrEqual(2000);
    for (const part of [
      "**Was dieser Bot über dich speichert**",
      "aufbewahrt, bis du oder ein Moderator sie löschen",
      ": 30 Tage.",
      ": 15 Minuten.",
      "**Wer sie verarbeitet**",
      "• `/privacy export`: ein ZIP mit allem, nur an dich gesendet (eines alle 10 Minuten).",
      "• `/reference delete id:<id>`:",
    ]) {
      expect(info.content).toContain(part);
    }
    expect(info.content).not.toContain("What this bot keeps");
  });

  it("a setting changed by a Japanese moderator: the answer in Japanese, the German server's mod log in German", async () => {
    const h = await suite.start();
    h.sandbox.guild.locale = "de";
    const settings = (sub: string, options: Record<string, string | number> = {}) =>
      h.settledReply(
        h.sandbox.runCommand({ command: `settings ${sub}`, options, user: MOD_JA, permissions: ADMIN }),
      );
    await settings("modlog", { channel: h.sandbox.channel.id });
    const saved = await settings("allowance", { kind: "images", scope: "member", per_day: 2 });
    expect(saved.content).toContain("✅ 保存しました: メンバーごとの1日の画像上限を2に設定。");
    expect(saved.content).toContain("/settings view ですべての設定を表示できます。");
    const posted = h.sandbox.channelMessages(h.sandbox.channel.id).map((m) => m.content);
    expect(posted).toContain(
      `🛡️ <@${MOD.id}> hat die Einstellungen geändert: Tageskontingent für Bilder pro Mitglied auf 2 pro Tag gesetzt.`,
    );
    const [audit] = await h.ctx.repos.audit.recent(h.sandbox.guild.id, 1);
    expect(audit?.details).toEqual({ change: "images per member allowance set to 2 a day" });
  });

  it("/settings view in German with a full blocklist: as many entries as fit, the rest counted, the pages named", async () => {
    const h = await suite.start();
    const guildId = h.sandbox.guild.id;
    const entries = Array.from({ length: MAX_BLOCKLIST_ENTRIES }, (_, n) => `verbotene Phrase ${n + 1}`);
    const current = await h.ctx.repos.guildSettings.get(guildId);
    await h.ctx.repos.guildSettings.save({ ...current, blocklist: entries }, MOD.id, Date.now());
    const view = await h.settledReply(
      h.sandbox.runCommand({
        command: "settings view",
        options: {},
        user: { ...MOD, locale: "de" },
        permissions: ADMIN,
      }),
    );
    expect(view.content.length).toBeLessThanOrEqual(2000);
    expect(view.content).toContain("**Einstellungen für diesen Server**");
    expect(view.content).toContain("Bilder pro Tag: 40 pro Mitglied (Standard)");
    expect(view.content).toContain("(in Verwendung): Offline-Platzhalterbilder, kein Sicherheitsfilter");
    expect(view.content).toContain(`Sperrliste (${MAX_BLOCKLIST_ENTRIES}): \`verbotene Phrase 1\``);
    expect(view.content).toMatch(/…und \d+ weitere/);
    expect(view.content).toContain("Alle Einträge, seitenweise: /settings blocklist");
  });
});
