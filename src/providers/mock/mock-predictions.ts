// What the offline, free mock providers share: a prediction that lives in its id (so polling needs no memory
// and survives a restart), simulated latency and failures, and `[mock:…]` directives in the prompt.

import type { Clock } from "../../kit/clock.ts";
import { FAILURE_CODES, type FailureCode, PredictionFailure } from "../../kit/failures.ts";
import type { PredictionState, ReferenceImage, StartedPrediction } from "../types.ts";
import { ASPECT_RATIOS, type AspectRatio } from "../types.ts";

export interface MockProviderOptions {
  /** Simulated time per prediction: slot N takes about (0.8 + 0.1 N) times this, ±5 %. */
  latencyMs: number;
  /** Chance (0–1) that a prediction fails with `provider_error`. */
  failureRate: number;
  clock: Clock;
  random?: () => number;
}

/**
 * Everything about a mock prediction is in its id, so polling it needs no memory and works after a restart.
 * A prompt can ask for failures: `[mock:safety_blocked:2]` fails slot 2, `[mock:provider_error:1,3]` slots 1
 * and 3, `[mock:timeout]` every slot (the prediction never finishes).
 */
export interface MockTicket {
  prompt: string;
  slot: number;
  aspectRatio: AspectRatio;
  readyAt: number;
  failure: FailureCode | null;
  /** An upscale: the factor, and where the image to enlarge is (a link, or `held:<n>` in the provider). */
  upscale?: { scale: number; source: string };
}

const DIRECTIVE = /\[mock:([a-z_]+)(?::([\d,]+))?\]/g;

export function requestedFailure(prompt: string, slot: number): FailureCode | null {
  for (const [, code, slots] of prompt.matchAll(DIRECTIVE)) {
    const applies = !slots || slots.split(",").map(Number).includes(slot);
    if (applies && (FAILURE_CODES as readonly string[]).includes(code ?? "")) return code as FailureCode;
  }
  return null;
}

const encode = (t: MockTicket) => `mock-${Buffer.from(JSON.stringify(t)).toString("base64url")}`;

function decode(predictionId: string): MockTicket | undefined {
  if (!predictionId.startsWith("mock-")) return undefined;
  try {
    const t = JSON.parse(Buffer.from(predictionId.slice(5), "base64url").toString("utf8")) as MockTicket;
    return typeof t.prompt === "string" && ASPECT_RATIOS.includes(t.aspectRatio) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** A reference as a model would need it: a web link, or image bytes; anything else fails as a model would. */
export function assertReference(image: ReferenceImage): void {
  if (
    "url" in image ? !/^https?:\/\//.test(image.url) : !image.mime.startsWith("image/") || !image.data.length
  )
    throw new PredictionFailure("provider_error", "mock: no reference image");
}

/** Simulated predictions: polling, cancelling and failing work the same for mock images and videos. */
export abstract class MockPredictions {
  readonly name = "mock";
  private readonly random: () => number;
  private readonly cancelled = new Set<string>();

  constructor(private readonly options: MockProviderOptions) {
    this.random = options.random ?? Math.random;
  }

  protected ticket(
    prompt: string,
    slot: number,
    aspectRatio: AspectRatio,
    upscale?: MockTicket["upscale"],
  ): string {
    // Slots finish one after another (slot N after about (0.8 + 0.1 N) × the latency, ±5 %), so a grid is seen
    // filling in, as with a real model.
    const jitter = 0.8 + 0.1 * slot + (this.random() - 0.5) * 0.1;
    const injected = this.random() < this.options.failureRate ? "provider_error" : null;
    return encode({
      prompt,
      slot,
      aspectRatio,
      readyAt: this.options.clock.now() + Math.round(this.options.latencyMs * jitter),
      failure: requestedFailure(prompt, slot) ?? injected,
      ...(upscale ? { upscale } : {}),
    });
  }

  /**
   * A mock prediction lives only in its id, so one whose id was never recorded cannot be found, and costs
   * nothing: the job draws it again. A mock create answers at once, so only a crash between recording that it
   * was sent and recording its id leaves a job in that state.
   */
  async recover(): Promise<StartedPrediction | undefined> {
    return undefined;
  }

  async get(predictionId: string): Promise<PredictionState> {
    const ticket = decode(predictionId);
    if (!ticket) {
      return {
        status: "failed",
        failure: new PredictionFailure("provider_error", "unknown mock prediction"),
      };
    }
    if (this.cancelled.has(predictionId)) {
      return {
        status: "failed",
        failure: new PredictionFailure("provider_error", "the prediction was cancelled"),
      };
    }
    if (this.options.clock.now() < ticket.readyAt || ticket.failure === "timeout")
      return { status: "running" };
    if (ticket.failure === "safety_blocked") {
      return {
        status: "failed",
        failure: new PredictionFailure("safety_blocked", "mock: the prompt was blocked by the safety filter"),
      };
    }
    // bad_output is not decided here: the output is served and the file store rejects it, as with Replicate.
    if (ticket.failure && ticket.failure !== "bad_output") {
      return {
        status: "failed",
        failure: new PredictionFailure(ticket.failure, `mock: injected ${ticket.failure}`),
      };
    }
    return { status: "succeeded", output: `mock://${predictionId}` };
  }

  async cancel(predictionId: string): Promise<void> {
    this.cancelled.add(predictionId);
  }

  async fetchOutput(output: string): Promise<Uint8Array> {
    const ticket = output.startsWith("mock://") ? decode(output.slice(7)) : undefined;
    if (!ticket) throw new PredictionFailure("bad_output", "unknown mock output");
    if (ticket.failure === "bad_output") return Buffer.from("this is not an image or a video");
    return this.render(ticket);
  }

  protected abstract render(ticket: MockTicket): Promise<Uint8Array>;
}
