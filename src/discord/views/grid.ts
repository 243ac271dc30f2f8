// A generation's message: its progress while images land, then the grid with its buttons.
import { type APIButtonComponent, ButtonStyle, ComponentType } from "discord.js";
import { ERASED } from "../../db/repositories/erasure-scrub.ts";
import { type GenerationView, referencesOf } from "../../features/generation/generation-view.ts";
import { sheetViewName } from "../../features/generation/studio.ts";
import { RETENTION_ACTOR } from "../../features/retention/retention-service.ts";
import { failureReason } from "../../kit/failures.ts";
import { unappliedSafetyNotice } from "../../providers/image-models.ts";
import { asSafetyFilterLevel } from "../../providers/types.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import { queuedLine, quotePrompt, type RenderedMessage } from "./message.ts";

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
  if (deletedBy === ERASED) return "removed at the member's request";
  if (deletedBy === RETENTION_ACTOR) return "removed after the bot's image retention period";
  return deletedBy === ownerId ? "deleted by its owner" : "removed by a moderator";
}

/**
 * What a grid of an erased member says, whatever state it was in: neither their images nor their prompt nor
 * their name (the row holds none of them any more).
 */
export const ERASED_GRID: RenderedMessage = {
  content: "🗑️ These images were removed at the member's request.",
  components: [],
};

/** A line per image deleted since the grid was made: the image itself is no longer attached. */
function removedLines(view: GenerationView): string[] {
  return view.images
    .filter((i) => i.deletedAt !== null)
    .map((i) => `Image ${i.slot}: ${removedBy(i.deletedBy, view.generation.userId)}.`);
}

/** While images land: what is done so far. */
export function renderProgress(view: GenerationView, queuedAhead?: number, waitMs?: number): RenderedMessage {
  const { generation, images } = view;
  if (generation.userId === ERASED) return ERASED_GRID;
  const done = images.filter((i) => i.status === "succeeded" || i.status === "failed").length;
  const head = `🎨 Drawing ${generation.requested} image${generation.requested === 1 ? "" : "s"} for <@${generation.userId}>: ${quotePrompt(generation.prompt)}`;
  const status = queuedAhead ? queuedLine(queuedAhead, waitMs) : `${done}/${generation.requested} done…`;
  return {
    content: [head, ...lineageLine(generation), status, ...failureLines(view)].join("\n"),
    components: [],
  };
}

type GridOptions = {
  pickedSlot?: number | undefined;
  previews?: boolean;
  /** Signed links to the originals of images shown as previews (PUBLIC_URL set), by slot. */
  originals?: ReadonlyArray<{ slot: number; url: string }>;
};
type StoredImage = GenerationView["images"][number];

/**
 * The finished grid: select buttons for the images that exist, Regenerate and Remix (the description edited in
 * a modal), and why any slot failed.
 */
export function renderGrid(view: GenerationView, options: GridOptions = {}): RenderedMessage {
  const { generation, images } = view;
  if (generation.userId === ERASED) return ERASED_GRID;
  const stored = images.filter((i) => i.status === "succeeded" && i.deletedAt === null);
  const again: APIButtonComponent = {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: "Regenerate",
    emoji: { name: "🔁" },
    custom_id: encodeCustomId({ handler: "gen", action: "again", generationId: generation.id }),
  };
  const remix: APIButtonComponent = {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: "Remix",
    emoji: { name: "✏️" },
    custom_id: encodeCustomId({ handler: "gen", action: "remix", generationId: generation.id }),
  };
  if (stored.length === 0) return renderEmptyGrid(view, [again, remix]);
  return {
    content: gridLines(view, stored, options).join("\n"),
    components: [
      { type: ComponentType.ActionRow, components: pickButtons(generation.id, stored, options.pickedSlot) },
      { type: ComponentType.ActionRow, components: varyButtons(generation.id, stored) },
      { type: ComponentType.ActionRow, components: [again, remix] },
    ],
  };
}

