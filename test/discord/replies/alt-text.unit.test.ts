import { describe, expect, it } from "vitest";
import { altText, MAX_ALT_TEXT } from "../../../src/discord/replies/attachments.ts";

describe("altText", () => {
  it("is the label and the prompt on one line", () => {
    expect(altText("Image 2", "a fox\n  in   armour ")).toBe("Image 2: a fox in armour");
  });

  it("never passes 1,024 characters, ending with an ellipsis when cut", () => {
    const cut = altText("Video", "x".repeat(5000));
    expect(cut).toHaveLength(MAX_ALT_TEXT);
    expect(cut.endsWith("x…")).toBe(true);
    expect(altText("V", "y".repeat(MAX_ALT_TEXT - 3))).toHaveLength(MAX_ALT_TEXT);
  });

  it("never cuts a character made of two UTF-16 units in half", () => {
    // "Videos: " is 8 units, so a pair straddles the cut at 1,023 units: it goes whole.
    const cut = altText("Videos", "🦊".repeat(600));
    expect(cut).toHaveLength(MAX_ALT_TEXT - 1);
    expect(cut.endsWith("🦊…")).toBe(true);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
