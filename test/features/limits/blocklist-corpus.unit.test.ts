import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PromptPolicy } from "../../../src/features/limits/prompt-policy.ts";

// The corpus is read once, at load: blocklist-corpus/README.md says what it holds and how it is made.
const rows = (name: string) =>
  readFileSync(new URL(`./blocklist-corpus/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.split("\t") as [string, string]);
const disguises = rows("disguises.tsv");
const ordinary = rows("ordinary.tsv");

/** The corpus's entries, and two whose letters hide in ordinary words ("shell", "class", "bass"). */
const BLOCKLIST = ["gore", "nude", "blood", "kill", "blood bath", "hell", "ass"];
const percent = (n: number, of: number) => `${((100 * n) / of).toFixed(2)} %`;

describe("the blocklist against its corpus", () => {
  const policy = new PromptPolicy();

  it("catches every disguise of an entry by that entry alone (recall 100 %)", () => {
    expect(disguises.length).toBeGreaterThanOrEqual(200);
    const missed = disguises.filter(([entry, prompt]) => !policy.check(prompt, [entry]).blocked);
    console.log(
      `blocklist recall: ${percent(disguises.length - missed.length, disguises.length)} of ${disguises.length} disguises`,
    );
    expect(missed).toEqual([]);
  });

  it("lets at least 99 % of ordinary descriptions in six languages through", () => {
    expect(ordinary.length).toBeGreaterThanOrEqual(500);
    expect(new Set(ordinary.map(([lang]) => lang))).toEqual(new Set(["en", "de", "fr", "es", "pt", "ja"]));
    const blocked = ordinary.filter(([, prompt]) => policy.check(prompt, BLOCKLIST).blocked);
    console.log(
      `blocklist false positives: ${percent(blocked.length, ordinary.length)} of ${ordinary.length} ordinary descriptions`,
      blocked.map(([lang, prompt]) => `${lang}: ${prompt}`),
    );
    expect(blocked.length / ordinary.length).toBeLessThanOrEqual(0.01);
  });
});
