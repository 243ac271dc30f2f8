// What every message the bot shows is made of: its shape, quoted prompts, sizes, times, link and pager buttons.
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
} from "discord.js";
import { t, tPublic } from "../../kit/i18n.ts";

export type Row = APIActionRowComponent<APIButtonComponent>;

export interface RenderedMessage {
  content: string;
  components: Row[];
}

/** Mentions render as names but never ping. */
export const NO_PINGS = { parse: [] as [] };

/** Discord refuses a message whose content is longer. */
export const MAX_CONTENT = 2000;

const MAX_PROMPT_SHOWN = 300;

/**
 * A queued request's place, with its expected wait when one is known: "Queued: 12 ahead of you, about 40 s to
 * start." (whole seconds under two minutes, then minutes).
 */
export function queuedLine(ahead: number, waitMs?: number): string {
  if (waitMs === undefined || !Number.isFinite(waitMs)) return tPublic("common:queue.place", { ahead });
  const seconds = Math.max(1, Math.round(waitMs / 1000));
  const wait =
    seconds < 120
      ? tPublic("common:queue.seconds", { seconds })
      : tPublic("common:queue.minutes", { minutes: Math.round(seconds / 60) });
  return tPublic("common:queue.placeAndWait", { ahead, wait });
}

/**
 * A prompt on one line, quoted, with its markdown escaped, cut (with "…") so that what is shown between the
 * quotes is at most `max` characters: escaping may double a prompt's length, and a message has a budget.
 */

export function quotePrompt(prompt: string, max = MAX_PROMPT_SHOWN): string {
  const flat = prompt.replace(/\s+/g, " ");
  let keep = Math.min(flat.length, max);
  for (;;) {
    // Masked links too: a prompt's "[text](url)" must not show as a link under the bot's name.
    const shown = keep < flat.length ? `${flat.slice(0, Math.max(0, keep - 1))}…` : flat;
    const escaped = escapeMarkdown(shown, { maskedLink: true });
    if (escaped.length <= max || keep <= 1) return `“${escaped}”`;
    keep -= Math.max(1, Math.ceil((escaped.length - max) / 2));
  }
}

/**
 * As many of `lines` as fit in `budget` characters once joined by `separator` (a line break, or ", " for a
 * list on one line), then "…and N more" for the rest; `total` counts the lines there are in all when only some
 * of them were read.
 */
export function fitLines(
  lines: readonly string[],
  budget: number,
  total = lines.length,
  separator = "\n",
): string[] {
  const shown: string[] = [];
  let used = 0;
  for (const [n, line] of lines.entries()) {
    const restAfter = total - n - 1;
    const tail = restAfter > 0 ? t("common:andMore", { count: restAfter }).length + separator.length : 0;
    if (used + line.length + separator.length + tail > budget) break;
    shown.push(line);
    used += line.length + separator.length;
  }
  const more = total - shown.length;
  return more > 0 ? [...shown, t("common:andMore", { count: more })] : shown;
}

/** A file size as members read it: KiB below a MiB, MiB with one decimal above. */
export const formatBytes = (n: number | null) =>
  n === null ? "?" : n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`;
/** A moment in the member's own time zone (Discord renders the tag); a dash when there is none. */
export const timestamp = (ms: number | null) => (ms === null ? "—" : `<t:${Math.floor(ms / 1000)}:f>`);

/** Text cut to `max` characters, with no backtick left to break the code span it is shown in. */
export const clip = (text: string, max: number) =>
  (text.length > max ? `${text.slice(0, max - 1)}…` : text).replace(/`/g, "'");

/**
 * A row with one link button to a signed link (PUBLIC_URL is set): what Discord cannot carry, or the original
 * it shows only as a preview, is one click away.
 */
export function linkButtonRow(label: string, url: string): Row {
  return {
    type: ComponentType.ActionRow,
    components: [{ type: ComponentType.Button, style: ButtonStyle.Link, label, url }],
  };
}

/** ◀ ▶ buttons to the neighbouring pages (disabled at either end); none for a single page. */
export function pagerRows(
  page: { page: number; pages: number },
  [back, forward]: [string, string],
  customIdFor: (page: number) => string,
): Row[] {
  if (page.pages <= 1) return [];
  const button = (label: string, target: number, disabled: boolean): APIButtonComponent => ({
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label,
    disabled,
    custom_id: customIdFor(target),
  });
  return [
    {
      type: ComponentType.ActionRow,
      components: [
        button(back, page.page - 1, page.page <= 1),
        button(forward, page.page + 1, page.page >= page.pages),
      ],
    },
  ];
}
