// A page of a server's library as a message: a line per entry and a small preview of each, in the same order.
// /library list and its ◀ ▶ buttons both render through here.
import type { AppContext } from "../../features/context.ts";
import { t } from "../../kit/i18n.ts";
import { altText } from "../replies/attachments.ts";
import { LIBRARY_PAGE_SIZE, renderLibraryPage } from "../views/library.ts";
import type { RenderedMessage } from "../views/message.ts";

export async function libraryGallery(
  ctx: AppContext,
  guildId: string,
  page: number,
): Promise<RenderedMessage & { files: Array<{ attachment: Buffer; name: string; description: string }> }> {
  const library = await ctx.library.list(guildId, page, LIBRARY_PAGE_SIZE);
  const files = await Promise.all(
    // Each entry's stored thumbnail: a page never decodes the originals (/library show has the full image).
    library.items.map(async (entry, n) => ({
      attachment: await ctx.library.preview(entry),
      name: `library-${n + 1}.jpg`,
      description: altText(t("library:entry.previewAlt", { name: entry.name }), entry.prompt),
    })),
  );
  return { ...renderLibraryPage(library), files };
}
