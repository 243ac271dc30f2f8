// A generation's message: its progress while images land, then the grid with its buttons.
import { type APIButtonComponent, ButtonStyle, ComponentType } from "discord.js";
import { ERASED } from "../../db/repositories/erasure-scrub.ts";
import { type GenerationView, referencesOf } from "../../features/generation/generation-view.ts";
import { sheetViewName } from "../../features/generation/studio.ts";
import { RETENTION_ACTOR } from "../../features/retention/retention-service.ts";
import type { FailureCode } from "../../kit/failures.ts";
import { tPublic } from "../../kit/i18n.ts";
import { safetyFilterKind, unappliedSafetyModels } from "../../providers/image-models.ts";
import { asSafetyFilterLevel, type SafetyFilterLevel } from "../../providers/types.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import { queuedLine, quotePrompt, type RenderedMessage } from "./message.ts";

function failureLines(view: GenerationView): string[] {
  return [
    ...view.images
      .filter((i) => i.status === "failed")
      .map((i) =>
        tPublic("grid:imageFailed", {
          slot: i.slot,
          reason: i.errorCode ? imageFailure(i.errorCode) : tPublic("grid:failedReason"),
        }),
      ),
    ...(view.waitingOnStorage ?? []).map((slot) => tPublic("grid:waitingOnStorage", { slot })),
  ];
}

/** Why an image failed, in the channel's language (failureReason's words for an image). */
function imageFailure(code: FailureCode): string {
  switch (code) {
    case "safety_blocked":
      return tPublic("grid:failure.safetyBlocked");
    case "rate_limited":
      return tPublic("grid:failure.rateLimited");
    case "timeout":
      return tPublic("grid:failure.timeout");
    case "provider_error":
      return tPublic("grid:failure.providerError");
    case "bad_output":
      return tPublic("grid:failure.badOutput");
    case "storage_unavailable":
      return tPublic("grid:failure.storageUnavailable");
    case "input_rejected":
      return tPublic("grid:failure.inputRejected");
    case "abandoned":
      return tPublic("grid:failure.abandoned");
  }
}

/** Who took a reference away, as the grid's removed-image line selects its words. */
function removedBy(deletedBy: string | null, ownerId: string): string {
  if (deletedBy === ERASED) return "erased";
  if (deletedBy === RETENTION_ACTOR) return "retention";
  return deletedBy === ownerId ? "owner" : "moderator";
}

/**
 * What a grid of an erased member says, whatever state it was in: neither their images nor their prompt nor
 * their name (the row holds none of them any more).
 */
export function erasedGrid(): RenderedMessage {
  return { content: tPublic("grid:erased"), components: [] };
}

/** A line per image deleted since the grid was made: the image itself is no longer attached. */
function removedLines(view: GenerationView): string[] {
  return view.images
    .filter((i) => i.deletedAt !== null)
    .map((i) =>
      tPublic("grid:imageRemoved", { slot: i.slot, by: removedBy(i.deletedBy, view.generation.userId) }),
    );
}

