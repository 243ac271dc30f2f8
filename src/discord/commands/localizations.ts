// The slash commands in every language the bot speaks: the builders hold the English names and descriptions;
// src/locales/<locale>/commands.json holds each locale's, keyed by the English names (and a choice by its
// value), and this fills them into the registered JSON as Discord's name_localizations and
// description_localizations. A locale that lacks a text leaves Discord to show the English one. Discord sends
// interactions under the English names whatever the member's language, so handlers read the English names.
import type { LocalizationMap, RESTPostAPIChatInputApplicationCommandsJSONBody } from "discord.js";
import { DEFAULT_LOCALE, LOCALES, type Locale, localeNamespace } from "../../kit/i18n.ts";

type CommandData = RESTPostAPIChatInputApplicationCommandsJSONBody;

/** A command's, subcommand's or option's texts in one locale, as commands.json holds them. */
export interface CommandTexts {
  name: string;
  description: string;
  /** Subcommands, subcommand groups and options, by their English name. */
  options?: Record<string, CommandTexts>;
  /** A choice's name, by the choice's value. */
  choices?: Record<string, string>;
}

/** The parts of a command's JSON that carry texts: a command, a subcommand (group) or an option. */
interface CommandNode {
  name: string;
  description: string;
  name_localizations?: LocalizationMap | null;
  description_localizations?: LocalizationMap | null;
  options?: CommandNode[];
  choices?: Array<{ name: string; value: string | number; name_localizations?: LocalizationMap | null }>;
}

/** The locales Discord is given localizations in: all but English, which the builders hold. */
export const TRANSLATED_LOCALES = LOCALES.filter((l): l is Exclude<Locale, "en-US"> => l !== DEFAULT_LOCALE);

/** One locale's texts for a node (undefined where the locale file lacks it). */
type TextsIn = Array<[Exclude<Locale, "en-US">, CommandTexts | undefined]>;

/** The commands' texts as commands.json holds them, read from the commands' JSON (English: the source). */
export function commandTexts(commands: readonly CommandData[]): Record<string, CommandTexts> {
  return Object.fromEntries(commands.map((c) => [c.name, textsOf(c as unknown as CommandNode)]));
}

function textsOf(node: CommandNode): CommandTexts {
  const texts: CommandTexts = { name: node.name, description: node.description };
  if (node.options?.length) {
    texts.options = Object.fromEntries(node.options.map((o) => [o.name, textsOf(o)]));
  }
  if (node.choices?.length) {
    texts.choices = Object.fromEntries(node.choices.map((c) => [String(c.value), c.name]));
  }
  return texts;
}

/** The commands with every locale's names and descriptions filled in from the locale files. */
export function localizeCommands(commands: readonly CommandData[]): CommandData[] {
  const files = TRANSLATED_LOCALES.map(
    (locale) => [locale, localeNamespace(locale, "commands") as Record<string, CommandTexts>] as const,
  );
  return commands.map((command) => {
    const texts: TextsIn = files.map(([locale, file]) => [locale, file[command.name]]);
    return localizeNode(command as unknown as CommandNode, texts) as unknown as CommandData;
  });
}

function localizeNode(node: CommandNode, texts: TextsIn): CommandNode {
  const localized: CommandNode = {
    ...node,
    name_localizations: { ...node.name_localizations, ...localizations(texts, (t) => t.name) },
    description_localizations: {
      ...node.description_localizations,
      ...localizations(texts, (t) => t.description),
    },
  };
  if (node.options) {
    localized.options = node.options.map((option) =>
      localizeNode(
        option,
        texts.map(([locale, t]) => [locale, t?.options?.[option.name]]),
      ),
    );
  }
  if (node.choices) {
    localized.choices = node.choices.map((choice) => ({
      ...choice,
      name_localizations: {
        ...choice.name_localizations,
        ...localizations(texts, (t) => t.choices?.[String(choice.value)]),
      },
    }));
  }
  return localized;
}

/** Each locale's text for one field, leaving out the locales that lack it. */
function localizations(texts: TextsIn, pick: (t: CommandTexts) => string | undefined): LocalizationMap {
  const map: LocalizationMap = {};
  for (const [locale, t] of texts) {
    const text = t ? pick(t) : undefined;
    if (text) map[locale] = text;
  }
  return map;
}
