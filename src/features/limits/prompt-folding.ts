// How the blocklist reads a prompt or an entry: disguises undone (NFKC width and compatibility forms, case,
// accents, zero-width characters, TR39 look-alike letters from other scripts, symbols standing for letters);
// prompt-reading.ts then cuts the folded text into words.
import unhomoglyph from "unhomoglyph";
import { wordsOf } from "./prompt-reading.ts";

/** Format characters (zero-width spaces and joiners, soft hyphens, direction marks) and Hangul fillers. */
const INVISIBLE = /[\p{Cf}\u115F\u1160\u3164\uFFA0]/gu;
/** Accents, variation selectors and other combining marks, stripped after NFKD. */
const COMBINING = /\p{M}+/gu;
const ALNUM = /^[\p{L}\p{N}]$/u;
const ASCII = /^[\x20-\x7E]*$/;
/** Symbols commonly standing in for letters; `!`, `|` and `+` are left alone, being punctuation far more often. */
const LEET_SYMBOLS: Record<string, string> = { "@": "a", $: "s", "€": "e", "£": "l" };

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

/** The text as the blocklist sees it: lower-case words separated by single spaces. */
export function normalisePrompt(text: string): string {
  return wordsOf([...fold(text)]).join(" ");
}
