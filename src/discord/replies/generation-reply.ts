// Keeps a generation's Discord message up to date: progress as images land (each image uploaded once, as it
// lands, within the edits' burst budget), then the grid with its buttons, sent while the last image is stored.
// Used live and for generations resumed after a restart.
import { createHash } from "node:crypto";
import type { ImageRow } from "../../db/repositories/images-repo.ts";
import type { AppContext } from "../../features/context.ts";
import type { GenerationView } from "../../features/generation/generation-view.ts";
import { sheetViewName } from "../../features/generation/studio.ts";
import { inLocales, rowLocales, tPublic } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { trace } from "../../kit/trace.ts";
import { renderGrid, renderInterrupted, renderProgress, sheetViewKey } from "../views/grid.ts";
import type { RenderedMessage } from "../views/message.ts";
import { altText, fitImage } from "./attachments.ts";
import { QueueUpdates, ThrottledEdits } from "./pacing.ts";
import {
  LateDeliveryError,
  type OutgoingFile,
  type ReplyTarget,
  UndeliverableError,
} from "./reply-target.ts";

export class GenerationReply {
  private readonly progress: ThrottledEdits<GenerationView>;
  private readonly queue: QueueUpdates;

  constructor(
    generationId: string,
    private readonly target: ReplyTarget,
    private readonly ctx: AppContext,
    private readonly budget: number,
    private readonly log: Logger,
  ) {
    this.progress = new ThrottledEdits(
      async (view) => {
        await this.show(view, renderProgress(view, this.queuedAhead));
      },
      ctx.config.replies.editIntervalMs,
      ctx.clock,
      (err) => log.warn({ err }, "progress edit failed"),
    );
    this.queue = new QueueUpdates(
      () => {
        if (this.latest) {
          this.progress.schedule(this.latest);
          return;
        }
        ctx.generation.view(generationId).then(
          (view) => {
            if (view) this.progress.schedule(this.latest ?? view);
          },
          (err: unknown) => log.warn({ err }, "could not read the generation for a queue update"),
        );
      },
      ctx.config.replies.queueIntervalMs,
      ctx.clock,
    );
  }

  private latest: GenerationView | undefined;
  private queuedAhead = 0;

  /**
   * Each image is uploaded as it lands (within the edits' burst budget), so the grid that follows the last one
   * carries little more than its buttons; a slot that failed only changes the text, at the usual pace.
   */
  readonly onProgress = (view: GenerationView, settled?: ImageRow): void => {
    this.latest = view;
    this.progress.schedule(view, settled?.status === "succeeded" && settled.deletedAt === null);
  };

  /** Shows the place in the queue while the generation's slots wait for room under the global limit. */
  readonly onQueue = (ahead: number): void => {
    this.queuedAhead = ahead;
    this.queue.changed(ahead);
  };

  /** The grid sent while the last images were being stored, as it was sent; see onLanded. */
  private early: Promise<string | undefined> | undefined;

  /**
   * The grid goes out as soon as every slot has ended or has its image checked and on its way into storage:
   * a put to S3 (tens of ms, more across a network) is no longer on the grid's path. Its buttons may be pressed
   * a moment before the last image's row is recorded; a pick of an image not recorded yet is refused with "try
   * again". `finish` then shows what was recorded, and sends nothing more when that is what the grid shows.
   */
  readonly onLanded = (view: GenerationView): Promise<string | undefined> => {
    this.early ??= this.sendEarly(view).catch((err: unknown) => {
      this.log.warn({ err, generationId: view.generation.id }, "the grid could not be sent early");
      return undefined;
    });
    return this.early;
  };

  private async sendEarly(view: GenerationView): Promise<string | undefined> {
    trace("grid.early", { generationId: view.generation.id });
    this.queue.stop();
    await this.progress.settle();
    trace("grid.progress-settled", { generationId: view.generation.id });
    const message = await this.gridMessage(view);
    trace("grid.rendered", { generationId: view.generation.id });
    const shown = await this.show(view, message);
    trace("grid.sent", { generationId: view.generation.id });
    return shown;
  }

  /**
   * A grid another process sent early (a fleet's slot worker; see EarlyGrids), showing `shown` (see shownAs):
   * `finish` takes it as this reply's own early grid, and sends nothing more when it still shows what it should.
   */
  assumeShown(shown: string): void {
    this.early ??= Promise.resolve(shown);
  }

  /** Shows the generation's place in the fleet's queue (shared queue: its slots wait for any worker). */
  async showQueued(view: GenerationView, ahead: number, waitMs?: number): Promise<void> {
    await this.show(view, renderProgress(view, ahead, waitMs));
  }

