// Every message the bot shows, rendered from service data in one place.
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
} from "discord.js";
import type { AuditEntry } from "../../db/repositories/audit-repo.ts";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import type { LibraryEntryWithImage } from "../../db/repositories/library-repo.ts";
import type { VideoRow } from "../../db/repositories/videos-repo.ts";
import type { GenerationView } from "../../features/generation/generation-view.ts";
import type { LibraryPage } from "../../features/library/library-service.ts";
import type { ImagePage, Lineage } from "../../features/references/reference-service.ts";
import { failureReason } from "../../kit/failures.ts";
import { unappliedSafetyNotice } from "../../providers/image-models.ts";
import { asSafetyFilterLevel } from "../../providers/types.ts";
import { encodeCustomId } from "../kit/custom-id.ts";

type Row = APIActionRowComponent<APIButtonComponent>;

export interface RenderedMessage {
  content: string;
  components: Row[];
}

/** Mentions render as names but never ping. */
export const NO_PINGS = { parse: [] as [] };

const MAX_PROMPT_SHOWN = 300;

export function quotePrompt(prompt: string): string {
  const short = prompt.length > MAX_PROMPT_SHOWN ? `${prompt.slice(0, MAX_PROMPT_SHOWN - 1)}…` : prompt;
  return `“${escapeMarkdown(short.replace(/\s+/g, " "))}”`;
}

function failureLines(view: GenerationView): string[] {
  return [
    ...view.images
      .filter((i) => i.status === "failed")
      .map((i) => `Image ${i.slot}: ${i.errorCode ? failureReason(i.errorCode, "image") : "failed"}.`),
    ...(view.waitingOnStorage ?? []).map(
      (slot) =>
        `Image ${slot}: the bot's storage is unavailable, so it is not recorded yet; the bot keeps trying and it comes here once the storage is back.`,
    ),
  ];
}

/** Who took a reference away, as a grid or a video message says it. */
function removedBy(deletedBy: string | null, ownerId: string): string {
  return deletedBy === ownerId ? "deleted by its owner" : "removed by a moderator";
}

/** A line per image deleted since the grid was made: the image itself is no longer attached. */
function removedLines(view: GenerationView): string[] {
  return view.images
    .filter((i) => i.deletedAt !== null)
    .map((i) => `Image ${i.slot}: ${removedBy(i.deletedBy, view.generation.userId)}.`);
}

/** While images land: what is done so far. */
export function renderProgress(view: GenerationView, queuedAhead?: number): RenderedMessage {
  const { generation, images } = view;
  const done = images.filter((i) => i.status === "succeeded" || i.status === "failed").length;
  const head = `🎨 Drawing ${generation.requested} image${generation.requested === 1 ? "" : "s"} for <@${generation.userId}>: ${quotePrompt(generation.prompt)}`;
  const status = queuedAhead
    ? `Queued: ${queuedAhead} ahead of you.`
    : `${done}/${generation.requested} done…`;
  return {
    content: [head, ...lineageLine(generation), status, ...failureLines(view)].join("\n"),
    components: [],
  };
}

/** The finished grid: select buttons for the images that exist, Regenerate, and why any slot failed. */
export function renderGrid(
  view: GenerationView,
  options: { pickedSlot?: number | undefined; previews?: boolean } = {},
): RenderedMessage {
  const { generation, images } = view;
  const stored = images.filter((i) => i.status === "succeeded" && i.deletedAt === null);
  const again: APIButtonComponent = {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: "Regenerate",
    emoji: { name: "🔁" },
    custom_id: encodeCustomId({ handler: "gen", action: "again", generationId: generation.id }),
  };
  if (stored.length === 0 && images.some((i) => i.deletedAt !== null)) {
    // Nothing left to show or pick; a moderator's removal does not repeat the prompt either.
    const byModerator = images.some((i) => i.deletedAt !== null && i.deletedBy !== generation.userId);
    return {
      content: byModerator
        ? `🗑️ The images made for <@${generation.userId}> here were removed by a moderator.`
        : `🗑️ <@${generation.userId}> deleted the images of ${quotePrompt(generation.prompt)}.`,
      components: [],
    };
  }
  if (stored.length === 0) {
    return {
      content: [
        `❌ No image could be made for <@${generation.userId}>: ${quotePrompt(generation.prompt)}`,
        ...failureLines(view),
        "Nothing was stored. Try again, or reword the description.",
      ].join("\n"),
      components: [{ type: ComponentType.ActionRow, components: [again] }],
    };
  }
  const picks: APIButtonComponent[] = stored.map((image) => ({
    type: ComponentType.Button,
    style: image.slot === options.pickedSlot ? ButtonStyle.Success : ButtonStyle.Secondary,
    label: String(image.slot),
    ...(image.slot === options.pickedSlot ? { emoji: { name: "✅" } } : {}),
    custom_id: encodeCustomId({
      handler: "gen",
      action: "pick",
      generationId: generation.id,
      slot: image.slot,
    }),
  }));
  const varies: APIButtonComponent[] = stored.map((image) => ({
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: `Vary ${image.slot}`,
    custom_id: encodeCustomId({
      handler: "gen",
      action: "vary",
      generationId: generation.id,
      slot: image.slot,
    }),
  }));
  const model = stored[0]?.model ?? generation.model;
  const lines = [
    `🎨 ${quotePrompt(generation.prompt)} for <@${generation.userId}> · ${generation.params.aspectRatio} · ${model}`,
    ...lineageLine(generation),
    options.pickedSlot
      ? `Picked image ${options.pickedSlot}. Pick another to change it, then use /video.`
      : `Pick your reference with the buttons ${stored.map((i) => i.slot).join(", ")}.`,
    ...failureLines(view),
    ...removedLines(view),
  ];
  const safety = unappliedSafetyNotice(
    asSafetyFilterLevel(generation.params.safetyFilterLevel),
    stored.map((i) => i.model),
  );
  if (safety) lines.push(safety);
  if (options.previews)
    lines.push(
      "Some images are shown as previews to fit the upload limit; /reference show has the originals.",
    );
  return {
    content: lines.join("\n"),
    components: [
      { type: ComponentType.ActionRow, components: picks },
      { type: ComponentType.ActionRow, components: varies },
      { type: ComponentType.ActionRow, components: [again] },
    ],
  };
}

