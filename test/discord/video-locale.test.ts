// /video in other languages, through the bot as a member meets it: the refusal only the member sees is in their
// client's language, the video's public message (text and alt text) in the server's, and a failed video's reason
// is rendered from its stored code in the server's language too.
import { describe, expect, it } from "vitest";
import type { SandboxUser } from "../../src/sandbox/types.ts";
import { ALICE, e2eSuite, type Harness } from "../support/bot-harness.ts";

const suite = e2eSuite("video-locale");
const EPHEMERAL = 64;
/** Alice with her Discord client in German. */
const GERMAN_ALICE: SandboxUser = { ...ALICE, locale: "de" };

/** Two stored references of Alice's, in a server whose language is then set to `serverLocale`. */
async function setUp(serverLocale: string) {
  const h = await suite.start({ MOCK_LATENCY_MS: "20" });
  const grid = await h.character({ description: "a red fox knight", count: 2 });
  const { generation, images } = await h.generationOf(grid);
  const [a, b] = images;
  if (!a?.fileName || !b?.fileName) throw new Error("the grid stored no images");
  h.sandbox.guild.locale = serverLocale;
  return { h, grid, generationId: generation.id, first: a.id, last: b.id };
}

function video(h: Harness, options: Record<string, string | number>) {
  return h.sandbox.runCommand({
    command: "video",
    options: { prompt: "turns around", ...options },
    user: GERMAN_ALICE,
  });
}

describe("/video in the member's and the server's language", () => {
  it("refuses in the member's German, privately, in a Japanese server", async () => {
    const { h, first, last } = await setUp("ja");
    const answer = await h.settledReply(
      video(h, { reference: first, end_frame: last, model: "minimax/video-01" }),
    );
    expect(answer.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toBe(
      "⚠️ minimax/video-01 kann nicht auf einem von dir vorgegebenen Bild enden. minimax/video-01 bietet eine " +
        "Länge (6 s), das Seitenverhältnis des Startbilds, kein Endbild, keine Referenzbilder. Es wurde nichts berechnet.",
    );
    expect(await h.recordedRows("videos")).toBe(0);
  });

  it("posts the video in the server's Japanese, with its alt text, while the member's client is German", async () => {
    const { h, first, last } = await setUp("ja");
    const i = video(h, { reference: first, end_frame: last, model: "google/veo-3.1", duration: 4 });
    const posted = await h.settledReply(i, (m) => m.attachments.length > 0);
    expect(posted.content).toBe(
      `🎬 “turns around” <@${ALICE.id}> さんの動画 · リファレンス \`${first}\` → \`${last}\` · mock/test-pattern-video\n` +
        `動画 \`${(await h.ctx.video.forImage(first))[0]?.id}\``,
    );
    expect(posted.attachments[0]?.description).toBe("動画: turns around");
    // The row keeps both languages, so a worker or a restart finishes it in the same ones.
    const [row] = await h.ctx.video.forImage(first);
    expect([row?.locale, row?.publicLocale]).toEqual(["de", "ja"]);
  });

  it("says why a video failed in the server's German, from the code the row stores", async () => {
    const { h, first } = await setUp("de");
    const i = video(h, { reference: first, prompt: "turns around [mock:rate_limited]" });
    const failed = await h.settledReply(i, (m) => m.content.startsWith("❌"));
    expect(failed.content).toBe(
      `❌ Das Video für <@${ALICE.id}> konnte nicht erstellt werden: der Videodienst ist ausgelastet (Ratenlimit); ` +
        `versuche es in einer Minute noch einmal.\nReferenz \`${first}\` · “turns around [mock:rate\\_limited]”`,
    );
    const [row] = await h.ctx.video.forImage(first);
    expect(row?.errorCode).toBe("rate_limited");
  });

  it("answers a button it does not recognise in the member's language, privately", async () => {
    const { h, grid, generationId } = await setUp("ja");
    // A modal's custom_id on a button: forged, or from another version of the bot.
    const press = h.sandbox.pressButton({
      message: grid,
      customId: `modal:remix:${generationId}`,
      user: GERMAN_ALICE,
    });
    const answer = await h.settledReply(press);
    expect(answer.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toBe(
      "⚠️ Das erkenne ich nicht. Es stammt vielleicht aus einer älteren Version des Bots.",
    );
  });

  it("takes a removed video out of its message in the language it was posted in, whoever removes it", async () => {
    const { h, first } = await setUp("de");
    const i = video(h, { reference: first });
    await h.settledReply(i, (m) => m.attachments.length > 0);
    const [made] = await h.ctx.video.forImage(first);
    // The server has changed language since, and the deletion comes from an English client.
    h.sandbox.guild.locale = "en-US";
    const deleted = h.sandbox.runCommand({
      command: "reference delete",
      options: { id: first },
      user: ALICE,
    });
    expect((await h.settledReply(deleted)).content).toContain("and 1 video made from it");
    const removed = await h.sandbox.waitFor(
      () => {
        const m = h.sandbox.original(i);
        return m && m.attachments.length === 0 ? m : undefined;
      },
      10_000,
      "the video's message without its video",
    );
    expect(removed.content).toBe(
      `🗑️ Video \`${made?.id}\` für <@${ALICE.id}> wurde mit seiner Referenz gelöscht.`,
    );
  });
});
