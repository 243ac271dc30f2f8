// Moments on a request's path (a defer sent, a prediction seen finished, an image stored, a grid sent),
// published on a diagnostics channel for whoever subscribes: the benchmark's probe turns them into the
// breakdown of where the time goes. With no subscriber a mark costs one property read.
import { channel } from "node:diagnostics_channel";

export const TRACE_CHANNEL = "crbot:trace";

/** Where on the path a moment is. */
export type TraceStage =
  // An interaction, from the gateway to its acknowledgement.
  | "interaction.received"
  | "defer.sent"
  | "defer.answered"
  // A generation, as its reply sees it.
  | "generation.accepted"
  | "generation.settled"
  /** The grid goes out while the last images are stored (GenerationReply.onLanded). */
  | "grid.early"
  | "grid.progress-settled"
  | "grid.rendered"
  | "grid.sent"
  // One image slot.
  | "slot.noticed"
  | "slot.downloaded"
  | "slot.inspected"
  | "slot.object-stored"
  | "slot.recorded";

export interface TraceMark {
  stage: TraceStage;
  /** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
  at: number;
  interactionId?: string;
  generationId?: string;
  imageId?: string;
  predictionId?: string;
}

const marks = channel(TRACE_CHANNEL);

/** Epoch milliseconds, finer than Date.now(). */
export const traceNow = (): number => performance.timeOrigin + performance.now();

export function trace(stage: TraceStage, ids: Omit<TraceMark, "stage" | "at">): void {
  if (!marks.hasSubscribers) return;
  marks.publish({ stage, at: traceNow(), ...ids } satisfies TraceMark);
}
