import { describe, expect, it } from "vitest";
import { checkPrompt, compileEntry, normalisePrompt } from "../../src/services/prompt-policy.ts";

describe("prompt policy", () => {
  const blocklist = ["gore", "blood bath", "nud*"];

  it("blocks obfuscated variants: case, width, accents, zero-width characters, leetspeak, spelt-out letters", () => {
    for (const prompt of [
      "a knight covered in GORE",
      "a knight in g\u200Bo\u200Dr\u2060e",
      "ｇｏｒｅ everywhere",
      "göré",
      "g0r3 and more",
      "g o r e",
      "g.o.r.e",
      "a BLOOD  bath",
      "bl00d-b4th",
      "nudity",
      "NUD3",
      "n\u00ADude",
    ]) {
      expect(checkPrompt(prompt, blocklist).blocked, prompt).toBe(true);
    }
  });

  it("lets harmless prompts through, including words that merely contain an entry", () => {
    for (const prompt of [
      "a gorgeous knight with a red cape",
      "silver robot with blue eyes",
      "a bloodhound",
      "an ingenue",
    ]) {
      expect(checkPrompt(prompt, blocklist), prompt).toEqual({ blocked: false });
    }
  });

  it("says which entry matched, and ignores entries that are empty once normalised", () => {
    expect(checkPrompt("GORE", blocklist)).toEqual({ blocked: true, entry: "gore" });
    expect(compileEntry("***")).toBeUndefined();
    expect(compileEntry("  ")).toBeUndefined();
    expect(checkPrompt("anything", ["*", " "])).toEqual({ blocked: false });
  });

  it("normalises to plain lower-case words", () => {
    expect(normalisePrompt("  Ｓｉｌｖｅｒ   R0B0T!! ")).toBe("silver robot");
  });
});
