// The offline, free image provider for sandbox guilds and tests: real PNGs, simulated latency and failures.

import type { ImageProvider, ImageRequest, StartedPrediction } from "../types.ts";
import { renderMockImage } from "./art.ts";
import { assertReference, MockPredictions, type MockTicket } from "./mock-predictions.ts";

export const MOCK_MODEL = "mock/character-sketch";
/** What the mock reports for images drawn from a reference (variations, /character reference:). */
export const MOCK_REFERENCE_MODEL = "mock/character-sketch-from-reference";

export class MockImageProvider extends MockPredictions implements ImageProvider {
  async start(request: ImageRequest): Promise<StartedPrediction> {
    const references = request.references ?? [];
    for (const reference of references) assertReference(reference);
    return {
      predictionId: this.ticket(request.prompt, request.slot, request.aspectRatio),
      model: references.length > 0 ? MOCK_REFERENCE_MODEL : MOCK_MODEL,
    };
  }

  protected render(ticket: MockTicket): Promise<Uint8Array> {
    return renderMockImage(ticket.prompt, ticket.slot, ticket.aspectRatio);
  }
}
