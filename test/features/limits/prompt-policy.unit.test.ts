import { describe, expect, it } from "vitest";
import { normalisePrompt } from "../../../src/features/limits/prompt-folding.ts";
import {
  compileEntry,
  expandedLength,
  MAX_BLOCKLIST_ENTRIES,
  MAX_BLOCKLIST_STEPS,
  MAX_EXPANDED_PROMPT_LENGTH,
  type MatchMeter,
  PromptPolicy,
} from "../../../src/features/limits/prompt-policy.ts";

describe("prompt policy", () => {
  const policy = new PromptPolicy();
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
      expect(policy.check(prompt, blocklist).blocked, prompt).toBe(true);
    }
  });

  it("lets harmless prompts through, including words that merely contain an entry", () => {
    for (const prompt of [
      "a gorgeous knight with a red cape",
      "silver robot with blue eyes",
      "a bloodhound",
      "an ingenue",
    ]) {
      expect(policy.check(prompt, blocklist), prompt).toEqual({ blocked: false });
    }
  });

  it("says which entry matched, and ignores entries that are empty once normalised", () => {
    expect(policy.check("GORE", blocklist)).toEqual({ blocked: true, entry: "gore" });
    expect(compileEntry("***")).toBeUndefined();
    expect(compileEntry("  ")).toBeUndefined();
    expect(policy.check("anything", ["*", " "])).toEqual({ blocked: false });
  });

  it("normalises to plain lower-case words", () => {
    expect(normalisePrompt("  Ｓｉｌｖｅｒ   R0B0T!! ")).toBe("silver robot");
  });

  it("blocks look-alike letters from other scripts, punctuation between single letters and stretched letters", () => {
    for (const prompt of [
      "a knight in g\u043Ere", // Cyrillic o
      "a knight in g\u03BFre", // Greek omicron
      "a knight in \u0261ore", // Latin script g
      "\u0433\u043E\u0433\u0435 \u0440\u043E\u0433\u0435", // a Cyrillic-only lookalike of "rore pore": nothing to match
      "g,o,r,e",
      "g/o/r/e",
      "g'o'r'e",
      "g~o~r~e",
      "g - o - r - e!",
      "goore",
      "GGOOORRREEE",
      "a g o r e knight",
      "G\u041ER\u0415", // Cyrillic capitals O and E among Latin ones
      "\uFF47\u043E\uFF52\u0435", // full-width and Cyrillic mixed
    ]) {
      const blocked = !prompt.startsWith("\u0433\u043E\u0433");
      expect(policy.check(prompt, ["gore"]).blocked, prompt).toBe(blocked);
    }
  });

  it("keeps false positives down: whole words, and a run of k letters in an entry needs k or more", () => {
    const cases: Array<[entry: string, prompt: string, blocked: boolean]> = [
      ["gore", "a gorgeous knight", false],
      ["gore", "gorgeous", false],
      ["gore", "ogre", false],
      ["ass", "as tall as a tower", false],
      ["ass", "a wild ass", true],
      ["ass", "assss", true],
      ["ass", "a,s,s", true],
      ["goore", "gore", false],
      ["goore", "gooore", true],
      ["blood bath", "bloodbath", false],
      ["blood bath", "blood   bath", true],
      ["nud*", "nudity", true],
      ["nud*", "a nun", false],
      ["*gore", "bloodgore", true],
      ["a*a", "aa", true],
      ["bo*ob", "boob", true],
      ["bo*ob", "bob", false],
      ["n*a*k*e*d", "naked", true],
      ["n*a*k*e*d", "nnaaakkkeeeddd", true],
      ["n*a*k*e*d", "nake", false],
      ["a*a*a*a*b", "aaaab", true],
      ["a*a*a*a*b", "aaab", false],
    ];
    for (const [entry, prompt, blocked] of cases) {
      expect(policy.check(prompt, [entry]).blocked, `${entry} / ${prompt}`).toBe(blocked);
    }
  });

  it("normalises look-alikes and separators the same way in entries and prompts", () => {
    expect(normalisePrompt("g\u043Ere, g~o~r~e and \u0261ore")).toBe("gore gore and gore");
    expect(normalisePrompt("5un \u20ACvil")).toBe("sun evil");
    expect(policy.check("gore", ["g\u043Ere"]).blocked).toBe(true);
    expect(policy.check("\u043A\u0440\u043E\u0432\u044C", ["\u043A\u0440\u043E\u0432\u044C"]).blocked).toBe(
      true,
    );
  });

  it("folds small capitals and IPA look-alikes, and joins a word split by one inner punctuation mark", () => {
    for (const p of [
      "gorᴇ",
      "ɢore",
      "ɢᴏʀᴇ",
      "gorɛ",
      "gorə",
      "g-ore",
      "go-re",
      "go.re",
      "go—re",
      "a GO-RE fest",
    ]) {
      expect(policy.check(p, ["gore"]).blocked, p).toBe(true);
    }
    // Split words still read as two as well: the phrase entry "blood bath" blocks "blood-bath".
    expect(policy.check("a blood-bath", ["blood bath"]).blocked).toBe(true);
  });

  it("reads digits as letters only inside words mostly made of letters, and keeps initials apart from words", () => {
    for (const [prompt, entry] of [
      ["a 455 hp muscle car", "ass"],
      ["a Pontiac 455", "ass"],
      ["a 53x zoom lens", "sex"],
      ["a Boeing 717", "tit"],
      ["a S.S. officer", "ass"],
      ["he'll be fine", "hell"],
      ["we're here", "were"],
      ["she'll sing", "shell"],
    ] as const) {
      expect(policy.check(prompt, [entry]).blocked, prompt).toBe(false);
    }
    for (const p of ["s3x", "g0r3", "n4k3d", "@ss", "a$$"]) {
      expect(policy.check(p, ["sex", "gore", "naked", "ass"]).blocked, p).toBe(true);
    }
  });

  it("catches a lone letter before a spelt-out word, a letter split off, mixed spacing and digits for letters", () => {
    const cases: Array<[entry: string, prompt: string]> = [
      ["gore", "a g o r e scene"],
      ["gore", "a g,o,r,e scene"],
      ["gore", "I saw a g.o.r.e scene"],
      ["gore", "g ore"],
      ["gore", "g o  r e"],
      ["gore", "g1ore"],
      ["gore", "60r3"],
      ["gore", "6 0 r 3"],
      ["gore", "goreのシーン"],
      ["kill", "kil l"],
      ["blood", "bl o o d"],
      ["blood bath", "b l o o d b a t h"],
    ];
    for (const [entry, prompt] of cases) {
      expect(policy.check(prompt, [entry]).blocked, `${entry} / ${prompt}`).toBe(true);
    }
  });

  it("reads no word inside a spelt-out word, and keeps one-letter words and apostrophes apart", () => {
    const cases: Array<[entry: string, prompt: string]> = [
      ["hell", "s.h.e.l.l"],
      ["hell", "a diver with a s h e l l necklace"],
      ["hell", "sh e l l"],
      ["ass", "a SS officer"],
      ["puta", "put a hat on him"],
      ["sex*", "un homme qui s'exprime"],
      ["nude", "nud e"],
      ["ass", "a 4 5 5 engine"],
      ["blood", "a 8100d engine"],
    ];
    for (const [entry, prompt] of cases) {
      expect(policy.check(prompt, [entry]).blocked, `${entry} / ${prompt}`).toBe(false);
    }
  });

  it("bounds the work by expanded lengths: long entries, a full blocklist and expanding prompts are refused", () => {
    // NFKC writes ﷺ out as 18 letters: an entry of 64 characters could hold over a thousand.
    expect(expandedLength("ﷺ".repeat(1000))).toBe(18_000);
    expect(expandedLength("ﷺ".repeat(1000))).toBeGreaterThan(MAX_EXPANDED_PROMPT_LENGTH);
    expect(policy.entryProblem(`*${"ﷺ".repeat(62)}x`)).toContain("once its special characters are expanded");
    expect(policy.entryProblem("x".repeat(65))).toBe("An entry may be at most 64 characters long.");
    const full = Array.from(
      { length: 40 },
      (_, i) => `${"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvw"}${i}`,
    );
    expect(policy.entryProblem("one more", full)).toContain(`over the ${MAX_BLOCKLIST_STEPS} it allows`);
    expect(policy.entryProblem("one more", full.slice(0, 25))).toBeUndefined();
  });

  it("refuses entries with more than 4 wildcards or nothing to match, and compiles an entry once", () => {
    expect(policy.entryProblem("n*a*k*e*d")).toBeUndefined();
    expect(policy.entryProblem("a*b*c*d*e*f")).toBe(
      "An entry may have at most 4 `*` wildcards; this one has 5. Block the words themselves, or a shorter pattern such as `nud*`.",
    );
    expect(policy.entryProblem("***")).toBe("That entry has no letters or digits to match.");
    expect(compileEntry("g**re")?.wildcards).toBe(1);
    expect(policy.compiled("dragon*")).toBe(policy.compiled("dragon*"));
  });

  describe("matches in time bounded by prompt length × entry length, without backtracking", () => {
    // Prompts that made a backtracking regular expression run for seconds to minutes: long runs that almost
    // match, so every way of sharing them among the wildcards was tried.
    const crafted = (n: number) => [
      "a".repeat(n),
      `n${"ake".repeat(Math.floor((n - 1) / 3))}`,
      `${"n".repeat(n / 5)}${"a".repeat(n / 5)}${"k".repeat(n / 5)}${"e".repeat(n / 5)}${"x".repeat(n / 5)}`,
      "a ".repeat(n / 2), // spelt out: a match may start at any letter
      "n a k e ".repeat(n / 8),
      "na".repeat(n / 2),
      // Lone letters and digits glued to their neighbours, and digits that may be skipped.
      "g o  r ".repeat(n / 8),
      "a k.n.a ".repeat(n / 8),
      `n${"1a".repeat((n - 2) / 2)}k`,
      "6 0 r ".repeat(n / 6),
    ];
    const worst = ["n*a*k*e*d", "a*a*a*a*b", "*a*a*a*a", "a*n*a*k*e"];
    const steps = (prompt: string, entries: string[]) => {
      const meter: MatchMeter = { steps: 0 };
      policy.check(prompt, entries, meter);
      return meter.steps;
    };

    it("stays within 3 × prompt length × entry length steps for the worst entries and prompts", () => {
      for (const entry of worst) {
        for (const prompt of crafted(1000)) {
          const used = steps(prompt, [entry]);
          expect(used, `${entry} / ${prompt.slice(0, 12)}`).toBeGreaterThan(0);
          expect(used, `${entry} / ${prompt.slice(0, 12)}`).toBeLessThanOrEqual(
            3 * prompt.length * entry.length,
          );
        }
      }
    });

    it("grows linearly: twice the prompt costs at most twice the steps", () => {
      for (const entry of worst) {
        const [short, long] = [crafted(480), crafted(960)];
        short.forEach((prompt, i) => {
          const ratio = steps(long[i] as string, [entry]) / steps(prompt, [entry]);
          expect(ratio, `${entry} / ${prompt.slice(0, 12)}`).toBeLessThanOrEqual(2.02);
        });
      }
    });

    it("checks a full blocklist of the worst entries against a 1,000-character prompt in bounded steps", () => {
      const entries = Array.from(
        { length: MAX_BLOCKLIST_ENTRIES },
        (_, i) => `${worst[i % 4]}${"x".repeat(i % 7)}`,
      );
      const prompt = `n${"ake".repeat(333)}`;
      const bound = entries.reduce((sum, e) => sum + 3 * prompt.length * e.length, 0);
      expect(steps(prompt, entries)).toBeLessThanOrEqual(bound);
      expect(policy.check(`${prompt.slice(0, 990)} naked`, entries)).toEqual({
        blocked: true,
        entry: "n*a*k*e*d",
      });
    });
  });
});
