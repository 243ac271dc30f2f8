// How the blocklist cuts a folded prompt into chunks (runs of letters and digits) and decides which neighbouring
// chunks may be one disguised word ("g o r e", "g ore", "a g.o.r.e scene"), where a word may start and end, and
// which digits may be letters ("60r3", "g1ore"). Every decision looks at a chunk and its two neighbours only, so
// reading a prompt is linear in its length.

const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{N}$/u;
const ALNUM = /^[\p{L}\p{N}]$/u;
const WHITESPACE = /^\s+$/u;
/** Scripts written without spaces: a change between one of them and any other script ends a chunk ("goreのシーン"). */
const UNSPACED = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー]$/u;
/**
 * Letters that are words of their own in the languages the bot's members write (a, I, y, o, e, u, and à once
 * accents are gone): next to a longer word such a letter stays a word ("put a hat", "a SS officer"), while any
 * other lone letter can only be part of something ("g ore", "kil l").
 */
const WORD_LETTERS = new Set(["a", "e", "i", "o", "u", "y"]);
/** Apostrophes: "l'homme", "s'exprimer" and "d'un" are two words, not "lhomme" or "sexprimer". */
const APOSTROPHE = /['’ʼ`´]/u;
/**
 * Punctuation that may split a word without a space ("go-re", "g-ore", "go.re"); the pieces are read both joined
 * and apart ("blood-bath" for the entry "blood bath"). Apostrophes are not among them: "he'll" is not "hell".
 */
const INNER = /^[-._·–—]$/u;

/** Digits commonly standing in for letters, and the letters each may stand for. */
const LEET_DIGITS: Record<string, string> = {
  "0": "o",
  "1": "il",
  "3": "e",
  "4": "a",
  "5": "s",
  "6": "gb",
  "7": "t",
  "8": "b",
  "9": "gq",
};

/** A run of letters and digits of the prompt, and how it may join its neighbours. */
export interface Chunk {
  chars: string[];
  /** The letters each character may also stand for ("il" for a 1 read as leetspeak), or "". */
  also: string[];
  /** Characters that may also be read as nothing: a digit between letters, as in "g1ore". */
  skippable: boolean[];
  /** Whether this chunk and the one before it may be one word. */
  joinsPrevious: boolean;
  /** Whether a matched word may begin at this chunk, and end at its last character. */
  canStart: boolean;
  canEnd: boolean;
}

interface Piece {
  text: string[];
  /** The separator before this piece (empty for the first). */
  before: string;
  single: boolean;
  /** A lone letter that is a word of its own (a, I, y…). */
  wordLetter: boolean;
}

function pieces(folded: readonly string[]): Piece[] {
  const out: Piece[] = [];
  let current: string[] = [];
  let separator = "";
  const flush = () => {
    if (!current.length) return;
    // A lone character of a script written without spaces is a word, not a letter spelt out.
    const single = current.length === 1 && !UNSPACED.test(current[0] as string);
    out.push({
      text: current,
      before: separator,
      single,
      wordLetter: single && WORD_LETTERS.has(current[0] as string),
    });
    current = [];
    separator = "";
  };
  for (const c of folded) {
    const last = current.at(-1);
    if (last !== undefined && ALNUM.test(c) && UNSPACED.test(c) !== UNSPACED.test(last)) flush();
    if (ALNUM.test(c)) current.push(c);
    else {
      flush();
      separator += c;
    }
  }
  flush();
  return out;
}

/** Whitespace alone, or punctuation (with or without spaces): a spelt-out run keeps one kind throughout. */
const kind = (separator: string) => (WHITESPACE.test(separator) ? "space" : "mark");

/**
 * Whether two lone characters next to each other are letters of one spelt-out word. Two that are not words of
 * their own always are ("g r", "s.h"); with a word letter among them, the separator must be of the same kind as
 * a neighbouring one in the run, so "g o r e" and "a,s,s" are runs while "a S.S. officer" keeps its "a".
 */
function singlesJoin(all: readonly Piece[], i: number): boolean {
  const [left, right] = [all[i - 1] as Piece, all[i] as Piece];
  if (!left.wordLetter && !right.wordLetter) return true;
  const before = all[i - 2]?.single ? left.before : undefined;
  const after = all[i + 1]?.single ? (all[i + 1] as Piece).before : undefined;
  if (before === undefined && after === undefined) return true;
  const here = kind(right.before);
  return (before !== undefined && kind(before) === here) || (after !== undefined && kind(after) === here);
}

/** Which pieces join the one before them (index i: piece i with piece i - 1). */
function joins(all: readonly Piece[]): boolean[] {
  const spelt = all.map((p, i) => i > 0 && p.single && (all[i - 1] as Piece).single && singlesJoin(all, i));
  const joined = all.map((p, i) => spelt[i] === true || (i > 0 && INNER.test(p.before)));
  // A lone letter joins a longer neighbour if it is not a word of its own, or if it is spelt out with others.
  const joinsLonger = (k: number, other: number) => {
    const p = all[k] as Piece;
    return !p.wordLetter || (other < k ? spelt[k + 1] === true : spelt[k] === true);
  };
  for (let i = 1; i < all.length; i++) {
    const [left, right] = [all[i - 1] as Piece, all[i] as Piece];
    if (left.single === right.single || APOSTROPHE.test(right.before)) continue;
    joined[i] ||= left.single ? joinsLonger(i - 1, i) : joinsLonger(i, i - 1);
  }
  return joined;
}

/**
 * Whether a word's digits may be letters: it has at least as many letters as digits ("g0r3", "s3x"), or its
 * letters and digits are mixed rather than a number with a unit ("60r3", "b100d", but not "53x", "4k" or "455").
 */
function readsLeet(chars: readonly string[]): boolean {
  const digits = chars.filter((c) => DIGIT.test(c)).length;
  if (digits === 0) return false;
  if (chars.length - digits >= digits) return true;
  let changes = 0;
  for (let i = 1; i < chars.length; i++)
    if (DIGIT.test(chars[i] as string) !== DIGIT.test(chars[i - 1] as string)) changes++;
  return changes >= 2;
}

/** Marks the pieces whose digits read as letters: longer pieces by themselves, lone characters by their run. */
function leetPieces(all: readonly Piece[], joined: readonly boolean[]): boolean[] {
  const leet = all.map((p) => !p.single && readsLeet(p.text));
  for (let start = 0; start < all.length; ) {
    let end = start + 1;
    if ((all[start] as Piece).single) {
      while (end < all.length && (all[end] as Piece).single && joined[end]) end++;
      const run = all.slice(start, end).flatMap((p) => p.text);
      if (readsLeet(run)) for (let k = start; k < end; k++) leet[k] = true;
    }
    start = end;
  }
  return leet;
}

function chunkOf(piece: Piece, leet: boolean): Pick<Chunk, "chars" | "also" | "skippable"> {
  const { text } = piece;
  const also = text.map((c) => (leet ? (LEET_DIGITS[c] ?? "") : ""));
  const isLetter = (k: number) => LETTER.test(text[k] ?? "");
  const skippable = text.map((c, k) => leet && DIGIT.test(c) && isLetter(k - 1) && isLetter(k + 1));
  return { chars: text, also, skippable };
}

/**
 * Reads folded text as chunks. A word may not begin at a lone letter glued to a lone letter before it that is not
 * a word of its own, nor end at one glued to such a letter after it: "s.h.e.l.l" holds no "hell", while
 * "a g o r e" holds "gore".
 */
export function readPrompt(folded: readonly string[]): Chunk[] {
  const all = pieces(folded);
  const joined = joins(all);
  const leet = leetPieces(all, joined);
  const glued = (k: number) => {
    const p = all[k];
    return p?.single === true && !p.wordLetter;
  };
  return all.map((p, i) => ({
    ...chunkOf(p, leet[i] === true),
    joinsPrevious: joined[i] === true,
    canStart: !(p.single && joined[i] && glued(i - 1)),
    canEnd: !(p.single && joined[i + 1] && glued(i + 1)),
  }));
}

/**
 * The text as words, for entries and for display: each chunk with its digits read as letters where they may be,
 * spelt-out runs of lone characters joined ("g~o~r~e" is "gore").
 */
export function wordsOf(folded: readonly string[]): string[] {
  const chunks = readPrompt(folded);
  const words: string[] = [];
  chunks.forEach((chunk, i) => {
    const text = chunk.chars.map((c, k) => chunk.also[k]?.[0] ?? c).join("");
    const previous = chunks[i - 1];
    const spelt = chunk.chars.length === 1 && previous?.chars.length === 1 && chunk.joinsPrevious;
    if (spelt) words[words.length - 1] += text;
    else words.push(text);
  });
  return words;
}
