// The slash commands' localizations: the English file is the builders' texts, every locale has every name,
// description and choice, and each of them is one Discord accepts (its name pattern, lowercase, unique beside
// its siblings, the length limits).
import type { LocalizationMap } from "discord.js";
import { describe, expect, it } from "vitest";
import { commandData, commands } from "../../../src/discord/commands/index.ts";
import {
  type CommandTexts,
  commandTexts,
  localizeCommands,
  TRANSLATED_LOCALES,
} from "../../../src/discord/commands/localizations.ts";
import { DEFAULT_LOCALE, localeNamespace } from "../../../src/kit/i18n.ts";

/** Discord's rule for a chat-input command's or option's name, in every locale. */
const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

interface Node {
  name: string;
  description: string;
  name_localizations?: LocalizationMap | null;
  description_localizations?: LocalizationMap | null;
  options?: Node[];
  choices?: Array<{ name: string; value: string | number; name_localizations?: LocalizationMap | null }>;
}

/** Every command, subcommand (group) and option of the registered JSON, each with its path and siblings. */
function nodesOf(list: Node[], path = ""): Array<{ path: string; node: Node; siblings: Node[] }> {
  return list.flatMap((node) => {
    const here = `${path}/${node.name}`;
    return [{ path: here, node, siblings: list }, ...nodesOf(node.options ?? [], here)];
  });
}

const registered = commandData() as unknown as Node[];
const nodes = nodesOf(registered);

/** The numbers a text names ("1–4", "25 entries", "16:9"): a translation keeps them all. */
const numbersIn = (text: string) => new Set(text.match(/\d+/g) ?? []);

/** The shape of a texts tree: every path of a name, description and choice, without the words. */
function shapeOf(texts: Record<string, CommandTexts>, prefix = ""): string[] {
  return Object.entries(texts).flatMap(([key, t]) => [
    `${prefix}${key}`,
    ...Object.keys(t.choices ?? {}).map((value) => `${prefix}${key}=${value}`),
    ...shapeOf(t.options ?? {}, `${prefix}${key}/`),
  ]);
}

describe("command localizations", () => {
  it("has the builders' English names and descriptions as the en-US file, exactly", () => {
    expect(localeNamespace(DEFAULT_LOCALE, "commands")).toEqual(commandTexts(commands.map((c) => c.data)));
  });

  it.each(TRANSLATED_LOCALES)(
    "%s has every command, option and choice English has, and nothing else",
    (locale) => {
      const english = localeNamespace(DEFAULT_LOCALE, "commands") as Record<string, CommandTexts>;
      const translated = localeNamespace(locale, "commands") as Record<string, CommandTexts>;
      expect(shapeOf(translated).sort()).toEqual(shapeOf(english).sort());
    },
  );

  it.each(TRANSLATED_LOCALES)(
    "%s names every command and option as Discord accepts, unique beside its siblings",
    (locale) => {
      for (const { path, node, siblings } of nodes) {
        const name = node.name_localizations?.[locale];
        expect(name, `${locale} ${path}`).toMatch(NAME);
        expect(name, `${locale} ${path} is lowercase`).toBe(name?.toLowerCase());
        const same = siblings.filter((s) => s.name_localizations?.[locale] === name);
        expect(
          same.map((s) => s.name),
          `${locale} ${path} is unique`,
        ).toEqual([node.name]);
      }
      const topLevel = registered.map((c) => c.name_localizations?.[locale]);
      expect(new Set(topLevel).size).toBe(registered.length);
    },
  );

  it.each(TRANSLATED_LOCALES)(
    "%s describes every command and option in 1–100 characters, keeping the numbers",
    (locale) => {
      for (const { path, node } of nodes) {
        const description = node.description_localizations?.[locale] ?? "";
        expect(description.length, `${locale} ${path}: ${description}`).toBeGreaterThanOrEqual(1);
        expect(description.length, `${locale} ${path}: ${description}`).toBeLessThanOrEqual(100);
        for (const n of numbersIn(node.description))
          expect(numbersIn(description), `${locale} ${path}`).toContain(n);
      }
    },
  );

  it.each(TRANSLATED_LOCALES)(
    "%s names a command in a description as that language's picker shows it",
    (locale) => {
      const names = new Set(registered.map((c) => c.name_localizations?.[locale]));
      const mentions = nodes.flatMap(({ path, node }) =>
        [...(node.description_localizations?.[locale] ?? "").matchAll(/\/([^\s/)]+)/gu)].map((m) => ({
          path,
          name: m[1],
        })),
      );
      expect(mentions.length).toBeGreaterThan(0);
      for (const { path, name } of mentions) expect(names, `${locale} ${path}`).toContain(name);
    },
  );

  it.each(TRANSLATED_LOCALES)(
    "%s names every choice in 1–100 characters, unique, keeping the numbers",
    (locale) => {
      const withChoices = nodes.filter(({ node }) => node.choices?.length);
      expect(withChoices.length).toBeGreaterThan(0);
      for (const { path, node } of withChoices) {
        const names = (node.choices ?? []).map((c) => {
          const name = c.name_localizations?.[locale] ?? "";
          expect(name.length, `${locale} ${path}=${c.value}`).toBeGreaterThanOrEqual(1);
          expect(name.length, `${locale} ${path}=${c.value}`).toBeLessThanOrEqual(100);
          for (const n of numbersIn(c.name))
            expect(numbersIn(name), `${locale} ${path}=${c.value}`).toContain(n);
          return name;
        });
        expect(new Set(names).size, `${locale} ${path}`).toBe(names.length);
      }
    },
  );

  it("keeps English in the names and descriptions themselves, and in the builders' JSON", () => {
    expect(registered.map((c) => c.name)).toEqual(commands.map((c) => c.data.name));
    expect(registered.map((c) => c.description)).toEqual(commands.map((c) => c.data.description));
    expect(commands.every((c) => !("name_localizations" in c.data) || !c.data.name_localizations?.de)).toBe(
      true,
    );
    const character = registered.find((c) => c.name === "character");
    expect(character?.name_localizations?.de).toBe("charakter");
    expect(
      character?.options?.find((o) => o.name === "aspect_ratio")?.choices?.[0]?.name_localizations,
    ).toMatchObject({
      de: "1:1 quadratisch",
      ja: "1:1 正方形",
    });
  });

  it("leaves a text a locale file lacks to Discord's English", () => {
    const [localized] = localizeCommands([
      { name: "not-in-any-file", description: "A command no locale file names", options: [] },
    ]);
    expect(localized?.name_localizations).toEqual({});
    expect(localized?.description_localizations).toEqual({});
  });
});
