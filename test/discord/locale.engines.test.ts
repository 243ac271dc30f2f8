// Languages end to end: the real bot against the local Discord server, members whose clients are in German or
// Japanese in a server whose language is German. What only the member sees (ephemeral replies, refusals, the
// pick's confirmation and its image panel, the Remix modal) is in the member's language; what the channel sees
// (the grid, its buttons and alt texts) is in the server's, and the generation's row keeps both.
import { describe, expect, it } from "vitest";
import type { SandboxUser, StoredMessage } from "../../src/sandbox/server.ts";
import { ALICE, buttons, e2eSuite, type Harness } from "../support/bot-harness.ts";
import { expectGermanGrid } from "../support/german-grid.ts";

const suite = e2eSuite("locale");

const HANNA: SandboxUser = { id: "500000000000000011", username: "hanna", locale: "de" };
const YUKI: SandboxUser = { id: "500000000000000012", username: "yuki", locale: "ja" };

/** The finished grid of a German server: it has its "Neu erzeugen" (Regenerate) button. */
async function germanGrid(h: Harness, description: string, user: SandboxUser): Promise<StoredMessage> {
  const i = h.sandbox.runCommand({ command: "character", options: { description, count: 2 }, user });
  const grid = await h.settledReply(i, (m) => buttons(m).some((b) => b.label === "Neu erzeugen"));
  await h.delivered((await h.generationOf(grid)).generation.id);
  return grid;
}

describe("a member's language and the server's", () => {
  it("answers a German member in a German server in German, privately and in the channel", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "100" });
    h.sandbox.guild.locale = "de";

    const grid = await germanGrid(h, "ein roter Fuchs", HANNA);
    expectGermanGrid(grid, HANNA, "ein roter Fuchs");
    const { generation } = await h.generationOf(grid);
    expect([generation.locale, generation.publicLocale]).toEqual(["de", "de"]);

    // The pick's confirmation and its image panel are only Hanna's: in her language.
    const confirmation = await h.pick(grid, 2, HANNA);
    expect(confirmation.visible_to).toBe(HANNA.id);
    expect(confirmation.content).toMatch(
      /^✅ Bild 2 als deine Referenz ausgewählt: `[0-9a-f-]{36}`\.\nStarte jetzt \/video/,
    );
    expect(buttons(confirmation).map((b) => b.label)).toEqual([
      "Hochskalieren",
      "Variieren (leicht)",
      "Variieren (stark)",
      "Ansichtsblatt",
    ]);
    // The grid marks the pick, in German, for the channel.
    await h.sandbox.waitFor(
      () => h.sandbox.messages.get(grid.id)?.content.includes("Bild 2 ausgewählt. Wähle ein anderes"),
      5_000,
      "the grid marking the pick",
    );

    // The server switches to English, then Hanna deletes image 1: the grid loses it and stays in the language
    // it was made in.
    h.sandbox.guild.locale = "en-US";
    const first = (await h.generationOf(grid)).images.find((i) => i.slot === 1);
    await h.settledReply(
      h.sandbox.runCommand({
        command: "reference delete",
        options: { id: first?.id as string },
        user: HANNA,
      }),
    );
    const after = await h.sandbox.waitFor(
      () => {
        const m = h.sandbox.messages.get(grid.id);
        return m?.content.includes("Bild 1: von seinem Besitzer gelöscht.") ? m : undefined;
      },
      5_000,
      "the grid without image 1",
    );
    expect(after.content).toContain("Bild 2 ausgewählt.");
    expect(buttons(after).map((b) => b.label)).toEqual(["2", "Variieren 2", "Neu erzeugen", "Remix"]);
    h.sandbox.guild.locale = "de";

    // A refusal after the public deferral is private, and German.
    const refused = await h.refusal(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "ein Fuchs", reference: "nirgendwo" },
        user: HANNA,
      }),
    );
    expect(refused.visible_to).toBe(HANNA.id);
    expect(refused.content).toBe(
      "⚠️ `nirgendwo` ist keine Referenz-ID und kein Name in der Bibliothek dieses Servers. IDs sehen so aus: `1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed`; /reference list zeigt deine.",
    );
  });

  it("answers a Japanese member in Japanese while the grid stays in the German server's language", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "100" });
    h.sandbox.guild.locale = "de";

    const grid = await germanGrid(h, "a blue cat", YUKI);
    expectGermanGrid(grid, YUKI, "a blue cat");
    const { generation } = await h.generationOf(grid);
    expect([generation.locale, generation.publicLocale]).toEqual(["ja", "de"]);

    const confirmation = await h.pick(grid, 1, YUKI);
    expect(confirmation.visible_to).toBe(YUKI.id);
    expect(confirmation.content).toMatch(/^✅ 画像1をリファレンスに選びました：`[0-9a-f-]{36}`。/);
    expect(buttons(confirmation).map((b) => b.label)).toEqual([
      "高解像度化",
      "バリエーション（弱）",
      "バリエーション（強）",
      "三面図",
    ]);
    await h.sandbox.waitFor(
      () => h.sandbox.messages.get(grid.id)?.content.includes("Bild 1 ausgewählt."),
      5_000,
      "the grid marking the pick",
    );

    // Remix opens a modal only Yuki sees: Japanese.
    const remix = h.sandbox.pressButton({
      message: grid,
      customId: buttons(grid).find((b) => b.label === "Remix")?.custom_id as string,
      user: YUKI,
    });
    const modal = await h.sandbox.waitFor(
      () => (remix.callback?.type === 9 ? (remix.callback.data as { title: string }) : undefined),
      5_000,
      "the Remix modal",
    );
    expect(modal.title).toBe("リミックス");

    // Someone else's press is refused to them, in their own language: Alice's client is in English.
    const stranger = h.sandbox.pressButton({
      message: grid,
      customId: buttons(grid)[0]?.custom_id as string,
      user: ALICE,
    });
    const notYours = await h.followUp(stranger);
    expect(notYours.visible_to).toBe(ALICE.id);
    expect(notYours.content).toContain(
      `Only <@${YUKI.id}> can use these buttons. Make your own with /character.`,
    );

    // And Yuki's own refusal is Japanese.
    const refused = await h.refusal(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "a cat", reference: "nowhere" },
        user: YUKI,
      }),
    );
    expect(refused.visible_to).toBe(YUKI.id);
    expect(refused.content).toBe(
      "⚠️ `nowhere`はリファレンスIDでも、このサーバーのライブラリの名前でもありません。IDは`1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed`のような形です。自分のものは/reference listで確認できます。",
    );
  });
});
