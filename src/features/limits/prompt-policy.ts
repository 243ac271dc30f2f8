// A guild's blocklist, matched against prompts read as prompt-folding.ts reads them, so the usual disguises
// (look-alike letters, leetspeak, spelt-out and stretched letters: "g o r e", "goore") do not get past it.
//
// Matching never backtracks: each entry word is a tiny automaton run over one prompt word at a time, so a check
// costs at most (prompt length × entry length) steps whatever the entry and the prompt are. A regular expression
// with one `[\p{L}]*` per wildcard held the event loop for seconds on crafted prompts.
import { t } from "../../kit/i18n.ts";
import { fold, normalisePrompt } from "./prompt-folding.ts";
import { type Chunk, readPrompt } from "./prompt-reading.ts";

/**
 * The most characters a prompt may have once compatibility forms are expanded (NFKC turns some single
 * characters, such as ﷺ, into up to 18 letters): the blocklist's work is bounded by this, not by what was typed.
 */
export const MAX_EXPANDED_PROMPT_LENGTH = 2000;

/** How long a text is once compatibility forms are expanded, as the blocklist reads it. */
export function expandedLength(text: string): number {
  return text.normalize("NFKC").length;
}

export const MAX_BLOCKLIST_ENTRIES = 200;
export const MAX_ENTRY_LENGTH = 64;
/** Wildcards an entry may have: patterns are for word families ("nud*"), not for spelling out whole words. */
export const MAX_ENTRY_WILDCARDS = 4;

/**
 * One step of a word pattern: a letter that must come next, or a loop that takes any number of one letter
 * (`letter` set: the rest of a run of repeated letters) or of any letters (a `*`).
 */
type Step =
  | { kind: "letter"; letter: string }
  | { kind: "loop"; letter: string | undefined }
  /** Between the words of a phrase: crossed only where the prompt has a word boundary. */
  | { kind: "gap"; letter?: undefined };

export interface CompiledEntry {
  /** The entry as the moderator typed it. */
  entry: string;
  /** One pattern per word of the entry; a phrase matches consecutive words of the prompt. */
  words: Step[][];
  /** The words' patterns in a row, a gap step between each two. */
  steps: Step[];
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
  const words = joined
    .split(" ")
    .filter((w) => w !== "")
    .map(compileWord);
  const steps = words.flatMap((w, i): Step[] => (i === 0 ? w : [{ kind: "gap" }, ...w]));
  return { entry, words, steps, wildcards: joined.match(/\*+/g)?.length ?? 0 };
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

/** Counts the automaton's steps, so a test can prove the work is bounded by the input sizes. */
export interface MatchMeter {
  steps: number;
}

/**
 * The states an entry's automaton is in: a list without repeats, so a step costs the states really held rather
 * than the pattern's length, and a stamp per state instead of clearing an array for every character.
 */
class StateSet {
  readonly list: Int32Array;
  size = 0;
  private readonly seen: Uint32Array;
  private stamp = 1;

  constructor(private readonly steps: readonly Step[]) {
    this.list = new Int32Array(steps.length + 1);
    this.seen = new Uint32Array(steps.length + 1);
  }

  clear(): void {
    this.size = 0;
    this.stamp++;
  }

  has(state: number): boolean {
    return this.seen[state] === this.stamp;
  }

