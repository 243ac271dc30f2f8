// The offline, free video provider for sandbox guilds and tests: a real test-pattern MP4 after a simulated wait.

import { readFileSync } from "node:fs";
import type { StartedPrediction, VideoProvider, VideoRequest } from "../types.ts";
import { assertReference, MockPredictions } from "./mock-predictions.ts";

export const MOCK_VIDEO_MODEL = "mock/test-pattern-video";
const MOCK_VIDEO = new URL("./assets/mock-video.mp4", import.meta.url);

/**
 * The mock video mode: after the latency, a real 2-second 320×320 H.264 MP4 (a test pattern with a running
 * clock) that passes the same type check as a real video and plays in Discord and browsers. The reference image
 * is accepted and ignored. `[mock:…]` directives in the prompt apply as for images (slot 1).
 */
export class MockVideoProvider extends MockPredictions implements VideoProvider {
  async start(request: VideoRequest): Promise<StartedPrediction> {
    assertReference(request.image);
    return { predictionId: this.ticket(request.prompt, 1, "1:1"), model: MOCK_VIDEO_MODEL };
  }

  protected async render(): Promise<Uint8Array> {
    return readFileSync(MOCK_VIDEO);
  }
}
