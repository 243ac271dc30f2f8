// Fitting images under the interaction's upload limit: originals when they fit, sharp previews when not.
import sharp from "sharp";
import { MAX_IMAGE_PIXELS } from "../../files/file-store.ts";

export const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;
/** Discord's limit on an attachment's description (its alt text), in characters. */
export const MAX_ALT_TEXT = 1024;

/**
 * An attachment's alt text: `label` (what it is: "Image 2", "Video") and the prompt it was made from, on one
 * line, cut to Discord's 1,024 characters (never inside a surrogate pair) with an ellipsis when longer.
 */
export function altText(label: string, prompt: string): string {
  const text = `${label}: ${prompt}`.replace(/\s+/g, " ").trim();
  if (text.length <= MAX_ALT_TEXT) return text;
  const cut = text.slice(0, MAX_ALT_TEXT - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}
/** Room left in the request for the JSON payload and multipart framing. */
const OVERHEAD = 64 * 1024;

export interface Upload {
  name: string;
  data: Buffer;
  /** True when `data` is a transcoded preview, not the stored original. */
  preview: boolean;
}

/** The per-image share of the upload limit when `count` images share one message. */
export function perImageBudget(limit: number | undefined, count: number): number {
  return Math.floor(((limit ?? DEFAULT_ATTACHMENT_LIMIT) - OVERHEAD) / Math.max(1, count));
}

/**
 * The original when it fits `budget`; otherwise a JPEG preview, smaller and lower quality until it fits.
 * The original on disk is never changed. sharp refuses to decode more than MAX_IMAGE_PIXELS (the store does
 * not keep larger images), so a file that somehow is larger fails at once instead of taking seconds and
 * hundreds of MB.
 */
export async function fitImage(
  original: Buffer,
  baseName: string,
  ext: string,
  budget: number,
): Promise<Upload> {
  if (original.length <= budget) return { name: `${baseName}.${ext}`, data: original, preview: false };
  for (const [edge, quality] of [
    [1536, 85],
    [1024, 80],
    [768, 72],
    [512, 65],
    [320, 55],
  ] as const) {
    const data = await sharp(original, { limitInputPixels: MAX_IMAGE_PIXELS })
      .resize(edge, edge, { fit: "inside", withoutEnlargement: true })
      .flatten({ background: "#ffffff" })
      .jpeg({ quality, mozjpeg: true })
      .toBuffer();
    if (data.length <= budget) return { name: `${baseName}-preview.jpg`, data, preview: true };
  }
  throw new Error(`cannot fit a preview of ${baseName} into ${budget} bytes`);
}
