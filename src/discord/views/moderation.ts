// /moderation log: the server's audited actions, one line each, a page at a time.
import type { AuditEntry, AuditRecord } from "../../db/repositories/audit-repo.ts";
import type { AuditActionFilter, AuditPage } from "../../features/moderation/moderation-service.ts";
import { t } from "../../kit/i18n.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import { clip, pagerRows, quotePrompt, type RenderedMessage } from "./message.ts";

/** Entries on one page of /moderation log. */
export const AUDIT_PAGE_SIZE = 10;
/** Ten lines of this fit one message (2000 characters) with the heading. */
const MAX_LINE = 185;

/** The filter a page of /moderation log was asked for; the pager buttons carry it. */
export interface AuditLogQuery {
  filter: AuditActionFilter | null;
  memberId: string | null;
  offset: number;
}

/** A list of names as the audit log quotes them. */
const quotedNames = (names: unknown[]) => names.map((n) => `\`${clip(String(n), 40)}\``).join(", ");

/** What each audited action reads as in /moderation log. */
function describeAction(entry: AuditEntry): string {
  const d = entry.details;
  // Whose it was: "none" when the row names nobody (the messages then leave the member out).
  const target = entry.targetUserId ? `<@${entry.targetUserId}>` : "none";
  switch (entry.action) {
    case "prompt_blocked":
      return t("moderation:action.promptBlocked", {
        command: d.kind === "video" ? "/video" : "/character",
        target,
        entry: clip(String(d.entry ?? "?"), 40),
        prompt: d.promptExpired
          ? t("moderation:action.promptExpired")
          : quotePrompt(String(d.prompt ?? ""), 80),
      });
    case "reference_delete":
      return t("moderation:action.referenceDelete", {
        id: entry.targetId,
        target,
        videos: Number(d.videos ?? 0),
        library: Array.isArray(d.libraryNames)
          ? t("moderation:action.leftLibrary", { names: quotedNames(d.libraryNames) })
          : "",
      });
    case "library_add":
      return t("moderation:action.libraryAdd", {
        id: entry.targetId,
        target,
        name: clip(String(d.name ?? "?"), 40),
      });
    case "library_remove":
      return t("moderation:action.libraryRemove", { name: clip(String(d.name ?? "?"), 40) });
    case "purge":
      return t("moderation:action.purge", {
        count: Number(d.deleted ?? 0),
        target,
        videos: Number(d.videos ?? 0),
      });
    default:
      return entry.action.startsWith("settings_")
        ? t("moderation:action.settings", { change: clip(String(d.change ?? entry.action), 120) })
        : entry.action;
  }
}

/** One entry as a line: when, who, what, and ×N when it happened N times (repeats within a minute). */
function renderEntry(entry: AuditRecord): string {
  const line = t("moderation:log.entry", {
    when: `<t:${Math.floor(entry.createdAt / 1000)}:R>`,
    actor: entry.action === "prompt_blocked" ? t("moderation:log.theBot") : `<@${entry.actorId}>`,
    action: describeAction(entry),
  });
  const times = entry.occurrences > 1 ? ` ×${entry.occurrences}` : "";
  const room = MAX_LINE - times.length;
  return `${line.length > room ? `${line.slice(0, room - 1)}…` : line}${times}`;
}

/** A page of audit entries, newest first, with ◀ ▶ to the newer and older pages of the same filter. */
export function renderAuditLog(page: AuditPage, query: AuditLogQuery): RenderedMessage {
  const narrowed = [
    query.filter ? t("moderation:log.filterAction", { action: query.filter }) : "",
    query.memberId ? t("moderation:log.filterMember", { userId: query.memberId }) : "",
  ].filter(Boolean);
  const filters = narrowed.length ? t("moderation:log.filters", { filters: narrowed.join(", ") }) : "";
  const number = Math.floor(query.offset / AUDIT_PAGE_SIZE) + 1;
  if (page.entries.length === 0) {
    const content =
      query.offset > 0
        ? t("moderation:log.noOlder", { filters })
        : narrowed.length
          ? t("moderation:log.nothingMatching", { filters })
          : t("moderation:log.empty");
    return { content, components: [] };
  }
  const heading = t("moderation:log.heading", { page: number, filters });
  return {
    content: [heading, ...page.entries.map(renderEntry)].join("\n"),
    components: pagerRows(
      { page: number, pages: page.hasOlder ? number + 1 : number },
      [t("moderation:log.newerLabel"), t("moderation:log.olderLabel")],
      (target) =>
        encodeCustomId({
          handler: "mod",
          action: "log",
          filter: query.filter,
          memberId: query.memberId,
          offset: (target - 1) * AUDIT_PAGE_SIZE,
        }),
    ),
  };
}
