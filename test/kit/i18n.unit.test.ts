// The locale files: every message English has exists in every locale, with the same placeholders; every
// message parses as ICU and, rendered with long values, fits where Discord shows it; every key the code asks
// for exists. Command name localizations are checked with the commands (test/discord/commands).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type MessageFormatElement, parse, TYPE } from "@formatjs/icu-messageformat-parser";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LOCALE,
  hasMessage,
  inLocales,
  LOCALES,
  localeScope,
  readLocaleFiles,
  t,
  tIn,
  toLocale,
  tPublic,
} from "../../src/kit/i18n.ts";

const resources = readLocaleFiles();
/** Namespaces that are not messages (command localizations: plain names and descriptions). */
const NOT_MESSAGES = new Set(["commands"]);

/** Every message of a namespace tree as `namespace:dotted.key` → text. */
function messagesOf(locale: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (prefix: string, node: unknown) => {
    if (typeof node === "string") out.set(prefix, node);
    else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node))
        walk(prefix.endsWith(":") ? `${prefix}${k}` : `${prefix}.${k}`, v);
    }
  };
  for (const [ns, tree] of Object.entries(resources[locale] ?? {})) {
    if (!NOT_MESSAGES.has(ns)) walk(`${ns}:`, tree);
  }
  return out;
}

/** A message's placeholders with the kind of value each takes. */
function placeholders(
  elements: MessageFormatElement[],
  into = new Map<string, string>(),
): Map<string, string> {
  for (const e of elements) {
    if (e.type === TYPE.argument) into.set(e.value, into.get(e.value) ?? "text");
    else if (e.type === TYPE.number || e.type === TYPE.plural) into.set(e.value, "number");
    else if (e.type === TYPE.date || e.type === TYPE.time) into.set(e.value, "date");
    else if (e.type === TYPE.select) {
      into.set(e.value, `select:${Object.keys(e.options).find((o) => o !== "other") ?? "other"}`);
    }
    if (e.type === TYPE.plural || e.type === TYPE.select) {
      for (const option of Object.values(e.options)) placeholders(option.value, into);
    }
  }
  return into;
}

/** Where Discord shows a message, by its key's last part: the longest text it takes there. */
function limitOf(key: string): number {
  const last = key.split(/[.:]/).pop() ?? "";
  if (/label$/i.test(last)) return 80; // button and select labels
  if (/modalTitle$/i.test(last)) return 45; // a modal's title
  if (/placeholder$/i.test(last)) return 100; // a text input's placeholder
  if (/choice$/i.test(last) || /description$/i.test(last)) return 100; // choice names, descriptions
  if (/^(embedTitle|fieldName)$/i.test(last)) return 256;
  return 2000; // a message's content
}

/** Long, realistic values for each placeholder: a rendered message must still fit with them. */
function sampleValues(kinds: Map<string, string>): Record<string, string | number | Date> {
  const values: Record<string, string | number | Date> = {};
  for (const [name, kind] of kinds) {
    if (kind === "number") values[name] = 1234;
    else if (kind === "date") values[name] = new Date(0);
    else if (kind.startsWith("select:")) values[name] = kind.slice("select:".length);
    else values[name] = "x".repeat(40);
  }
  return values;
}

const english = messagesOf(DEFAULT_LOCALE);

describe("locale files", () => {
  it("English has messages", () => {
    expect(english.size).toBeGreaterThan(0);
  });

  for (const locale of LOCALES) {
    const messages = messagesOf(locale);

    it(`${locale}: every message parses, has English's placeholders, and nothing English lacks`, () => {
      const problems: string[] = [];
      for (const [key, text] of english) {
        const translated = messages.get(key);
        if (translated === undefined) {
          problems.push(`${key}: missing`);
          continue;
        }
        let ours: Map<string, string>;
        let theirs: Map<string, string>;
        try {
          ours = placeholders(parse(text, { ignoreTag: true }));
          theirs = placeholders(parse(translated, { ignoreTag: true }));
        } catch (err) {
          problems.push(`${key}: does not parse (${(err as Error).message})`);
          continue;
        }
        const a = [...ours.keys()].sort().join(",");
        const b = [...theirs.keys()].sort().join(",");
        if (a !== b) problems.push(`${key}: placeholders {${b}} where English has {${a}}`);
      }
      for (const key of messages.keys()) if (!english.has(key)) problems.push(`${key}: not in English`);
      expect(problems).toEqual([]);
    });

    it(`${locale}: every message, rendered with long values, fits where Discord shows it`, () => {
      const problems: string[] = [];
      for (const [key, text] of english) {
        const values = sampleValues(placeholders(parse(text, { ignoreTag: true })));
        const rendered = tIn(locale, key, values);
        if (rendered.length > limitOf(key)) problems.push(`${key}: ${rendered.length} > ${limitOf(key)}`);
        if (rendered === key) problems.push(`${key}: not found`);
      }
      expect(problems).toEqual([]);
    });
  }
});

/** Every `t("ns:key")`, `tPublic(…)` and `tIn(locale, …)` with a literal key in src/. */
function keysInSource(dir: string, into = new Set<string>()): Set<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) keysInSource(path, into);
    else if (name.endsWith(".ts")) {
      const source = readFileSync(path, "utf8");
      for (const m of source.matchAll(/\b(?:t|tPublic|tIn\([^,()]+,)\(?\s*"([a-zA-Z]+:[\w.]+)"/g)) {
        if (m[1]) into.add(m[1]);
      }
    }
  }
  return into;
}

describe("the code and the locale files", () => {
  it("every key the code asks for exists in English", () => {
    const keys = keysInSource(join(import.meta.dirname, "../../src"));
    expect(keys.size).toBeGreaterThan(0);
    expect([...keys].filter((k) => !hasMessage(k))).toEqual([]);
  });
});

describe("choosing the language", () => {
  it("takes Discord's locale as the closest language the bot speaks", () => {
    expect(toLocale("de")).toBe("de");
    expect(toLocale("es-419")).toBe("es-ES");
    expect(toLocale("en-GB")).toBe("en-US");
    expect(toLocale("pt-BR")).toBe("pt-BR");
    expect(toLocale("zh-CN")).toBe("en-US");
    expect(toLocale(undefined)).toBe("en-US");
  });

  it("writes for the member in theirs and for the channel in the server's, across awaits", async () => {
    const key = [...english.keys()][0] as string;
    const values = sampleValues(placeholders(parse(english.get(key) as string, { ignoreTag: true })));
    const seen = await inLocales(localeScope("ja", "de"), async () => {
      await new Promise((r) => setTimeout(r, 1));
      return { member: t(key, values), channel: tPublic(key, values) };
    });
    expect(seen).toEqual({ member: tIn("ja", key, values), channel: tIn("de", key, values) });
    expect(t(key, values)).toBe(tIn("en-US", key, values));
    expect(localeScope("fr", null)).toEqual({ member: "fr", audience: "fr" });
  });
});
