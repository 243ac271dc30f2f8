// /settings's messages: the server's settings, its blocklist page by page, and a saved change.
import type { GuildSettings } from "../../db/repositories/guild-settings-repo.ts";
import type { Allowances, UserCap } from "../../features/limits/quota.ts";
import { clip, fitLines, MAX_CONTENT } from "./message.ts";

/** What /settings view shows, read by the command. */
export interface SettingsSnapshot {
  settings: GuildSettings;
  allowances: Allowances;
  cap: UserCap;
  safety: SafetyInForce;
}

/** The safety level in force, whether it is the default, and what each model that may serve does with it. */
export interface SafetyInForce {
  level: string;
  isDefault: boolean;
  models: Array<{ model: string; role: string; effect: string }>;
}

/** Blocklist entries per /settings blocklist page: 25 of the longest (64 characters) fit one message. */
export const BLOCKLIST_PAGE_SIZE = 25;
/** What /settings view gives the blocklist at most; the whole list is paged by /settings blocklist. */
const BLOCKLIST_IN_VIEW = 900;

/** A blocklist entry as shown: in a code span, with no backtick left to break it. */
const shownEntry = (entry: string) => `\`${clip(entry, 64)}\``;

/** /settings view: every setting, with the first blocklist entries and where to see the rest. */
export function renderSettings(s: SettingsSnapshot): string {
  const { settings, allowances: a, cap, safety } = s;
  const mark = (v: number | null) => (v === null ? " (default)" : "");
  const head = [
    "**Settings for this server**",
    `Images per day: ${a.imagesPerUser} per member${mark(settings.dailyImagesPerUser)}, ${a.imagesPerGuild} for the server${mark(settings.dailyImagesPerGuild)}`,
    `Videos per day: ${a.videosPerUser} per member${mark(settings.dailyVideosPerUser)}, ${a.videosPerGuild} for the server${mark(settings.dailyVideosPerGuild)}`,
    `Every member's bot-wide limit, across all servers and DMs: ${cap.images} images and ${cap.videos} videos a day (set by the bot's operator)`,
    ...safetyLines(safety),
    `Mod-log channel: ${settings.modLogChannelId ? `<#${settings.modLogChannelId}>` : "none"}`,
    `Library curators: members with Manage Messages${settings.curatorRoleId ? ` and the role <@&${settings.curatorRoleId}>` : " (no curator role set)"}`,
  ];
  return [...head, ...blocklistLines(settings.blocklist, MAX_CONTENT - head.join("\n").length - 1)].join(
    "\n",
  );
}

/** The safety level and what each model does with it: in the view, and when the level is changed. */
function safetyLines(safety: SafetyInForce): string[] {
  return [
    `Safety filter: ${safety.level}${safety.isDefault ? " (default)" : ""}`,
    ...safety.models.map(
      ({ model, role, effect }) => `• ${clip(model, 80)} (${clip(role, 120)}): ${clip(effect, 200)}`,
    ),
  ];
}

/** The blocklist in /settings view: as many entries as fit, then "…and N more" and where the rest are. */
function blocklistLines(blocklist: readonly string[], room: number): string[] {
  if (blocklist.length === 0) return ["Blocklist (0): empty"];
  const hint = "All entries, page by page: /settings blocklist";
  const header = `Blocklist (${blocklist.length}):`;
  const budget = Math.min(BLOCKLIST_IN_VIEW, room - header.length - hint.length - 2);
  const shown = fitLines(blocklist.map(shownEntry), budget, blocklist.length, ", ");
  const cut = shown.at(-1)?.startsWith("…and ") ?? false;
  // One line, comma separated, as it always was: shorter than a line per entry.
  return [`${header} ${shown.join(", ")}`, ...(cut ? [hint] : [])];
}

/** /settings blocklist: one page of the blocklist, an entry a line; `page` counts from 1. */
export function renderBlocklistPage(blocklist: readonly string[], page: number): string {
  if (blocklist.length === 0)
    return "This server's blocklist is empty. /settings blocklist-add adds an entry.";
  const pages = Math.ceil(blocklist.length / BLOCKLIST_PAGE_SIZE);
  const current = Math.min(Math.max(1, Math.floor(page)), pages);
  const items = blocklist.slice((current - 1) * BLOCKLIST_PAGE_SIZE, current * BLOCKLIST_PAGE_SIZE);
  return [
    `**Blocklist of this server** · page ${current}/${pages} · ${blocklist.length} in all`,
    ...items.map((e, n) => `${(current - 1) * BLOCKLIST_PAGE_SIZE + n + 1}. ${shownEntry(e)}`),
    ...(current < pages ? [`Next: /settings blocklist page:${current + 1}`] : []),
  ].join("\n");
}

/**
 * A saved change: the change alone (the whole view grows with the blocklist), the entry a blocklist change
 * named, and for a new safety level what each model does with it; /settings view has the rest.
 */
export function renderSettingsSaved(
  summary: string,
  details: { entry?: string | undefined; safety?: SafetyInForce | undefined } = {},
): string {
  return [
    `✅ Saved: ${clip(summary, 300)}.${details.entry ? ` Entry: ${shownEntry(details.entry)}` : ""}`,
    ...(details.safety ? safetyLines(details.safety) : []),
    "/settings view shows every setting.",
  ].join("\n");
}
