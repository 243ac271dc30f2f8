// What every message the bot shows is made of: its shape, quoted prompts, sizes, times, link and pager buttons.
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
} from "discord.js";

export type Row = APIActionRowComponent<APIButtonComponent>;

export interface RenderedMessage {
  content: string;
  components: Row[];
}

/** Mentions render as names but never ping. */
export const NO_PINGS = { parse: [] as [] };

const MAX_PROMPT_SHOWN = 300;

export function quotePrompt(prompt: string): string {
  const short = prompt.length > MAX_PROMPT_SHOWN ? `${prompt.slice(0, MAX_PROMPT_SHOWN - 1)}…` : prompt;
  return `“${escapeMarkdown(short.replace(/\s+/g, " "))}”`;
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
