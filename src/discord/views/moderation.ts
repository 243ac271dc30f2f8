// /moderation log: the server's audited actions, one line each.
import type { AuditEntry } from "../../db/repositories/audit-repo.ts";
import { clip } from "./message.ts";
import { videosTaken } from "./references.ts";

/** What each audited action reads as in /moderation log. */
function describeAction(entry: AuditEntry): string {
  const d = entry.details;
  const target = entry.targetUserId ? ` <@${entry.targetUserId}>` : "";
  switch (entry.action) {
    case "prompt_blocked":
      return `blocked a ${d.kind === "video" ? "/video" : "/character"} prompt of${target} (entry \`${clip(String(d.entry ?? "?"), 40)}\`): “${clip(String(d.prompt ?? ""), 80)}”`;
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

/** The latest audit entries, newest first, within one message. */
export function renderAuditLog(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return "Nothing in this server's moderation log yet.";
  const lines = ["**Moderation log** (newest first)"];
  for (const entry of entries) {
    const line = `<t:${Math.floor(entry.createdAt / 1000)}:R> ${entry.action === "prompt_blocked" ? "The bot" : `<@${entry.actorId}>`} ${describeAction(entry)}`;
    if (lines.join("\n").length + line.length + 1 > 1900) break;
    lines.push(line);
  }
  return lines.join("\n");
}
