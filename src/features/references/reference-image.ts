// How a stored reference reaches a model, the same for /video and for images drawn from a reference: a signed
// link to the bot's own copy when PUBLIC_URL is set; else a file uploaded once to the provider (its URL
// recorded on the job's row, so a restart sends the input the lost create had); else the bytes themselves.

import type { ImageRow } from "../../db/repositories/images-repo.ts";
import type { FileStore } from "../../files/file-store.ts";
import type { LinkSigner } from "../../files/signed-links.ts";
import { PredictionFailure } from "../../kit/failures.ts";
import type { ReferenceHost, ReferenceImage } from "../../providers/types.ts";

export interface ReferenceImageSource {
  links: LinkSigner;
  files: FileStore;
  host: ReferenceHost;
}

/** Where a job keeps the URL a reference was uploaded to. */
export interface RecordedReferenceUrl {
  recorded(): Promise<string | undefined>;
  /** Records `url` unless one is recorded already; the URL recorded (the first one). */
  remember(url: string): Promise<string | undefined>;
}

/**
 * The stored reference, byte for byte, for a job made at `createdAt` that may run for `runsForMs`. The link is
 * signed from the job's creation time, so every attempt (a restart looking for a create it lost) sends the same
 * input (unless PUBLIC_URL or the link key changed in between: the lost create is then not found, and the job
 * fails with its reason rather than paying twice).
 */
export async function referenceImageInput(
  source: ReferenceImageSource,
  image: Pick<ImageRow, "id" | "fileName" | "mime" | "deletedAt"> | undefined,
  job: { createdAt: number; runsForMs: number },
  record: RecordedReferenceUrl,
): Promise<ReferenceImage> {
  if (!image?.fileName || image.deletedAt !== null) {
    throw new PredictionFailure("provider_error", "the reference image is no longer stored");
  }
  // Valid for as long as the job may run and a day more, whatever LINK_TTL_SECONDS says: a job queued or
  // resumed late must not send the model a link that has already expired.
  const link = await source.links.sign(image.id, job.createdAt, {
    atLeastMs: job.runsForMs + 24 * 3600 * 1000,
  });
  if (link) return { url: link.url };
  // Uploaded once: a later run (after a restart) sends the recorded URL, the input the lost create had.
  const recorded = await record.recorded();
  if (recorded) return { url: recorded };
  const bytes = { data: await source.files.read(image.fileName), mime: image.mime ?? "image/png" };
  const hosted = await source.host.hostReference?.(bytes);
  if (!hosted) return bytes;
  return { url: (await record.remember(hosted)) ?? hosted };
}