  /** The final message: the grid, or (when a shutdown cut the run short) a note that the rest comes later. */
  async finish(settled: GenerationView): Promise<void> {
    this.queue.stop();
    // The grid sent early, if any, is answered first: this edit must not overtake it.
    const early = await this.early;
    const waited = await this.progress.settle();
    if (!early) trace("grid.progress-settled", { generationId: settled.generation.id });
    // Its slots read again when an edit was under way: a purge or deletion may have removed images meanwhile.
    // Otherwise `settled` was read once the generation had settled, a moment ago: reading it again would only
    // add a round trip to the grid's path.
    const view =
      waited || this.early ? await this.ctx.generation.withCurrentImages(settled.generation) : settled;
    const interrupted = view.generation.status === "running";
    // A pick pressed on the early grid edited the message itself (and is shown as picked from now on).
    const picked = early ? await this.ctx.references.pickedSlot(view.generation.id) : undefined;
    try {
      const message = interrupted ? renderInterrupted(view) : await this.gridMessage(view, picked);
      // A shutdown after the early grid leaves it standing: the next start finishes the run and sends it again.
      const stands =
        early !== undefined &&
        (interrupted || (picked === undefined && early === this.shownAs(view, message)));
      if (!stands) {
        trace("grid.rendered", { generationId: view.generation.id });
        await this.show(view, message);
        trace("grid.sent", { generationId: view.generation.id });
      }
    } catch (err) {
      if (!(err instanceof UndeliverableError)) throw err;
      this.log.warn(
        { err, generationId: view.generation.id },
        "generation cannot be delivered; /reference has it",
      );
      // Only a grid with an image to show is a result kept for later; a failed or emptied one is just over.
      const kept = view.images.some((i) => i.status === "succeeded" && i.deletedAt === null);
      if (err instanceof LateDeliveryError && !interrupted && kept) {
        await this.ctx.lateResults.mark("generation", view.generation.id);
      }
    }
    if (!interrupted) await this.ctx.generation.markDelivered(view.generation.id);
  }

  /** Stops the progress edits (the reply is about to be withdrawn instead of showing the grid). */
  async withdraw(): Promise<void> {
    this.queue.stop();
    await this.progress.settle();
  }

  /**
   * The finished grid as it stands now (after a deletion, without the deleted image), in the language it was
   * made in, whoever's deletion (in whichever server) changed it.
   */
  async showGrid(view: GenerationView, pickedSlot: number | undefined): Promise<void> {
    await inLocales(rowLocales(view.generation), async () => {
      await this.show(view, await this.gridMessage(view, pickedSlot));
    });
  }

  private async gridMessage(view: GenerationView, pickedSlot?: number): Promise<RenderedMessage> {
    const shrunk = view.images.filter(
      (i) => i.status === "succeeded" && i.deletedAt === null && !this.fits(i),
    );
    return renderGrid(view, {
      previews: shrunk.length > 0,
      originals: await originalLinks(this.ctx, shrunk, this.log),
      ...(pickedSlot === undefined ? {} : { pickedSlot }),
    });
  }

  /** The images a message of `view` shows. */
  private filesOf(view: GenerationView): OutgoingFile[] {
    return view.images
      .filter((i) => i.status === "succeeded" && i.fileName && i.deletedAt === null)
      .map((i) => this.fileFor(i, view.generation.prompt, sheetViewName(view.generation.params, i.slot)));
  }

  /** What tells two messages of this reply apart: a digest of their text, buttons and files. */
  private shownAs(view: GenerationView, message: RenderedMessage): string {
    const files = this.filesOf(view).map((f) => f.name);
    const shown = JSON.stringify([message.content, message.components ?? [], files]);
    return createHash("sha256").update(shown).digest("base64url");
  }

  /** Edits the message to `message` with `view`'s images; says what it showed (see shownAs). */
  private async show(view: GenerationView, message: RenderedMessage): Promise<string> {
    const { messageId } = await this.target.edit({ ...message, files: this.filesOf(view) });
    // Recorded once: every edit of a reply is to the same message (an UPDATE, and on PostgreSQL a commit, per
    // edit before: four or five a /character).
    if (messageId !== this.recordedMessageId) {
      await this.ctx.generation.setMessageId(view.generation.id, messageId);
      this.recordedMessageId = messageId;
    }
    return this.shownAs(view, message);
  }

  /** The message id this reply last recorded on its generation. */
  private recordedMessageId: string | undefined;

  private fits(image: ImageRow): boolean {
    return (image.bytes ?? Number.POSITIVE_INFINITY) <= this.budget;
  }

  /** The original when it fits its share of the upload limit, else a JPEG preview made when it is sent. */
  private fileFor(image: ImageRow, prompt: string, sheetView: string | undefined): OutgoingFile {
    const ext = image.fileName?.split(".").pop() ?? "png";
    // A sheet's files are named by their view, as the grid's text names them.
    const base = `character-${image.slot}${sheetView ? `-${sheetView}` : ""}`;
    const read = () => this.ctx.references.readImageFile(image);
    const label = sheetView
      ? tPublic("grid:altSheetImage", { slot: image.slot, view: sheetViewKey(sheetView) })
      : tPublic("grid:altImage", { slot: image.slot });
    const description = altText(label, prompt);
    if (this.fits(image)) return { name: `${base}.${ext}`, description, read };
    return {
      name: `${base}-preview.jpg`,
      description: altText(tPublic("grid:altPreview", { label }), prompt),
      read: async () => (await fitImage(await read(), base, ext, this.budget)).data,
    };
  }
}

/**
 * Signed links to the originals of images sent as previews (an upscale is often over the upload limit); none
 * without PUBLIC_URL. Signed from the start of the hour: the grid sent early and the final one read alike,
 * and a link is good for at least LINK_TTL_SECONDS less an hour.
 */
export async function originalLinks(
  ctx: Pick<AppContext, "links" | "clock">,
  shrunk: ReadonlyArray<Pick<ImageRow, "id" | "slot">>,
  log: Logger,
): Promise<Array<{ slot: number; url: string }>> {
  const { links, clock } = ctx;
  if (!links.enabled || shrunk.length === 0) return [];
  const hour = Math.floor(clock.now() / 3_600_000) * 3_600_000;
  try {
    const signed = await Promise.all(shrunk.map((i) => links.sign(i.id, hour)));
    return shrunk.flatMap((i, k) => {
      const link = signed[k];
      return link ? [{ slot: i.slot, url: link.url }] : [];
    });
  } catch (err) {
    log.warn({ err }, "could not sign links to the originals; the grid names /reference show");
    return [];
  }
}