/** For a generation drawn from an image: which one, and which model drew it. */
function lineageLine(generation: GenerationView["generation"]): string[] {
  return generation.parentImageId
    ? [`Drawn from reference \`${generation.parentImageId}\` by ${generation.model}.`]
    : [];
}

/** A generation that a shutdown interrupted: it is resumed when the bot is back. */
export function renderInterrupted(view: GenerationView): RenderedMessage {
  return {
    content: `${renderProgress(view).content}\n⏸ The bot is restarting; the remaining images will be delivered when it is back.`,
    components: [],
  };
}

const formatBytes = (n: number | null) =>
  n === null ? "?" : n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`;
const timestamp = (ms: number | null) => (ms === null ? "—" : `<t:${Math.floor(ms / 1000)}:f>`);

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

const elapsed = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

export function renderVideoProgress(video: VideoRow, now: number, queuedAhead = 0): string {
  return [
    `🎬 Making a video of reference \`${video.referenceImageId}\` for <@${video.userId}>: ${quotePrompt(video.prompt)}`,
    queuedAhead > 0
      ? `Queued: ${queuedAhead} ahead of you. ${elapsed(now - video.createdAt)} elapsed.`
      : `${elapsed(now - video.createdAt)} elapsed · ${video.model} · videos usually take one to six minutes.`,
  ].join("\n");
}

/**
 * A row with one link button to a signed link (PUBLIC_URL is set): what Discord cannot carry, or the original
 * it shows only as a preview, is one click away.
 */
export function linkButtonRow(label: string, url: string): Row {
  return {
    type: ComponentType.ActionRow,
    components: [{ type: ComponentType.Button, style: ButtonStyle.Link, label, url }],
  };
}

/**
 * The final text of a /video message. `link`: a signed link to the stored video, shown as a "Download video"
 * button (linkButtonRow) when the video is over the upload limit.
 */
export function renderVideoDone(
  video: VideoRow,
  attached: boolean,
  uploadLimit: number,
  link?: { expiresAt: number },
): string {
  const head = `🎬 ${quotePrompt(video.prompt)} for <@${video.userId}> · from reference \`${video.referenceImageId}\` · ${video.model}`;
  if (video.status === "failed") {
    return `❌ The video could not be made for <@${video.userId}>: ${video.errorCode ? failureReason(video.errorCode, "video") : "failed"}.\nReference \`${video.referenceImageId}\` · ${quotePrompt(video.prompt)}`;
  }
  if (attached) return `${head}\nVideo \`${video.id}\``;
  const size = formatBytes(video.bytes);
  const limit = formatBytes(uploadLimit);
  return [
    head,
    `The video is ${size}, over this server's ${limit} upload limit, so it is not attached.`,
    link
      ? `Download it with the button below until ${timestamp(link.expiresAt)} · it is stored by the bot as video \`${video.id}\`.`
      : video.outputUrl
        ? `Download it within an hour of ${timestamp(video.finishedAt)} from ${video.outputUrl} · it is also stored by the bot as video \`${video.id}\`.`
        : `It is stored by the bot as video \`${video.id}\`; the bot's operator can send it to you.`,
  ].join("\n");
}

/** " and 2 videos made from them", or nothing: what a deletion took besides the references. */
export function videosTaken(videos: number, from: "it" | "them"): string {
  return videos > 0 ? ` and ${videos} video${videos === 1 ? "" : "s"} made from ${from}` : "";
}

/** What a video's message says once the video was deleted with its reference. */
export function renderVideoRemoved(video: VideoRow): string {
  return `🗑️ Video \`${video.id}\` for <@${video.userId}> was ${
    video.deletedBy === video.userId ? "deleted with its reference" : "removed by a moderator"
  }.`;
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

/** ◀ ▶ buttons to the neighbouring pages (disabled at either end); none for a single page. */
function pagerRows(
  page: { page: number; pages: number },
  [back, forward]: [string, string],
  customIdFor: (page: number) => string,
): Row[] {
  if (page.pages <= 1) return [];
  const button = (label: string, target: number, disabled: boolean): APIButtonComponent => ({
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label,
    disabled,
    custom_id: customIdFor(target),
  });
  return [
    {
      type: ComponentType.ActionRow,
      components: [
        button(back, page.page - 1, page.page <= 1),
        button(forward, page.page + 1, page.page >= page.pages),
      ],
    },
  ];
}

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

const clip = (text: string, max: number) =>
  (text.length > max ? `${text.slice(0, max - 1)}…` : text).replace(/`/g, "'");

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
