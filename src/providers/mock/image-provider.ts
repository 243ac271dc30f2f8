// The offline, free image provider for sandbox guilds and tests: real PNGs, simulated latency and failures,
// and an upscaler that enlarges the very image it was given with sharp.

import { randomUUID } from "node:crypto";
import sharp from "sharp";
import type { ImageProvider, ImageRequest, ReferenceImage, StartedPrediction } from "../types.ts";
import { renderMockImage } from "./art.ts";
import { assertReference, MockPredictions, type MockTicket } from "./mock-predictions.ts";

export const MOCK_MODEL = "mock/character-sketch";
/** What the mock reports for images drawn from a reference (variations, /character reference:). */
export const MOCK_REFERENCE_MODEL = "mock/character-sketch-from-reference";
/** What the mock reports for upscales. */
export const MOCK_UPSCALE_MODEL = "mock/upscale";

/** How many images handed over as bytes the mock keeps for their upscales (the oldest goes first). */
const HELD_IMAGES = 16;
/** The most pixels an image to enlarge may have when decoded (the file store's own limit). */
const MAX_INPUT_PIXELS = 4096 * 4096;

export class MockImageProvider extends MockPredictions implements ImageProvider {
  /** Images given as bytes, for their upscale's output; a restart forgets them (a placeholder is enlarged). */
  private readonly held = new Map<string, Buffer>();

  async start(request: ImageRequest): Promise<StartedPrediction> {
    const references = request.references ?? [];
    for (const reference of references) assertReference(reference);
    const enlarged = references[0];
    if (request.upscale && enlarged) {
      const source = this.hold(enlarged);
      return {
        predictionId: this.ticket(request.prompt, request.slot, request.aspectRatio, {
          scale: request.upscale.scale,
          source,
        }),
        model: MOCK_UPSCALE_MODEL,
      };
    }
    return {
      predictionId: this.ticket(request.prompt, request.slot, request.aspectRatio),
      model: references.length > 0 ? MOCK_REFERENCE_MODEL : MOCK_MODEL,
    };
  }

  protected async render(ticket: MockTicket): Promise<Uint8Array> {
    if (!ticket.upscale) return renderMockImage(ticket.prompt, ticket.slot, ticket.aspectRatio);
    const original =
      (await this.source(ticket.upscale.source)) ??
      (await renderMockImage(ticket.prompt, ticket.slot, ticket.aspectRatio));
    const image = sharp(original, { limitInputPixels: MAX_INPUT_PIXELS });
    const { width = 1, height = 1 } = await image.metadata();
    const scale = ticket.upscale.scale;
    return image
      .resize(Math.round(width * scale), Math.round(height * scale), { kernel: "lanczos3" })
      .png()
      .toBuffer();
  }

  /** Where the upscale's image is: its link, or bytes kept here under a name that fits in the ticket. */
  private hold(reference: ReferenceImage): string {
    if ("url" in reference) return reference.url;
    const name = `held:${randomUUID()}`;
    this.held.set(name, reference.data);
    for (const oldest of this.held.keys()) {
      if (this.held.size <= HELD_IMAGES) break;
      this.held.delete(oldest);
    }
    return name;
  }

  /** The image to enlarge; undefined when it is gone (a restart, a link that no longer answers). */
  private async source(source: string): Promise<Buffer | undefined> {
    if (source.startsWith("held:")) return this.held.get(source);
    try {
      const answer = await fetch(source, { signal: AbortSignal.timeout(10_000) });
      return answer.ok ? Buffer.from(await answer.arrayBuffer()) : undefined;
    } catch {
      return undefined;
    }
  }
}
