// Options that more than one command takes, parsed the same way everywhere.
import type { ChatInputCommandInteraction, SlashCommandStringOption } from "discord.js";
import { MAX_PROMPT_LENGTH } from "../../features/generation/generation-service.ts";
import { expandedLength, MAX_EXPANDED_PROMPT_LENGTH } from "../../features/limits/prompt-policy.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";

/** Zero-width characters removed, control characters made spaces, runs of white space folded, ends trimmed. */
export function cleanDescription(raw: string): string {
  return raw
    .replace(/\p{Cf}/gu, "") // zero-width and other invisible format characters: gone, not turned into spaces
    .replace(/\p{Cc}/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** A required free-text option of up to MAX_PROMPT_LENGTH characters, as /character and /video take. */
export function promptOption(name: string, description: string) {
  return (o: SlashCommandStringOption) =>
    o
      .setName(name)
      .setDescription(description)
      .setRequired(true)
      .setMinLength(1)
      .setMaxLength(MAX_PROMPT_LENGTH);
}

/**
 * The prompt option `name` of a command, cleaned and checked: 1–1000 characters once control characters are
 * gone, and at most 2000 once compatibility characters are written out (the blocklist reads it so). `hint`
 * says what to write when it is empty, in the member's language.
 */
export function promptFrom(interaction: ChatInputCommandInteraction, name: string, hint: string): string {
  return checkedPrompt(interaction.options.getString(name, true), name, hint);
}

/** Free text typed anywhere (an option, a modal's field), cleaned and checked as promptFrom says. */
export function checkedPrompt(raw: string, name: string, hint: string): string {
  const text = cleanDescription(raw);
  if (text.length === 0) throw new UserFacingError(t("kit:prompt.empty", { name, hint }));
  if (text.length > MAX_PROMPT_LENGTH) {
    throw new UserFacingError(t("kit:prompt.tooLong", { name, length: text.length, max: MAX_PROMPT_LENGTH }));
  }
  const expanded = expandedLength(text);
  if (expanded > MAX_EXPANDED_PROMPT_LENGTH) {
    throw new UserFacingError(
      t("kit:prompt.tooLongExpanded", { name, length: expanded, max: MAX_EXPANDED_PROMPT_LENGTH }),
    );
  }
  return text;
}