  /** Adds a state and, a loop being takable zero times, the states after the loops that follow it. */
  add(state: number): void {
    for (let j = state; j <= this.steps.length && this.seen[j] !== this.stamp; j++) {
      this.seen[j] = this.stamp;
      this.list[this.size++] = j;
      if (this.steps[j]?.kind !== "loop") return;
    }
  }
}

/**
 * The states after the gap before `chunk`: those that carry on into it when it may be the same word as the chunk
 * before, the next word of a phrase where a word may end and begin, and a fresh start where a word may begin.
 */
function crossGap(
  current: StateSet,
  next: StateSet,
  steps: readonly Step[],
  before: Chunk | undefined,
  chunk: Chunk,
) {
  next.clear();
  // Inside a spelt-out run the words of a phrase may meet anywhere ("b l o o d b a t h").
  const phrase = chunk.joinsPrevious || (before?.canEnd === true && chunk.canStart);
  for (let k = 0; k < current.size; k++) {
    const state = current.list[k] as number;
    const step = steps[state];
    if (step === undefined) continue;
    if (step.kind === "gap" ? phrase : chunk.joinsPrevious) next.add(step.kind === "gap" ? state + 1 : state);
  }
  if (chunk.canStart) next.add(0);
}

/** The states after character j of the chunk, which a skippable digit may also leave where they are. */
function readChar(current: StateSet, next: StateSet, steps: readonly Step[], chunk: Chunk, j: number) {
  next.clear();
  const [c, also, skippable] = [chunk.chars[j] as string, chunk.also[j] as string, chunk.skippable[j]];
  for (let k = 0; k < current.size; k++) {
    const state = current.list[k] as number;
    const step = steps[state];
    if (step === undefined || step.kind === "gap") continue;
    if (skippable) next.add(state);
    const fits =
      step.letter === undefined || step.letter === c || (also !== "" && also.includes(step.letter));
    if (fits) next.add(step.kind === "letter" ? state + 1 : state);
  }
}

/**
 * Runs an entry's pattern over the whole prompt, keeping every state it can be in at once (no backtracking):
 * at most (pattern length + 1) states per character and per gap between chunks. A word is matched from where a
 * chunk may start to where one may end, across the gaps the reading allows to be joined.
 */
function matches(compiled: CompiledEntry, chunks: readonly Chunk[], meter: MatchMeter | undefined): boolean {
  const { steps } = compiled;
  let current = new StateSet(steps);
  let next = new StateSet(steps);
  for (let k = 0; k < chunks.length; k++) {
    const chunk = chunks[k] as Chunk;
    // Metered at what a character may cost (every state held), not at what this one did.
    if (meter) meter.steps += steps.length + 1;
    crossGap(current, next, steps, chunks[k - 1], chunk);
    [current, next] = [next, current];
    for (let j = 0; j < chunk.chars.length && current.size > 0; j++) {
      if (meter) meter.steps += steps.length + 1;
      readChar(current, next, steps, chunk, j);
      [current, next] = [next, current];
    }
    if (chunk.canEnd && current.has(steps.length)) return true;
  }
  return false;
}

export interface PolicyVerdict {
  blocked: boolean;
  /** The blocklist entry that matched, for the audit log (never shown to the member). */
  entry?: string;
}

/** Compiled entries kept at most, the oldest forgotten first. */
const MAX_CACHED_ENTRIES = 10_000;

/**
 * Checks prompts against a server's blocklist and entries before they are added to it. Holds every entry it has
 * compiled, so an entry is compiled when it is added, and then once per service that checks prompts at most.
 */
export class PromptPolicy {
  /** Compiled entries by their text. */
  private readonly compiledEntries = new Map<string, CompiledEntry | undefined>();

  /** The entry's compiled form, kept from when it was compiled before. */
  compiled(entry: string): CompiledEntry | undefined {
    if (this.compiledEntries.has(entry)) return this.compiledEntries.get(entry);
    const compiled = compileEntry(entry);
    if (this.compiledEntries.size >= MAX_CACHED_ENTRIES) {
      this.compiledEntries.delete(this.compiledEntries.keys().next().value as string);
    }
    this.compiledEntries.set(entry, compiled);
    return compiled;
  }

  /**
   * Why an entry cannot be added to a blocklist that holds `existing`, in words for the moderator; undefined
   * when it can (and it is then compiled).
   */
  entryProblem(entry: string, existing: readonly string[] = []): string | undefined {
    if ([...entry].length > MAX_ENTRY_LENGTH)
      return t("limits:blocklist.entryTooLong", { max: MAX_ENTRY_LENGTH });
    const compiled = this.compiled(entry);
    if (!compiled) return t("limits:blocklist.noLetters");
    const letters = entryLetters(compiled);
    if (letters > MAX_ENTRY_LENGTH) {
      return t("limits:blocklist.expandedTooLong", { letters, max: MAX_ENTRY_LENGTH });
    }
    const total = existing.reduce((n, e) => {
      const other = this.compiled(e);
      return n + (other ? entryStates(other) : 0);
    }, entryStates(compiled));
    if (total > MAX_BLOCKLIST_STEPS) {
      return t("limits:blocklist.full", { total, max: MAX_BLOCKLIST_STEPS });
    }
    if (compiled.wildcards > MAX_ENTRY_WILDCARDS) {
      return t("limits:blocklist.wildcards", { max: MAX_ENTRY_WILDCARDS, count: compiled.wildcards });
    }
    return undefined;
  }

  check(prompt: string, blocklist: readonly string[], meter?: MatchMeter): PolicyVerdict {
    const chunks = readPrompt([...fold(prompt)]);
    for (const entry of blocklist) {
      const compiled = this.compiled(entry);
      if (compiled && matches(compiled, chunks, meter)) return { blocked: true, entry };
    }
    return { blocked: false };
  }
}
