// A guild's blocklist, matched after undoing the usual disguises: width and compatibility forms (NFKC), case,
// accents, zero-width characters, look-alike letters from other scripts (Unicode TR39 confusables), common
// leetspeak, letters spelt out one by one ("g o r e", "g,o,r,e", "g/o/r/e") and stretched letters ("goore").
//
// Matching never backtracks: each entry word is a tiny automaton run over one prompt word at a time, so a check
// costs at most (prompt length × entry length) steps whatever the entry and the prompt are. A regular expression
// with one `[\p{L}]*` per wildcard held the event loop for seconds on crafted prompts.
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

/**
 * The most characters a prompt may have once compatibility forms are expanded (NFKC turns some single
 * characters, such as ﷺ, into up to 18 letters): the blocklist's work is bounded by this, not by what was typed.
 */
export const MAX_EXPANDED_PROMPT_LENGTH = 2000;

/** How long a text is once compatibility forms are expanded, as the blocklist reads it. */
export function expandedLength(text: string): number {
  return text.normalize("NFKC").length;
}

/** A word of the prompt; `spelt` when it was written one letter at a time, so any letter in it may start a word. */
interface Token {
  chars: string[];
  spelt: boolean;
}

/** Folds the text to lower-case letters and digits, every other character standing for a separator. */
function fold(text: string): string {
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
function tokenise(folded: readonly string[], joinInner: boolean): { tokens: Token[]; joined: boolean } {
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

export const MAX_BLOCKLIST_ENTRIES = 200;
export const MAX_ENTRY_LENGTH = 64;
/** Wildcards an entry may have: patterns are for word families ("nud*"), not for spelling out whole words. */
export const MAX_ENTRY_WILDCARDS = 4;

/**
 * One step of a word pattern: a letter that must come next, or a loop that takes any number of one letter
 * (`letter` set: the rest of a run of repeated letters) or of any letters (a `*`).
 */
type Step = { kind: "letter"; letter: string } | { kind: "loop"; letter: string | undefined };

export interface CompiledEntry {
  /** The entry as the moderator typed it. */
  entry: string;
  /** One pattern per word of the entry; a phrase matches consecutive words of the prompt. */
  words: Step[][];
  wildcards: number;
}

/**
 * Builds one word's pattern. A run of k equal letters matches a run of k or more in the prompt, so "gore"
 * matches "gooore" while "ass" does not match "as".
 */
function compileWord(word: string): Step[] {
  const steps: Step[] = [];
  const chars = [...word];
  for (let i = 0; i < chars.length; ) {
    const c = chars[i] as string;
    let j = i;
    while (chars[j] === c) j++;
    if (c === "*") {
      steps.push({ kind: "loop", letter: undefined });
    } else {
      for (let k = i; k < j; k++) steps.push({ kind: "letter", letter: c });
      // Next to a `*` the extra repeats are the wildcard's; a loop of its own would only add states.
      if (chars[i - 1] !== "*" && chars[j] !== "*") steps.push({ kind: "loop", letter: c });
    }
    i = j;
  }
  return steps;
}

/**
 * An entry is a word or phrase, with `*` standing for any letters: "gore" blocks the word gore (not
 * "gorgeous"), "gore*" also "gorefest". Entries are normalised like prompts, so "G0RE" and "gore" are one entry.
 * Undefined when nothing is left to match.
 */
export function compileEntry(entry: string): CompiledEntry | undefined {
  const parts = entry.split(/\*+/).map((p) => normalisePrompt(p));
  if (parts.every((p) => p === "")) return undefined;
  const joined = parts.join("*");
  return {
    entry,
    words: joined
      .split(" ")
      .filter((w) => w !== "")
      .map(compileWord),
    wildcards: joined.match(/\*+/g)?.length ?? 0,
  };
}

/**
 * Matching steps all of a server's entries may take together per prompt letter (an ordinary word of k letters
 * takes about 2k): the blocklist's work per prompt grows with it.
 */
export const MAX_BLOCKLIST_STEPS = 3000;

/** How many letters an entry's patterns hold. */
const entryLetters = (compiled: CompiledEntry) =>
  compiled.words.reduce((n, steps) => n + steps.filter((s) => s.kind === "letter").length, 0);
/** How many states the matcher keeps for an entry (letters and loops): its work per prompt letter. */
const entryStates = (compiled: CompiledEntry) => compiled.words.reduce((n, steps) => n + steps.length + 1, 0);

/**
 * Why an entry cannot be added to a blocklist that holds `existing`, in words for the moderator; undefined when
 * it can (and it is then compiled).
 */
export function entryProblem(entry: string, existing: readonly string[] = []): string | undefined {
  if ([...entry].length > MAX_ENTRY_LENGTH)
    return `An entry may be at most ${MAX_ENTRY_LENGTH} characters long.`;
  const compiled = compiledEntry(entry);
  if (!compiled) return "That entry has no letters or digits to match.";
  const letters = entryLetters(compiled);
  if (letters > MAX_ENTRY_LENGTH) {
    return `That entry is ${letters} letters long once its special characters are expanded; the limit is ${MAX_ENTRY_LENGTH}.`;
  }
  const total = existing.reduce((n, e) => {
    const other = compiledEntry(e);
    return n + (other ? entryStates(other) : 0);
  }, entryStates(compiled));
  if (total > MAX_BLOCKLIST_STEPS) {
    return `The blocklist is full: its entries would take ${total} matching steps per letter, over the ${MAX_BLOCKLIST_STEPS} it allows (a word of k letters takes about 2k). Remove some first.`;
  }
  if (compiled.wildcards > MAX_ENTRY_WILDCARDS) {
    return `An entry may have at most ${MAX_ENTRY_WILDCARDS} \`*\` wildcards; this one has ${compiled.wildcards}. Block the words themselves, or a shorter pattern such as \`nud*\`.`;
  }
  return undefined;
}

/** Counts the automaton's steps, so a test can prove the work is bounded by the input sizes. */
export interface MatchMeter {
  steps: number;
}

/**
 * Runs one word's pattern over one prompt word, keeping every state the pattern can be in at once (no
 * backtracking): (word length + 1) × (pattern length + 1) steps at most. `anyStart` and `anyEnd` let the match
 * begin and end inside the word, for words that were spelt out letter by letter.
 */
function matchWord(
  steps: Step[],
  chars: string[],
  anyStart: boolean,
  anyEnd: boolean,
  meter: MatchMeter | undefined,
): boolean {
  const n = steps.length;
  let current = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  // A loop may be taken zero times, so being before it is also being after it.
  const close = (states: Uint8Array) => {
    for (let i = 0; i < n; i++) if (states[i] && steps[i]?.kind === "loop") states[i + 1] = 1;
  };
  current[0] = 1;
  close(current);
  if (anyEnd && current[n]) return true;
  for (const c of chars) {
    next.fill(0);
    let alive = false;
    for (let i = 0; i < n; i++) {
      if (!current[i]) continue;
      const step = steps[i] as Step;
      if (step.kind === "letter") {
        if (step.letter === c) {
          next[i + 1] = 1;
          alive = true;
        }
      } else if (step.letter === undefined || step.letter === c) {
        next[i] = 1;
        alive = true;
      }
    }
    if (anyStart) {
      next[0] = 1;
      alive = true;
    }
    close(next);
    if (meter) meter.steps += n + 1;
    if (anyEnd && next[n]) return true;
    if (!alive) return false;
    [current, next] = [next, current];
  }
  return current[n] === 1;
}

function matches(compiled: CompiledEntry, tokens: Token[], meter: MatchMeter | undefined): boolean {
  const { words } = compiled;
  const last = words.length - 1;
  for (let start = 0; start + last < tokens.length; start++) {
    let all = true;
    for (let j = 0; j <= last && all; j++) {
      const token = tokens[start + j] as Token;
      all = matchWord(
        words[j] as Step[],
        token.chars,
        token.spelt && j === 0,
        token.spelt && j === last,
        meter,
      );
    }
    if (all) return true;
  }
  return false;
}

/** Compiled entries by their text: an entry is compiled when it is added, and then once per process at most. */
const compiledCache = new Map<string, CompiledEntry | undefined>();
const MAX_CACHED_ENTRIES = 10_000;

/** The entry's compiled form, from the cache when it was compiled before. */
export function compiledEntry(entry: string): CompiledEntry | undefined {
  if (compiledCache.has(entry)) return compiledCache.get(entry);
  const compiled = compileEntry(entry);
  if (compiledCache.size >= MAX_CACHED_ENTRIES) {
    compiledCache.delete(compiledCache.keys().next().value as string);
  }
  compiledCache.set(entry, compiled);
  return compiled;
}

export interface PolicyVerdict {
  blocked: boolean;
  /** The blocklist entry that matched, for the audit log (never shown to the member). */
  entry?: string;
}

export function checkPrompt(prompt: string, blocklist: readonly string[], meter?: MatchMeter): PolicyVerdict {
  // Words split by inner punctuation are read as two ("blood-bath") and, when there are any, as one ("go-re").
  const folded = [...fold(prompt)];
  const joined = tokenise(folded, true);
  const readings = joined.joined ? [tokenise(folded, false).tokens, joined.tokens] : [joined.tokens];
  for (const entry of blocklist) {
    const compiled = compiledEntry(entry);
    if (compiled && readings.some((tokens) => matches(compiled, tokens, meter)))
      return { blocked: true, entry };
  }
  return { blocked: false };
}
