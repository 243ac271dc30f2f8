// The server library's messages: a page of entries, one entry.
import { escapeMarkdown } from "discord.js";
import type { LibraryEntryWithImage } from "../../db/repositories/library-repo.ts";
import type { LibraryPage } from "../../features/library/library-service.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import { clip, pagerRows, quotePrompt, type RenderedMessage, timestamp } from "./message.ts";

export const LIBRARY_PAGE_SIZE = 4;

/** One page of a server's library: a line per entry (its preview is attached in the same order) and paging. */
export function renderLibraryPage(page: LibraryPage): RenderedMessage {
  if (page.total === 0) {
    return {
      content: "This server's library is empty. Moderators and curators add references with /library add.",
      components: [],
    };
  }
  const lines = page.items.map(
    (e, n) =>
      `${n + 1}. **${escapeMarkdown(e.name)}** · by <@${e.ownerId}> · \`${e.imageId}\`${e.note ? ` · ${escapeMarkdown(clip(e.note, 80))}` : ""}`,
  );
  return {
    content: [
      `**Library of this server** · page ${page.page}/${page.pages} · ${page.total} in all`,
      ...lines,
      "Use a name wherever a reference is asked for, e.g. /character reference:<name> or /video reference:<name>.",
    ].join("\n"),
    components: pagerRows(page, ["◀ Previous", "Next ▶"], (target) =>
      encodeCustomId({ handler: "lib", action: "page", page: target }),
    ),
  };
}

/** /library show: one entry. */
export function renderLibraryEntry(entry: LibraryEntryWithImage): string {
  return [
    `📚 **${escapeMarkdown(entry.name)}** · reference \`${entry.imageId}\` · by <@${entry.ownerId}>`,
    `Prompt: ${quotePrompt(entry.prompt)}`,
    ...(entry.note ? [`Note: ${escapeMarkdown(entry.note)}`] : []),
    `Added by <@${entry.addedBy}> ${timestamp(entry.createdAt)}`,
  ].join("\n");
}