/** While images land: what is done so far. */
export function renderProgress(view: GenerationView, queuedAhead?: number, waitMs?: number): RenderedMessage {
  const { generation, images } = view;
  if (generation.userId === ERASED) return erasedGrid();
  const done = images.filter((i) => i.status === "succeeded" || i.status === "failed").length;
  const head = tPublic("grid:drawing", {
    count: generation.requested,
    userId: generation.userId,
    prompt: quotePrompt(generation.prompt),
  });
  const status = queuedAhead
    ? queuedLine(queuedAhead, waitMs)
    : tPublic("grid:done", { done, requested: generation.requested });
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
  if (generation.userId === ERASED) return erasedGrid();
  const stored = images.filter((i) => i.status === "succeeded" && i.deletedAt === null);
  const again: APIButtonComponent = {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: tPublic("grid:regenerateLabel"),
    emoji: { name: "🔁" },
    custom_id: encodeCustomId({ handler: "gen", action: "again", generationId: generation.id }),
  };
  const remix: APIButtonComponent = {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: tPublic("grid:remixLabel"),
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
    const userId = generation.userId;
    return {
      content: byModerator
        ? tPublic("grid:removedByModerator", { userId })
        : expired
          ? tPublic("grid:removedExpired", { userId })
          : tPublic("grid:deletedByOwner", { userId, prompt: quotePrompt(generation.prompt) }),
      components: [],
    };
  }
  return {
    content: [
      tPublic("grid:noImage", { userId: generation.userId, prompt: quotePrompt(generation.prompt) }),
      ...failureLines(view),
      tPublic("grid:nothingStored"),
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
    label: tPublic("grid:varyLabel", { slot: image.slot }),
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
    tPublic("grid:head", {
      prompt: quotePrompt(generation.prompt),
      userId: generation.userId,
      aspectRatio: generation.params.aspectRatio,
      model,
    }),
    ...lineageLine(generation),
    ...sheetLine(generation, stored),
    options.pickedSlot
      ? tPublic("grid:picked", { slot: options.pickedSlot })
      : tPublic("grid:pickHint", { slots: stored.map((i) => i.slot).join(", ") }),
    ...failureLines(view),
    ...removedLines(view),
  ];
  const safety = safetyNotice(
    asSafetyFilterLevel(generation.params.safetyFilterLevel),
    stored.map((i) => i.model),
  );
  if (safety) lines.push(safety);
  if (options.previews) lines.push(previewLine(options.originals ?? []));
  return lines;
}

/**
 * The plain statement for a finished grid when the server chose a safety level and some of its images were
 * drawn by a model that cannot apply it; undefined when every image honoured the level (or none was chosen).
 */
function safetyNotice(
  level: SafetyFilterLevel | undefined,
  models: ReadonlyArray<string | null>,
): string | undefined {
  const unapplied = unappliedSafetyModels(level, models);
  if (!level || unapplied.length === 0) return undefined;
  const why = (model: string) =>
    tPublic("grid:safety.why", { model, kind: safetyFilterKind(model) === "fixed" ? "fixed" : "none" });
  return tPublic("grid:safety.notice", {
    level,
    models: unapplied.join(tPublic("grid:safety.or")),
    reasons: unapplied.map(why).join("; "),
  });
}

/** Why an image is a preview, and where its original is: a signed link when there is one, else /reference show. */
function previewLine(originals: ReadonlyArray<{ slot: number; url: string }>): string {
  const links = originals.map((o) => tPublic("grid:previewLink", { slot: o.slot, url: o.url })).join(" · ");
  return links ? tPublic("grid:previewsLinked", { links }) : tPublic("grid:previews");
}

/** A turnaround sheet names the view each slot shows. */
function sheetLine(generation: GenerationView["generation"], stored: readonly StoredImage[]): string[] {
  const views = stored.map((i) => ({ slot: i.slot, name: sheetViewName(generation.params, i.slot) }));
  if (!views.some((v) => v.name)) return [];
  const named = views.map((v) => tPublic("grid:sheetView", { slot: v.slot, view: sheetViewKey(v.name) }));
  return [tPublic("grid:sheet", { views: named.join(" · ") })];
}

/** A sheet view's name as the locale files select it ("three-quarter" → "threeQuarter"). */
export function sheetViewKey(name: string | undefined): string {
  return (name ?? "").replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}

/** For a generation drawn from images: which ones, in order, and which model drew it. */
function lineageLine(generation: GenerationView["generation"]): string[] {
  const references = referencesOf(generation);
  if (references.length === 0) return [];
  const named = references.map((id) => `\`${id}\``).join(", ");
  return [tPublic("grid:lineage", { count: references.length, named, model: generation.model })];
}

/** A generation that a shutdown interrupted: it is resumed when the bot is back. */
export function renderInterrupted(view: GenerationView): RenderedMessage {
  return {
    content: `${renderProgress(view).content}\n${tPublic("grid:interrupted")}`,
    components: [],
  };
}
