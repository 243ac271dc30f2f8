// A guild's blocklist, matched after undoing the usual disguises: width and compatibility forms (NFKC), case,
// accents, zero-width characters, common leetspeak, and letters spelt out one by one ("g o r e", "g.o.r.e").

/** Format characters (zero-width spaces and joiners, soft hyphens, direction marks) and Hangul fillers. */
const INVISIBLE = /[\p{Cf}\u115F\u1160\u3164\uFFA0]/gu;
/** Accents, variation selectors and other combining marks, stripped after NFKD. */
const COMBINING = /\p{M}+/gu;
/** Digits and symbols commonly standing in for letters; `!`, `|` and `+` are left alone, being punctuation far more often. */
const LEET: Record<string, string> = {
  "0": "o",
  "1": "i",
  "3": "e",
  "4": "a",
  "5": "s",
  "6": "g",
  "7": "t",
  "8": "b",
  "9": "g",
  "@": "a",
  $: "s",
  "€": "e",
  "£": "l",
};

/** The text as the blocklist sees it: lower-case ASCII-ish words separated by single spaces. */
export function normalisePrompt(text: string): string {
  const folded = text
    .normalize("NFKC")
    .replace(INVISIBLE, "")
    .toLowerCase()
    .normalize("NFKD")
    .replace(COMBINING, "");
  const unleet = [...folded].map((c) => LEET[c] ?? c).join("");
  // Letters spelt out one by one, with spaces, dots, dashes or underscores between them, are one word.
  const joined = unleet.replace(/\b(\p{L})(?:[\s._\-*]+(?=\p{L}\b))/gu, "$1");
  return joined.replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

export const MAX_BLOCKLIST_ENTRIES = 200;
export const MAX_ENTRY_LENGTH = 64;

/**
 * An entry is a word or phrase, with `*` standing for any letters: "gore" blocks the word gore (not
 * "gorgeous"), "gore*" also "gorefest". Entries are normalised like prompts, so "G0RE" and "gore" are one entry.
 */
export function compileEntry(entry: string): RegExp | undefined {
  const parts = entry.split("*").map((p) => normalisePrompt(p));
  if (parts.every((p) => p === "")) return undefined;
  const body = parts
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/ /g, " +"))
    .join("[\\p{L}\\p{N}]*");
  return new RegExp(`(?<![\\p{L}\\p{N}])${body}(?![\\p{L}\\p{N}])`, "u");
}

export interface PolicyVerdict {
  blocked: boolean;
  /** The blocklist entry that matched, for the audit log (never shown to the member). */
  entry?: string;
}

export function checkPrompt(prompt: string, blocklist: readonly string[]): PolicyVerdict {
  const text = normalisePrompt(prompt);
  for (const entry of blocklist) {
    if (compileEntry(entry)?.test(text)) return { blocked: true, entry };
  }
  return { blocked: false };
}
