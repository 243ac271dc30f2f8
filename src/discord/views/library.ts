// The server library's messages: a page of entries, one entry.
import { escapeMarkdown } from "discord.js";
import type { LibraryEntryWithImage } from "../../db/repositories/library-repo.ts";
import type { LibraryPage } from "../../features/library/library-service.ts";
import { t } from "../../kit/i18n.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import { clip, pagerRows, quotePrompt, type RenderedMessage, timestamp } from "./message.ts";

export const LIBRARY_PAGE_SIZE = 4;

/** One page of a server's library: a line per entry (its preview is attached in the same order) and paging. */
export function renderLibraryPage(page: LibraryPage): RenderedMessage {
  if (page.total === 0) {
    return {
      content: t("library:page.empty"),
      components: [],
    };
  }
  const lines = page.items.map((e, n) =>
    t("library:page.line", {
      n: n + 1,
      name: escapeMarkdown(e.name),
      ownerId: e.ownerId,
      imageId: e.imageId,
      note: e.note ? ` · ${escapeMarkdown(clip(e.note, 80))}` : "",
    }),
  );
  return {
    content: [
      t("library:page.heading", { page: page.page, pages: page.pages, total: page.total }),
      ...lines,
      t("library:page.hint"),
    ].join("\n"),
    components: pagerRows(page, [t("library:page.previousLabel"), t("library:page.nextLabel")], (target) =>
      encodeCustomId({ handler: "lib", action: "page", page: target }),
    ),
  };
}

/** /library show: one entry. */
export function renderLibraryEntry(entry: LibraryEntryWithImage): string {
  return [
    t("library:entry.title", {
      name: escapeMarkdown(entry.name),
      imageId: entry.imageId,
      ownerId: entry.ownerId,
    }),
    t("library:entry.prompt", { prompt: quotePrompt(entry.prompt) }),
    ...(entry.note ? [t("library:entry.note", { note: escapeMarkdown(entry.note) })] : []),
    t("library:entry.added", { addedBy: entry.addedBy, when: timestamp(entry.createdAt) }),
  ].join("\n");
}
