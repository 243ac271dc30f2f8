// /reference's messages: one reference's details and lineage, a member's list of references.
import { escapeMarkdown } from "discord.js";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import { type VideoRow, videoParamsOf } from "../../db/repositories/videos-repo.ts";
import type { ImagePage, Lineage } from "../../features/references/reference-service.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import {
  clip,
  fitLines,
  formatBytes,
  MAX_CONTENT,
  pagerRows,
  quotePrompt,
  type RenderedMessage,
  timestamp,
} from "./message.ts";

/** What /reference show adds under the details when the image is attached as a preview. */
export const PREVIEW_NOTE = "(Shown as a preview: the original is over the upload limit.)";

/**
 * /reference info and show: a reference's details, its library names, and what was made from it, within one
 * message. Each part has its budget; a list that does not fit ends with "…and N more".
 */
export function renderImageInfo(
  image: ImageWithOwner,
  isCurrentPick: boolean,
  lineage?: Lineage,
  libraryNames: readonly string[] = [],
  options: { preview?: boolean } = {},
): string {
  const head = [...detailLines(image, isCurrentPick), ...libraryLine(libraryNames)];
  const tail = options.preview ? [PREVIEW_NOTE] : [];
  if (!lineage) return [...head, ...tail].join("\n");
  const used = [...head, ...tail].join("\n").length + 1;
  return [...head, ...lineageSections(lineage, MAX_CONTENT - used), ...tail].join("\n");
}

function detailLines(image: ImageWithOwner, isCurrentPick: boolean): string[] {
  const params = JSON.parse(image.params) as Record<string, unknown>;
  const described = Object.entries(params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(", ");
  return [
    `**Reference \`${image.id}\`**`,
    `Prompt: ${quotePrompt(image.prompt)}`,
    `Owner: <@${image.userId}> · image ${image.slot} of generation \`${image.generationId}\``,
    `Model: ${clip(image.model ?? "?", 80)} · parameters: ${clip(described, 160) || "none"}`,
    `File: ${image.mime ?? "?"} · ${formatBytes(image.bytes)} · ${image.width ?? "?"}×${image.height ?? "?"} · sha256 \`${(image.sha256 ?? "").slice(0, 16)}…\``,
    `Created: ${timestamp(image.finishedAt ?? image.createdAt)}`,
    `Current pick: ${isCurrentPick ? "yes ✅" : "no"}`,
  ];
}

/** The library names of the image, as many as fit in a line of their own. */
function libraryLine(names: readonly string[]): string[] {
  if (names.length === 0) return [];
  const shown = fitLines(
    names.map((n) => `**${escapeMarkdown(n)}**`),
    300,
    names.length,
    ", ",
  );
  return [`In the server library as ${shown.join(", ")}`];
}

/**
 * The lineage (the image it was drawn from, the variations drawn from it) and the videos made from it, in
 * `budget` characters: each list gets half, and what one does not need goes to the other.
 */
function lineageSections(lineage: Lineage, budget: number): string[] {
  const parent = lineage.parents.length
    ? `Drawn from: ${lineage.parents.map((p) => `\`${p.imageId}\`${p.deleted ? " (deleted)" : ""}`).join(", ")}`
    : "Drawn from: nothing (a new character)";
  const variations =
    lineage.childCount === 0
      ? ["Variations made from it: none yet (press Vary under it)"]
      : [`Variations made from it (${lineage.childCount}):`];
  const videos =
    lineage.videoCount === 0 ? ["Videos: none yet (/video makes one)"] : [`Videos (${lineage.videoCount}):`];
  const fixed = [parent, ...variations, ...videos].join("\n").length + 1;
  const childLines = lineage.children.map(
    ({ generation, imageIds }) =>
      `• ${timestamp(generation.createdAt)} · ${clip(generation.model, 60)} · ${imageIds.length ? imageIds.map((id) => `\`${id}\``).join(", ") : generation.status}`,
  );
  const videoLines = lineage.videos.map(videoLine);
  const room = Math.max(0, budget - fixed);
  const half = Math.floor(room / 2);
  const wantedByVideos = videoLines.join("\n").length + 40;
  const shownChildren = lineage.childCount
    ? fitLines(childLines, Math.max(half, room - wantedByVideos), lineage.childCount)
    : [];
  const childRoom = shownChildren.length ? shownChildren.join("\n").length + 1 : 0;
  const shownVideos = lineage.videoCount ? fitLines(videoLines, room - childRoom, lineage.videoCount) : [];
  return [parent, ...variations, ...shownChildren, ...videos, ...shownVideos];
}

const videoLine = (v: VideoRow) =>
  `• \`${v.id}\` · ${v.status} · ${clip(v.model, 60)}${framesOf(v)} · ${quotePrompt(v.prompt, 60)}`;

/** A video's length and frames: " · 8 s · 16:9 · ends on `<id>`", or with its reference images. */
function framesOf(v: VideoRow): string {
  const params = videoParamsOf(v);
  const parts = [
    ...(params.durationSeconds ? [`${params.durationSeconds} s`] : []),
    ...(params.aspectRatio ? [params.aspectRatio] : []),
    ...(params.endImageId ? [`ends on \`${params.endImageId}\``] : []),
    ...(params.referenceImageIds?.length
      ? [`with ${params.referenceImageIds.map((id) => `\`${id}\``).join(", ")}`]
      : []),
  ];
  return parts.map((p) => ` · ${p}`).join("");
}

/** " and 2 videos made from them", or nothing: what a deletion took besides the references. */
export function videosTaken(videos: number, from: "it" | "them"): string {
  return videos > 0 ? ` and ${videos} video${videos === 1 ? "" : "s"} made from ${from}` : "";
}

export const LIST_PAGE_SIZE = 10;

/**
 * /reference list's page. `expiresAt` says when IMAGE_RETENTION_DAYS removes an image (undefined: kept until
 * deleted); each line then says when.
 */
export function renderImageList(
  page: ImagePage,
  ownerId: string,
  viewerId = ownerId,
  expiresAt: (image: ImageWithOwner) => number | undefined = () => undefined,
  /** Generations whose result finished after their interaction expired where the bot could not post. */
  deliveredLater: ReadonlySet<string> = new Set(),
): RenderedMessage {
  if (page.total === 0) {
    return {
      content:
        ownerId === viewerId
          ? "You have no references yet. Make some with /character."
          : `<@${ownerId}> has no references here.`,
      components: [],
    };
  }
  const lines = page.items.map((i) => {
    const expiry = expiresAt(i);
    const goes = expiry === undefined ? "" : ` · removed ${timestamp(expiry)}`;
    const later = deliveredLater.has(i.generationId) ? " · delivered later" : "";
    return `\`${i.id}\` · ${timestamp(i.finishedAt)} · image ${i.slot}${goes}${later} · ${quotePrompt(i.prompt, 60)}`;
  });
  return {
    content: [
      `**References of <@${ownerId}>** · page ${page.page}/${page.pages} · ${page.total} in all`,
      ...lines,
    ].join("\n"),
    components: pagerRows(page, ["◀ Newer", "Older ▶"], (target) =>
      encodeCustomId({ handler: "ref", action: "page", userId: ownerId, page: target }),
    ),
  };
}
