// A page of a server's library as a message: a line per entry and a small preview of each, in the same order.
// /library list and its ◀ ▶ buttons both render through here.
import sharp from "sharp";
import type { AppContext } from "../../features/context.ts";
import { MAX_IMAGE_PIXELS } from "../../files/file-store.ts";
import { LIBRARY_PAGE_SIZE, renderLibraryPage } from "../views/library.ts";
import type { RenderedMessage } from "../views/message.ts";

/** Previews are small: a gallery is for recognising a character, /library show has the full image. */
const PREVIEW_EDGE = 384;

export async function libraryGallery(
  ctx: AppContext,
  guildId: string,
  page: number,
): Promise<RenderedMessage & { files: Array<{ attachment: Buffer; name: string }> }> {
  const library = await ctx.library.list(guildId, page, LIBRARY_PAGE_SIZE);
  const files = await Promise.all(
    library.items.map(async (entry, n) => {
      const original = await ctx.references.readImageFile(entry);
      const attachment = await sharp(original, { limitInputPixels: MAX_IMAGE_PIXELS })
        .resize(PREVIEW_EDGE, PREVIEW_EDGE, { fit: "inside", withoutEnlargement: true })
        .flatten({ background: "#ffffff" })
        .jpeg({ quality: 80 })
        .toBuffer();
      return { attachment, name: `library-${n + 1}.jpg` };
    }),
  );
  return { ...renderLibraryPage(library), files };
}
