// /settings's messages: the server's settings, its blocklist page by page, and a saved change.
import type { GuildSettings } from "../../db/repositories/guild-settings-repo.ts";
import type { Allowances, UserCap } from "../../features/limits/quota.ts";
import { t } from "../../kit/i18n.ts";
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
  const mark = (v: number | null) => (v === null ? t("settings:view.defaultMark") : "");
  const head = [
    t("settings:view.title"),
    t("settings:view.images", {
      perMember: a.imagesPerUser,
      memberMark: mark(settings.dailyImagesPerUser),
      perServer: a.imagesPerGuild,
      serverMark: mark(settings.dailyImagesPerGuild),
    }),
    t("settings:view.videos", {
      perMember: a.videosPerUser,
      memberMark: mark(settings.dailyVideosPerUser),
      perServer: a.videosPerGuild,
      serverMark: mark(settings.dailyVideosPerGuild),
    }),
    t("settings:view.userCap", { images: cap.images, videos: cap.videos }),
    ...safetyLines(safety),
    settings.modLogChannelId
      ? t("settings:view.modLog", { channelId: settings.modLogChannelId })
      : t("settings:view.noModLog"),
    settings.curatorRoleId
      ? t("settings:view.curatorsWithRole", { roleId: settings.curatorRoleId })
      : t("settings:view.curatorsNoRole"),
  ];
  return [...head, ...blocklistLines(settings.blocklist, MAX_CONTENT - head.join("\n").length - 1)].join(
    "\n",
  );
}

/** The safety level and what each model does with it: in the view, and when the level is changed. */
function safetyLines(safety: SafetyInForce): string[] {
  return [
    t("settings:view.safety", {
      level: safety.level,
      defaultMark: safety.isDefault ? t("settings:view.defaultMark") : "",
    }),
    ...safety.models.map(
      ({ model, role, effect }) => `• ${clip(model, 80)} (${clip(role, 120)}): ${clip(effect, 200)}`,
    ),
  ];
}

/** The blocklist in /settings view: as many entries as fit, then "…and N more" and where the rest are. */
function blocklistLines(blocklist: readonly string[], room: number): string[] {
  if (blocklist.length === 0) return [t("settings:view.blocklistEmpty")];
  const hint = t("settings:view.blocklistHint");
  const header = t("settings:view.blocklistHeader", { count: blocklist.length });
  const budget = Math.min(BLOCKLIST_IN_VIEW, room - header.length - hint.length - 2);
  const shown = fitLines(blocklist.map(shownEntry), budget, blocklist.length, ", ");
  // Entries are code spans: a last line that is not one is "…and N more".
  const cut = !(shown.at(-1)?.startsWith("`") ?? true);
  // One line, comma separated, as it always was: shorter than a line per entry.
  return [`${header} ${shown.join(", ")}`, ...(cut ? [hint] : [])];
}

/** /settings blocklist: one page of the blocklist, an entry a line; `page` counts from 1. */
export function renderBlocklistPage(blocklist: readonly string[], page: number): string {
  if (blocklist.length === 0) return t("settings:blocklist.empty");
  const pages = Math.ceil(blocklist.length / BLOCKLIST_PAGE_SIZE);
  const current = Math.min(Math.max(1, Math.floor(page)), pages);
  const items = blocklist.slice((current - 1) * BLOCKLIST_PAGE_SIZE, current * BLOCKLIST_PAGE_SIZE);
  return [
    t("settings:blocklist.title", { current, pages, count: blocklist.length }),
    ...items.map((e, n) => `${(current - 1) * BLOCKLIST_PAGE_SIZE + n + 1}. ${shownEntry(e)}`),
    ...(current < pages ? [t("settings:blocklist.next", { next: current + 1 })] : []),
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
    details.entry
      ? t("settings:saved.summaryWithEntry", {
          summary: clip(summary, 300),
          entry: shownEntry(details.entry),
        })
      : t("settings:saved.summary", { summary: clip(summary, 300) }),
    ...(details.safety ? safetyLines(details.safety) : []),
    t("settings:saved.hint"),
  ].join("\n");
}
