// /reference and /library through the running bot in the member's language, and what the server reads (the mod
// log) in the server's: a German member in a German server, a Japanese moderator there, an English member.
import { describe, expect, it } from "vitest";
import type { SandboxUser } from "../../../src/sandbox/server.ts";
import {
  ALICE,
  BOB,
  e2eSuite,
  eventually,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";

const suite = e2eSuite("member languages");
const ADMIN = MODERATOR_PERMISSIONS | (1n << 5n);
const GERMAN: SandboxUser = { ...ALICE, locale: "de" };
const JAPANESE_MOD: SandboxUser = { ...MOD, locale: "ja" };

async function command(
  h: Harness,
  name: string,
  options: Record<string, string>,
  user: SandboxUser,
  permissions?: bigint,
) {
  return h.settledReply(
    h.sandbox.runCommand({ command: name, options, user, ...(permissions ? { permissions } : {}) }),
  );
}

describe("a member's language", () => {
  it("/reference list and /library list in German, the mod log in the server's German", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    h.sandbox.guild.locale = "de";
    await command(h, "settings modlog", { channel: h.sandbox.channel.id }, MOD, ADMIN);
    const grid = await h.character({ description: "a red fox knight", count: 1 }, GERMAN);
    const image = (await h.generationOf(grid)).images[0];
    if (!image) throw new Error("no image");

    const list = await command(h, "reference list", {}, GERMAN);
    expect(list.visible_to).toBe(ALICE.id);
    expect(list.content).toContain(`**Referenzen von <@${ALICE.id}>** · Seite 1/1 · 1 insgesamt`);
    expect(list.content).toContain(`\`${image.id}\``);
    expect(list.content).toContain(" · Bild 1 · ");
    expect(list.content).not.toContain("in all");

    const info = await command(h, "reference info", { id: image.id }, GERMAN);
    expect(info.content).toContain(`**Referenz \`${image.id}\`**`);
    expect(info.content).toContain("Aktuelle Auswahl: nein");
    expect(info.content).toContain("Erstellt aus: nichts (ein neuer Charakter)");

    // The moderator reads their reply in Japanese; the server's mod log is in German.
    const added = await command(
      h,
      "library add",
      { reference: image.id, name: "Fuchs" },
      JAPANESE_MOD,
      MODERATOR_PERMISSIONS,
    );
    expect(added.content).toContain(`📚 参照 \`${image.id}\` を **Fuchs** としてライブラリに追加しました。`);
    await eventually(async () =>
      h.sandbox
        .channelMessages()
        .some(
          (m) =>
            m.content ===
            `🛡️ <@${MOD.id}> hat die Referenz \`${image.id}\` von <@${ALICE.id}> als \`Fuchs\` zur Bibliothek hinzugefügt.`,
        ),
    );

    const library = await command(h, "library list", {}, GERMAN);
    expect(library.visible_to).toBe(ALICE.id);
    expect(library.content).toContain("**Bibliothek dieses Servers** · Seite 1/1 · 1 insgesamt");
    expect(library.content).toContain(`1. **Fuchs** · von <@${ALICE.id}> · \`${image.id}\``);
    expect(library.content).toContain("Nutze einen Namen überall, wo eine Referenz gefragt ist");
    expect(library.attachments[0]?.description).toContain("Bibliothekseintrag Fuchs (Vorschau)");

    // A member whose client is in English reads English in the same German server.
    const english = await command(h, "library list", {}, BOB);
    expect(english.content).toContain("**Library of this server** · page 1/1 · 1 in all");
  });
});
