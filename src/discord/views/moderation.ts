// /moderation log: the server's audited actions, one line each, a page at a time.
import type { AuditEntry, AuditRecord } from "../../db/repositories/audit-repo.ts";
import type { AuditActionFilter, AuditPage } from "../../features/moderation/moderation-service.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import { clip, pagerRows, quotePrompt, type RenderedMessage } from "./message.ts";
import { videosTaken } from "./references.ts";

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

/** What each audited action reads as in /moderation log. */
function describeAction(entry: AuditEntry): string {
  const d = entry.details;
  const target = entry.targetUserId ? ` <@${entry.targetUserId}>` : "";
  switch (entry.action) {
    case "prompt_blocked":
      return `blocked a ${d.kind === "video" ? "/video" : "/character"} prompt of${target} (entry \`${clip(String(d.entry ?? "?"), 40)}\`): ${d.promptExpired ? "(the prompt is no longer kept)" : quotePrompt(String(d.prompt ?? ""), 80)}`;
    case "reference_delete":
      return `deleted reference \`${entry.targetId}\` of${target}${videosTaken(Number(d.videos ?? 0), "it")}${Array.isArray(d.libraryNames) ? ` (it left the library: ${d.libraryNames.map((n) => `\`${clip(String(n), 40)}\``).join(", ")})` : ""}`;
    case "library_add":
      return `added reference \`${entry.targetId}\` of${target} to the library as \`${clip(String(d.name ?? "?"), 40)}\``;
    case "library_remove":
      return `removed \`${clip(String(d.name ?? "?"), 40)}\` from the library`;
    case "purge":
      return `purged ${Number(d.deleted ?? 0)} references of${target}${videosTaken(Number(d.videos ?? 0), "them")}`;
    default:
      return entry.action.startsWith("settings_")
        ? `changed the settings: ${clip(String(d.change ?? entry.action), 120)}`
        : entry.action;
  }
}

/** One entry as a line: when, who, what, and ×N when it happened N times (repeats within a minute). */
function renderEntry(entry: AuditRecord): string {
  const line = `<t:${Math.floor(entry.createdAt / 1000)}:R> ${entry.action === "prompt_blocked" ? "The bot" : `<@${entry.actorId}>`} ${describeAction(entry)}`;
  const times = entry.occurrences > 1 ? ` ×${entry.occurrences}` : "";
  const room = MAX_LINE - times.length;
  return `${line.length > room ? `${line.slice(0, room - 1)}…` : line}${times}`;
}

/** A page of audit entries, newest first, with ◀ ▶ to the newer and older pages of the same filter. */
export function renderAuditLog(page: AuditPage, query: AuditLogQuery): RenderedMessage {
  const narrowed = [
    query.filter ? `action ${query.filter}` : "",
    query.memberId ? `member <@${query.memberId}>` : "",
  ].filter(Boolean);
  const which = narrowed.length ? ` · ${narrowed.join(", ")}` : "";
  const number = Math.floor(query.offset / AUDIT_PAGE_SIZE) + 1;
  if (page.entries.length === 0) {
    const content =
      query.offset > 0
        ? `No older entries in this server's moderation log${which}.`
        : narrowed.length
          ? `Nothing in this server's moderation log${which}.`
          : "Nothing in this server's moderation log yet.";
    return { content, components: [] };
  }
  const heading = `**Moderation log** (newest first) · page ${number}${which}`;
  return {
    content: [heading, ...page.entries.map(renderEntry)].join("\n"),
    components: pagerRows(
      { page: number, pages: page.hasOlder ? number + 1 : number },
      ["◀ Newer", "Older ▶"],
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
