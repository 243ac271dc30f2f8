// Suggestions for every `reference` option: the member's recent references and the server library's names,
// matched on what was typed. Discord shows at most 25 and waits 3 s; the two look-ups run together.
import type { AutocompleteInteraction } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { t } from "../../kit/i18n.ts";
import { settingsGuildOf } from "./delivery.ts";

const MAX_CHOICES = 25;
/** Library names keep at least this many places when recent references would fill the list. */
const LIBRARY_SHARE = 10;
/** Recent references considered: matching on prompt needs a few more than are shown. */
const RECENT_SCANNED = 100;

/** "just now", "5 min ago", "3 h ago", "2 d ago", in the member's language. */
export function age(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return t("kit:age.justNow");
  if (minutes < 60) return t("kit:age.minutes", { minutes });
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? t("kit:age.hours", { hours }) : t("kit:age.days", { days: Math.floor(hours / 24) });
}

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** The choices for a reference option: library names (value: the name) and recent references (value: the id). */
export async function referenceChoices(
  ctx: AppContext,
  who: { userId: string; guildId: string | null },
  typedRaw: string,
): Promise<Array<{ name: string; value: string }>> {
  const typed = typedRaw.trim().toLowerCase();
  const [recent, named] = await Promise.all([
    ctx.references.listImages(who.userId, who.guildId, 1, RECENT_SCANNED).then((p) => p.items),
    who.guildId ? ctx.library.search(who.guildId, typed, MAX_CHOICES) : Promise.resolve([]),
  ]);
  const now = ctx.clock.now();
  const mine = recent
    .filter((i) => !typed || i.id.startsWith(typed) || i.prompt.toLowerCase().includes(typed))
    .map((i) => ({
      name: `${oneLine(i.prompt, 60)} · ${age(now - (i.finishedAt ?? i.createdAt))} · ${i.id.slice(0, 8)}`,
      value: i.id,
    }));
  const library = named.map((e) => ({
    // Discord refuses the whole answer when one choice's name is over 100 characters.
    name: (e.note
      ? t("kit:autocomplete.libraryNoteChoice", { name: e.name, note: oneLine(e.note, 90 - e.name.length) })
      : t("kit:autocomplete.libraryChoice", { name: e.name })
    ).slice(0, 100),
    value: e.name,
  }));
  const libraryRoom = Math.max(LIBRARY_SHARE, MAX_CHOICES - mine.length);
  const shown = library.slice(0, libraryRoom);
  return [...shown, ...mine].slice(0, MAX_CHOICES);
}

/** The autocomplete handler of every command whose focused option is a reference. */
export async function autocompleteReference(
  interaction: AutocompleteInteraction,
  ctx: AppContext,
): Promise<void> {
  const focused = interaction.options.getFocused(true);
  // A server that has not installed the bot has no library here, as the command itself sees it.
  const guildId = settingsGuildOf(interaction);
  const choices =
    focused.name === "name"
      ? guildId
        ? (await ctx.library.search(guildId, String(focused.value), MAX_CHOICES)).map((e) => ({
            name: e.name,
            value: e.name,
          }))
        : []
      : await referenceChoices(ctx, { userId: interaction.user.id, guildId }, String(focused.value));
  await interaction.respond(choices);
}
