// Every image and video the bot posts carries alt text (Discord's attachment `description`) from its prompt,
// previews included, never over Discord's 1,024 characters: read back from the local Discord server's messages.
import { describe, expect, it } from "vitest";
import { MAX_ALT_TEXT } from "../../../src/discord/replies/attachments.ts";
import { ALICE, e2eSuite, type Harness, MOD, MODERATOR_PERMISSIONS } from "../../support/bot-harness.ts";

const suite = e2eSuite("alt-text");

function command(h: Harness, name: string, options: Record<string, string>, user = ALICE, mod = false) {
  return h.settledReply(
    h.sandbox.runCommand({
      command: name,
      options,
      user,
      ...(mod ? { permissions: MODERATOR_PERMISSIONS } : {}),
    }),
    (m) => !m.content.includes("elapsed") && !m.content.includes("Drawing"),
  );
}

describe("alt text on the bot's attachments", () => {
  it("describes every image of a grid, a video post, /reference show and the library gallery's previews", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const grid = await h.character({ description: "a red fox knight", count: 4 });
    expect(grid.attachments.map((a) => a.description)).toEqual([
      "Image 1: a red fox knight",
      "Image 2: a red fox knight",
      "Image 3: a red fox knight",
      "Image 4: a red fox knight",
    ]);
    const image = (await h.generationOf(grid)).images[0];
    if (!image) throw new Error("no image");

    const video = await h.settledReply(
      h.sandbox.runCommand({
        command: "video",
        options: { prompt: "walks through rain", reference: image.id },
        user: ALICE,
      }),
      (m) => m.attachments.length > 0,
    );
    expect(video.attachments.map((a) => a.description)).toEqual(["Video: walks through rain"]);

    const shown = await command(h, "reference show", { id: image.id });
    expect(shown.attachments.map((a) => a.description)).toEqual(["Reference: a red fox knight"]);

    await command(h, "library add", { reference: image.id, name: "Fox" }, MOD, true);
    const gallery = await command(h, "library list", {});
    expect(gallery.attachments.map((a) => a.description)).toEqual([
      "Library entry Fox (preview): a red fox knight",
    ]);
    // Nothing the bot sent was refused by the server's checks (a description over 1,024 would be).
    expect(h.sandbox.violations).toEqual([]);
  });

  it("cuts alt text at 1,024 characters for a long prompt", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const prompt = `a knight ${"with a very long cloak ".repeat(44)}`.slice(0, 1000).trim();
    const grid = await h.character({ description: prompt, count: 1 });
    expect(grid.attachments[0]?.description).toBe(`Image 1: ${prompt}`);
    const image = (await h.generationOf(grid)).images[0];
    if (!image) throw new Error("no image");
    const name = "A very long library name 123456";
    await command(h, "library add", { reference: image.id, name }, MOD, true);
    const gallery = await command(h, "library list", {});
    const description = gallery.attachments[0]?.description ?? "";
    expect(description).toHaveLength(MAX_ALT_TEXT);
    expect(description.endsWith("…")).toBe(true);
    expect(description.startsWith(`Library entry ${name} (preview): a knight with a very long cloak`)).toBe(
      true,
    );
    expect(h.sandbox.violations).toEqual([]);
  });
});
