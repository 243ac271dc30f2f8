// The offline, free video provider for sandbox guilds and tests: a real test-pattern MP4 after a simulated wait.

import { readFileSync } from "node:fs";
import type { StartedPrediction, VideoProvider, VideoRequest } from "../types.ts";
import { assertReference, MockPredictions } from "./mock-predictions.ts";

export const MOCK_VIDEO_MODEL = "mock/test-pattern-video";
const MOCK_VIDEO = new URL("./assets/mock-video.mp4", import.meta.url);

/**
 * The mock video mode: after the latency, a real 2-second 320×320 H.264 MP4 (a test pattern with a running
 * clock) that passes the same type check as a real video and plays in Discord and browsers. The start frame,
 * end frame and reference images are checked and ignored, as are the length and aspect ratio.
 * `[mock:…]` directives in the prompt apply as for images (slot 1).
 */
export class MockVideoProvider extends MockPredictions implements VideoProvider {
  async start(request: VideoRequest): Promise<StartedPrediction> {
    // Every image the real model would receive must be one it could read: the sandbox checks what it sends.
    for (const image of [request.image, request.endImage, ...(request.referenceImages ?? [])]) {
      if (image) assertReference(image);
    }
    return { predictionId: this.ticket(request.prompt, 1, "1:1"), model: MOCK_VIDEO_MODEL };
  }

  protected async render(): Promise<Uint8Array> {
    return readFileSync(MOCK_VIDEO);
  }
}
