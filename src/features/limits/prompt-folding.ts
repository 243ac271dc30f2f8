// How the blocklist reads a prompt or an entry: disguises undone (NFKC width and compatibility forms, case,
// accents, zero-width characters, TR39 look-alike letters from other scripts, leetspeak) and the text cut into
// words, letters spelt out one by one ("g o r e", "g,o,r,e", "g/o/r/e") joined into one.
import unhomoglyph from "unhomoglyph";

/** Format characters (zero-width spaces and joiners, soft hyphens, direction marks) and Hangul fillers. */
const INVISIBLE = /[\p{Cf}\u115F\u1160\u3164\uFFA0]/gu;
/** Accents, variation selectors and other combining marks, stripped after NFKD. */
const COMBINING = /\p{M}+/gu;
const LETTER = /^\p{L}$/u;
const ALNUM = /^[\p{L}\p{N}]$/u;
const ASCII = /^[\x20-\x7E]*$/;
/** Symbols commonly standing in for letters; `!`, `|` and `+` are left alone, being punctuation far more often. */
const LEET_SYMBOLS: Record<string, string> = { "@": "a", $: "s", "€": "e", "£": "l" };
/**
 * Digits commonly standing in for letters, read so only inside a word that has at least as many letters as
 * digits ("g0r3", "s3x"): "a 455 hp engine" and "a 53x zoom" keep their numbers.
 */
const LEET_DIGITS: Record<string, string> = {
  "0": "o",
  "1": "i",
  "3": "e",
  "4": "a",
  "5": "s",
  "6": "g",
  "7": "t",
  "8": "b",
  "9": "g",
};

/**
 * Letters TR39 keeps apart from ASCII but a reader does not: the Latin small capitals (ᴇ, ɢ, ʀ, …) and a few IPA
 * letters (ɛ, ə). TR39's data treats each as a letter of its own; here they fold to the letter they show.
 */
const SMALL_CAPITALS: Record<string, string> = Object.fromEntries(
  [..."ᴀaʙbᴅdᴇeꜰfɢgʜhᴊjᴋkʟlᴍmɴnᴘpʀrᴛtɛeəeǝeɔoɒaɐaʌv"].flatMap((c, i, all) =>
    i % 2 === 0 ? [[c, all[i + 1] as string]] : [],
  ),
);

/**
 * The TR39 prototype of a character that is not ASCII (Cyrillic о, Greek ο and Latin ɡ become o, o and g).
 * ASCII is left to the leetspeak table: TR39 would turn 1 into l and m into rn. Where the character's own
 * prototype is not ASCII (Cyrillic т becomes small capital ᴛ), its other case's is tried (Т becomes T): case
 * does not count here anyway.
 */
function foldConfusable(c: string): string {
  if (c < "\x80") return c;
  // Only letters and digits stand for letters: TR39 would make the em dash a katakana length mark, a letter.
  if (!ALNUM.test(c)) return c;
  const shown = SMALL_CAPITALS[c];
  if (shown) return shown;
  let fallback: string | undefined;
  for (const form of [c, c.toUpperCase(), c.toLowerCase()]) {
    const prototype = unhomoglyph(form);
    if (prototype === form) continue;
    if (ASCII.test(prototype)) return prototype;
    fallback ??= prototype;
  }
  return fallback ?? c;
}

/** A word of the prompt; `spelt` when it was written one letter at a time, so any letter in it may start a word. */
export interface Token {
  chars: string[];
  spelt: boolean;
}

/** Folds the text to lower-case letters and digits, every other character standing for a separator. */
export function fold(text: string): string {
  const plain = text.normalize("NFKC").replace(INVISIBLE, "").normalize("NFKD").replace(COMBINING, "");
  let out = "";
  // The table first: TR39 would make € a barred c, not the e it stands for.
  for (const c of plain) out += LEET_SYMBOLS[c] ?? foldConfusable(c);
  out = out.toLowerCase().normalize("NFKD").replace(COMBINING, "");
  let unleet = "";
  for (const c of out) unleet += LEET_SYMBOLS[c] ?? c;
  return unleet;
}

/** Digits read as the letters they stand for, in a word with at least as many letters as digits. */
function unleetDigits(word: string[]): string[] {
  const digits = word.filter((c) => c in LEET_DIGITS).length;
  if (digits === 0 || word.length - digits < digits) return word;
  return word.map((c) => LEET_DIGITS[c] ?? c);
}

/**
 * Punctuation that may split a word without a space ("go-re", "g-ore", "go.re"): the pieces are one word when
 * the piece after it has two letters or more (so "g-o-r-e" stays a spelt-out run). Apostrophes are not among
 * them: "he'll" and "we're" are not "hell" and "were".
 */
const INNER = /^[-._·–—]$/u;

/**
 * Splits folded text into words. With `joinInner`, a word split by one inner punctuation mark and no space
 * ("go-re", "go.re") is one word; without, it is two ("blood-bath" for the entry "blood bath"). Single letters in a row with the same separator between each ("g o r e", "g.o.r.e", "g,o,r,e",
 * "g ~ o ~ r ~ e") are joined into one spelt-out word; a change of separator ends the run, so "a S.S. officer"
 * stays "a ss officer".
 */
export function tokenise(
  folded: readonly string[],
  joinInner: boolean,
): { tokens: Token[]; joined: boolean } {
  const words: Array<{ chars: string[]; before: string }> = [];
  let current: string[] = [];
  let separator = "";
  let joined = false;
  for (let i = 0; i < folded.length; i++) {
    const c = folded[i] as string;
    if (ALNUM.test(c)) {
      current.push(c);
      continue;
    }
    const joins =
      joinInner &&
      INNER.test(c) &&
      current.length > 0 &&
      ALNUM.test(folded[i + 1] ?? "") &&
      ALNUM.test(folded[i + 2] ?? "");
    if (joins) {
      joined = true;
      continue;
    }
    if (current.length) {
      words.push({ chars: current, before: separator });
      current = [];
      separator = "";
    }
    separator += c;
  }
  if (current.length) words.push({ chars: current, before: separator });
  const tokens: Token[] = [];
  let runSeparator: string | undefined;
  for (const { chars, before } of words) {
    const word = unleetDigits(chars);
    const single = word.length === 1 && LETTER.test(word[0] as string);
    const last = tokens.at(-1);
    if (single && last?.spelt && (runSeparator === undefined || runSeparator === before)) {
      last.chars.push(...word);
      runSeparator = before;
    } else {
      tokens.push({ chars: word, spelt: single });
      runSeparator = undefined;
    }
  }
  // A lone single letter ("a knight") is an ordinary word.
  for (const t of tokens) if (t.chars.length === 1) t.spelt = false;
  return { tokens, joined };
}

/** The text as the blocklist sees it: lower-case words separated by single spaces. */
export function normalisePrompt(text: string): string {
  return tokenise([...fold(text)], false)
    .tokens.map((t) => t.chars.join(""))
    .join(" ");
}
