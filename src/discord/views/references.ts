// /reference's messages: one reference's details and lineage, a member's list of references.
import { escapeMarkdown } from "discord.js";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import { type VideoRow, videoParamsOf } from "../../db/repositories/videos-repo.ts";
import type { ImagePage, Lineage } from "../../features/references/reference-service.ts";
import { t } from "../../kit/i18n.ts";
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
  // What /reference show adds under the details when the image is attached as a preview.
  const tail = options.preview ? [t("references:info.previewNote")] : [];
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
    t("references:info.title", { id: image.id }),
    t("references:info.prompt", { prompt: quotePrompt(image.prompt) }),
    t("references:info.owner", { userId: image.userId, slot: image.slot, generationId: image.generationId }),
    t("references:info.model", {
      model: clip(image.model ?? "?", 80),
      parameters: clip(described, 160) || t("references:info.noParameters"),
    }),
    t("references:info.file", {
      mime: image.mime ?? "?",
      size: formatBytes(image.bytes),
      width: image.width ?? "?",
      height: image.height ?? "?",
      sha256: (image.sha256 ?? "").slice(0, 16),
    }),
    t("references:info.created", { when: timestamp(image.finishedAt ?? image.createdAt) }),
    t("references:info.currentPick", { picked: isCurrentPick ? "yes" : "no" }),
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
  return [t("references:info.libraryNames", { names: shown.join(", ") })];
}

/**
 * The lineage (the image it was drawn from, the variations drawn from it) and the videos made from it, in
 * `budget` characters: each list gets half, and what one does not need goes to the other.
 */
function lineageSections(lineage: Lineage, budget: number): string[] {
  const parents = lineage.parents.map((p) =>
    p.deleted ? t("references:lineage.deletedParent", { id: p.imageId }) : `\`${p.imageId}\``,
  );
  const parent = parents.length
    ? t("references:lineage.drawnFrom", { parents: parents.join(", ") })
    : t("references:lineage.drawnFromNothing");
  const variations = [
    lineage.childCount === 0
      ? t("references:lineage.noVariations")
      : t("references:lineage.variations", { count: lineage.childCount }),
  ];
  const videos = [
    lineage.videoCount === 0
      ? t("references:lineage.noVideos")
      : t("references:lineage.videos", { count: lineage.videoCount }),
  ];
  const fixed = [parent, ...variations, ...videos].join("\n").length + 1;
  const childLines = lineage.children.map(
    ({ generation, imageIds }) =>
      `• ${timestamp(generation.createdAt)} · ${clip(generation.model, 60)} · ${imageIds.length ? imageIds.map((id) => `\`${id}\``).join(", ") : statusOf(generation.status)}`,
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

/** A generation's or a video's status as the member reads it. */
const statusOf = (status: string) => t("references:lineage.status", { status });

const videoLine = (v: VideoRow) =>
  `• \`${v.id}\` · ${statusOf(v.status)} · ${clip(v.model, 60)}${framesOf(v)} · ${quotePrompt(v.prompt, 60)}`;

/** A video's length and frames: " · 8 s · 16:9 · ends on `<id>`", or with its reference images. */
function framesOf(v: VideoRow): string {
  const params = videoParamsOf(v);
  const parts = [
    ...(params.durationSeconds ? [t("references:lineage.seconds", { seconds: params.durationSeconds })] : []),
    ...(params.aspectRatio ? [params.aspectRatio] : []),
    ...(params.endImageId ? [t("references:lineage.endsOn", { id: params.endImageId })] : []),
    ...(params.referenceImageIds?.length
      ? [
          t("references:lineage.withReferences", {
            ids: params.referenceImageIds.map((id) => `\`${id}\``).join(", "),
          }),
        ]
      : []),
  ];
  return parts.map((p) => ` · ${p}`).join("");
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
          ? t("references:list.emptyOwn")
          : t("references:list.emptyOther", { userId: ownerId }),
      components: [],
    };
  }
  const lines = page.items.map((i) => {
    const expiry = expiresAt(i);
    return t("references:list.line", {
      id: i.id,
      when: timestamp(i.finishedAt),
      slot: i.slot,
      removal: expiry === undefined ? "" : t("references:list.removal", { when: timestamp(expiry) }),
      later: deliveredLater.has(i.generationId) ? t("references:list.deliveredLater") : "",
      prompt: quotePrompt(i.prompt, 60),
    });
  });
  return {
    content: [
      t("references:list.heading", {
        userId: ownerId,
        page: page.page,
        pages: page.pages,
        total: page.total,
      }),
      ...lines,
    ].join("\n"),
    components: pagerRows(
      page,
      [t("references:list.newerLabel"), t("references:list.olderLabel")],
      (target) => encodeCustomId({ handler: "ref", action: "page", userId: ownerId, page: target }),
    ),
  };
}