/** A grid with no image left: every one was deleted, or none could be made (Regenerate and Remix stay). */
function renderEmptyGrid(view: GenerationView, retry: APIButtonComponent[]): RenderedMessage {
  const { generation, images } = view;
  if (images.some((i) => i.deletedAt !== null)) {
    // Nothing left to show or pick; a moderator's removal does not repeat the prompt either.
    const byModerator = images.some(
      (i) => i.deletedAt !== null && i.deletedBy !== generation.userId && i.deletedBy !== RETENTION_ACTOR,
    );
    const expired = images.every((i) => i.deletedAt === null || i.deletedBy === RETENTION_ACTOR);
    return {
      content: byModerator
        ? `🗑️ The images made for <@${generation.userId}> here were removed by a moderator.`
        : expired
          ? `🗑️ The images made for <@${generation.userId}> here were removed after the bot's image retention period.`
          : `🗑️ <@${generation.userId}> deleted the images of ${quotePrompt(generation.prompt)}.`,
      components: [],
    };
  }
  return {
    content: [
      `❌ No image could be made for <@${generation.userId}>: ${quotePrompt(generation.prompt)}`,
      ...failureLines(view),
      "Nothing was stored. Try again, or reword the description.",
    ].join("\n"),
    components: [{ type: ComponentType.ActionRow, components: retry }],
  };
}

/** The select buttons 1…N, the picked one marked. */
function pickButtons(
  generationId: string,
  stored: readonly StoredImage[],
  pickedSlot: number | undefined,
): APIButtonComponent[] {
  return stored.map((image) => ({
    type: ComponentType.Button,
    style: image.slot === pickedSlot ? ButtonStyle.Success : ButtonStyle.Secondary,
    label: String(image.slot),
    ...(image.slot === pickedSlot ? { emoji: { name: "✅" } } : {}),
    custom_id: encodeCustomId({
      handler: "gen",
      action: "pick",
      generationId,
      slot: image.slot,
    }),
  }));
}

/** A Vary button per image: a new grid drawn from it. */
function varyButtons(generationId: string, stored: readonly StoredImage[]): APIButtonComponent[] {
  return stored.map((image) => ({
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: `Vary ${image.slot}`,
    custom_id: encodeCustomId({
      handler: "gen",
      action: "vary",
      generationId,
      slot: image.slot,
    }),
  }));
}

/** The grid's text: what was drawn, how to pick, and a line per slot that failed or was removed. */
function gridLines(view: GenerationView, stored: readonly StoredImage[], options: GridOptions): string[] {
  const { generation } = view;
  const model = stored[0]?.model ?? generation.model;
  const lines = [
    `🎨 ${quotePrompt(generation.prompt)} for <@${generation.userId}> · ${generation.params.aspectRatio} · ${model}`,
    ...lineageLine(generation),
    ...sheetLine(generation, stored),
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
  if (options.previews) lines.push(previewLine(options.originals ?? []));
  return lines;
}

/** Why an image is a preview, and where its original is: a signed link when there is one, else /reference show. */
function previewLine(originals: ReadonlyArray<{ slot: number; url: string }>): string {
  const links = originals.map((o) => `[image ${o.slot}](<${o.url}>)`).join(" · ");
  return links
    ? `Some images are shown as previews to fit the upload limit. Full size: ${links}`
    : "Some images are shown as previews to fit the upload limit; /reference show has the originals.";
}

/** A turnaround sheet names the view each slot shows. */
function sheetLine(generation: GenerationView["generation"], stored: readonly StoredImage[]): string[] {
  const views = stored.map((i) => ({ slot: i.slot, name: sheetViewName(generation.params, i.slot) }));
  if (!views.some((v) => v.name)) return [];
  return [`Turnaround sheet: ${views.map((v) => `${v.slot} ${v.name}`).join(" · ")}.`];
}

/** For a generation drawn from images: which ones, in order, and which model drew it. */
function lineageLine(generation: GenerationView["generation"]): string[] {
  const references = referencesOf(generation);
  if (references.length === 0) return [];
  const named = references.map((id) => `\`${id}\``).join(", ");
  return [`Drawn from reference${references.length === 1 ? "" : "s"} ${named} by ${generation.model}.`];
}

/** A generation that a shutdown interrupted: it is resumed when the bot is back. */
export function renderInterrupted(view: GenerationView): RenderedMessage {
  return {
    content: `${renderProgress(view).content}\n⏸ The bot is restarting; the remaining images will be delivered when it is back.`,
    components: [],
  };
}
