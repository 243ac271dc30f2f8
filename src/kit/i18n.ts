// The bot's words in the member's language: i18next with ICU messages (plurals, selects) from the JSON files
// in src/locales/<locale>/<namespace>.json, loaded once, synchronously, at import. Which language a text is in
// is set per interaction by the router (and per job by the code that delivers it) in an AsyncLocalStorage
// scope, so a view asks for its words without every call passing a locale down: `t` for what only the member
// sees (ephemeral replies), `tPublic` for what the channel sees (grids, video posts) in the server's language.
import { AsyncLocalStorage } from "node:async_hooks";
import { readdirSync, readFileSync } from "node:fs";
import i18next, { type Resource } from "i18next";
import ICU from "i18next-icu";

/** The languages the bot speaks; English (en-US) is the source every other locale translates. */
export const LOCALES = ["en-US", "de", "fr", "es-ES", "pt-BR", "ja"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "en-US";

/** Values a message's placeholders take. */
export type MessageValues = Record<string, string | number | boolean | Date | null | undefined>;

/**
 * A Discord locale (`en-GB`, `es-419`, `pt-BR`, `ja`…) as the closest language the bot speaks: the exact one,
 * else the one of the same language, else English.
 */
export function toLocale(discordLocale: string | null | undefined): Locale {
  if (!discordLocale) return DEFAULT_LOCALE;
  const exact = LOCALES.find((l) => l.toLowerCase() === discordLocale.toLowerCase());
  if (exact) return exact;
  const language = discordLocale.split("-")[0]?.toLowerCase();
  return LOCALES.find((l) => l.split("-")[0]?.toLowerCase() === language) ?? DEFAULT_LOCALE;
}

const LOCALES_DIR = new URL("../locales/", import.meta.url);

/** Every locale's namespaces as read from disk: `{ "de": { "grid": { … } } }`. */
export function readLocaleFiles(): Resource {
  const resources: Resource = {};
  for (const locale of LOCALES) {
    const dir = new URL(`${locale}/`, LOCALES_DIR);
    const namespaces: Resource[string] = {};
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      namespaces[file.slice(0, -".json".length)] = JSON.parse(readFileSync(new URL(file, dir), "utf8"));
    }
    resources[locale] = namespaces;
  }
  return resources;
}

const resources = readLocaleFiles();
const i18n = i18next.createInstance();
i18n.use(ICU).init({
  resources,
  lng: DEFAULT_LOCALE,
  fallbackLng: DEFAULT_LOCALE,
  supportedLngs: [...LOCALES],
  ns: Object.keys(resources[DEFAULT_LOCALE] ?? {}),
  defaultNS: "common",
  initAsync: false,
  returnNull: false,
  returnEmptyString: false,
  i18nFormat: {
    // A message that does not parse is a bug in a locale file: say so instead of showing it raw.
    parseErrorHandler: (err: Error, key: string) => {
      throw new Error(`locale message ${key} does not parse: ${err.message}`);
    },
  },
});

/** A message (`namespace:key`) in `locale`, English where the locale lacks it. */
export function tIn(locale: Locale, key: string, values?: MessageValues): string {
  return i18n.t(key, { ...values, lng: locale });
}

/** Whether English has the message: the locale test checks every key the code asks for. */
export function hasMessage(key: string): boolean {
  return i18n.exists(key, { lng: DEFAULT_LOCALE });
}

/** Whose language an interaction's texts are in: the member's own, and the channel's (the server's). */
export interface LocaleScope {
  /** The member's client language: ephemeral replies, modals, private notices. */
  member: Locale;
  /** The server's language (`guild_locale`), or the member's outside a server: what the channel sees. */
  audience: Locale;
}

const scope = new AsyncLocalStorage<LocaleScope>();
const ENGLISH: LocaleScope = { member: DEFAULT_LOCALE, audience: DEFAULT_LOCALE };

/** The scope of an interaction, from its `locale` and `guild_locale`. */
export function localeScope(memberLocale?: string | null, guildLocale?: string | null): LocaleScope {
  const member = toLocale(memberLocale);
  return { member, audience: guildLocale ? toLocale(guildLocale) : member };
}

/** Runs `fn` (and everything it starts) with texts in `locales`. */
export function inLocales<T>(locales: LocaleScope, fn: () => T): T {
  return scope.run(locales, fn);
}

/** The languages of the work under way; English outside any interaction or job. */
export function currentLocales(): LocaleScope {
  return scope.getStore() ?? ENGLISH;
}

/** A text only the member sees, in their language. */
export function t(key: string, values?: MessageValues): string {
  return tIn(currentLocales().member, key, values);
}

/** A text the channel sees (a grid, a video post), in the server's language. */
export function tPublic(key: string, values?: MessageValues): string {
  return tIn(currentLocales().audience, key, values);
}

/** The languages a stored request (a generation's or a video's row) was made in; English for older rows. */
export function rowLocales(row: { locale?: string | null; publicLocale?: string | null }): LocaleScope {
  const member = toLocale(row.locale);
  return { member, audience: row.publicLocale ? toLocale(row.publicLocale) : member };
}

/** A locale's namespace as loaded (command localizations read their names and descriptions from it). */
export function localeNamespace(locale: Locale, namespace: string): Record<string, unknown> {
  return (resources[locale]?.[namespace] as Record<string, unknown> | undefined) ?? {};
}
