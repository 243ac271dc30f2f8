// /reference's messages: one reference's details and lineage, a member's list of references.
import { escapeMarkdown } from "discord.js";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import type { VideoRow } from "../../db/repositories/videos-repo.ts";
import type { ImagePage, Lineage } from "../../features/references/reference-service.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import { formatBytes, pagerRows, quotePrompt, type RenderedMessage, timestamp } from "./message.ts";

export function renderImageInfo(
  image: ImageWithOwner,
  isCurrentPick: boolean,
  videos: VideoRow[] = [],
  lineage?: Lineage,
  libraryNames: readonly string[] = [],
): string {
  const params = JSON.parse(image.params) as Record<string, unknown>;
  return [
    `**Reference \`${image.id}\`**`,
    `Prompt: ${quotePrompt(image.prompt)}`,
    `Owner: <@${image.userId}> · image ${image.slot} of generation \`${image.generationId}\``,
    `Model: ${image.model ?? "?"} · parameters: ${
      Object.entries(params)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(", ") || "none"
    }`,
    `File: ${image.mime ?? "?"} · ${formatBytes(image.bytes)} · ${image.width ?? "?"}×${image.height ?? "?"} · sha256 \`${(image.sha256 ?? "").slice(0, 16)}…\``,
    `Created: ${timestamp(image.finishedAt ?? image.createdAt)}`,
    `Current pick: ${isCurrentPick ? "yes ✅" : "no"}`,
    ...(libraryNames.length
      ? [`In the server library as ${libraryNames.map((n) => `**${escapeMarkdown(n)}**`).join(", ")}`]
      : []),
    ...(lineage ? lineageLines(lineage) : []),
    videos.length === 0
      ? "Videos: none yet (/video makes one)"
      : `Videos (${videos.length}):\n${videos
          .slice(0, 10)
          .map((v) => `• \`${v.id}\` · ${v.status} · ${v.model} · ${quotePrompt(v.prompt.slice(0, 60))}`)
          .join("\n")}`,
  ].join("\n");
}

/** /reference info's lineage: the image this one was drawn from, and the grids drawn from this one. */
function lineageLines(lineage: Lineage): string[] {
  const parent = lineage.parentImageId
    ? `Drawn from: \`${lineage.parentImageId}\``
    : "Drawn from: nothing (a new character)";
  if (lineage.childCount === 0) return [parent, "Variations made from it: none yet (press Vary under it)"];
  const lines = lineage.children.map(
    ({ generation, imageIds }) =>
      `• ${timestamp(generation.createdAt)} · ${generation.model} · ${imageIds.length ? imageIds.map((id) => `\`${id}\``).join(", ") : generation.status}`,
  );
  const more = lineage.childCount - lines.length;
  return [
    parent,
    `Variations made from it (${lineage.childCount}):`,
    ...lines,
    ...(more > 0 ? [`…and ${more} earlier`] : []),
  ];
}

/** " and 2 videos made from them", or nothing: what a deletion took besides the references. */
export function videosTaken(videos: number, from: "it" | "them"): string {
  return videos > 0 ? ` and ${videos} video${videos === 1 ? "" : "s"} made from ${from}` : "";
}

export const LIST_PAGE_SIZE = 10;

export function renderImageList(page: ImagePage, ownerId: string, viewerId = ownerId): RenderedMessage {
  if (page.total === 0) {
    return {
      content:
        ownerId === viewerId
          ? "You have no references yet. Make some with /character."
          : `<@${ownerId}> has no references here.`,
      components: [],
    };
  }
  const lines = page.items.map(
    (i) =>
      `\`${i.id}\` · ${timestamp(i.finishedAt)} · image ${i.slot} · ${quotePrompt(i.prompt.slice(0, 60))}`,
  );
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
