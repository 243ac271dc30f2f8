// What a gateway does with a request it acknowledged and recorded when the job queue is shared (REDIS_URL):
// enqueue its jobs for whichever worker takes them, and show the member its place in the fleet's queue.

import type { AppContext } from "../../features/context.ts";
import { type GenerationView, isOpen } from "../../features/generation/generation-view.ts";
import { StorageUnavailableError } from "../../kit/errors.ts";
import { jobIdOf, type SharedJobQueue } from "../../queue/job-queue.ts";
import { INTERACTION_TOKEN_TTL_MS } from "../replies/reply-target.ts";

/**
 * Shows a waiting request's place and how long it can expect to wait before it starts; `createdAt` is its
 * interaction's, whose token the edits use.
 */
export interface PlaceDisplay {
  createdAt: number;
  show(ahead: number, waitMs: number): Promise<void>;
}

/** Place edits stop this long before the interaction's token expires: they never become channel messages. */
const PLACE_MARGIN_MS = 60_000;

/**
 * Enqueues a recorded generation's open slots and its delivery, then keeps its reply showing its place in
 * the fleet's queue while every slot still waits (the workers' edits take over once one starts).
 */
export async function enqueueGeneration(
  ctx: AppContext,
  jobs: SharedJobQueue,
  view: GenerationView,
  uploadLimit: number | undefined,
  show: PlaceDisplay,
): Promise<void> {
  const open = view.images.filter(isOpen);
  await enqueueOrGiveUp(
    () =>
      jobs.enqueueGeneration(
        view.generation.id,
        open.map((i) => i.id),
        uploadLimit,
      ),
    (code, message) => ctx.generation.giveUp(view.generation.id, code, message),
  );
  const ids = open.map((i) => jobIdOf({ kind: "image", id: i.id }));
  // A place read a moment ago may be shown after the slots ran and a worker sent the grid (slots that failed
  // at once): each one answered is marked, as a slot's progress edit is, so the delivery job sends the grid
  // again. Not looked up before: the place would reach the member a round trip later, with more started.
  const id = view.generation.id;
  await showQueuePlace(ctx, jobs, ids, {
    createdAt: show.createdAt,
    show: async (ahead, waitMs) => {
      try {
        await show.show(ahead, waitMs);
      } finally {
        await jobs.earlyGrids.progressEdited(id);
      }
    },
  });
}

/** Enqueues a recorded video, and shows its place in the fleet's queue while it waits. */
export async function enqueueVideo(
  ctx: AppContext,
  jobs: SharedJobQueue,
  videoId: string,
  uploadLimit: number | undefined,
  show: PlaceDisplay,
): Promise<void> {
  await enqueueOrGiveUp(
    () => jobs.enqueueVideo(videoId, uploadLimit),
    (code, message) => ctx.video.giveUp(videoId, code, message),
  );
  await showQueuePlace(ctx, jobs, [jobIdOf({ kind: "video", id: videoId })], show);
}

/** How long an enqueue may take: Redis away makes BullMQ wait for it indefinitely. */
const ENQUEUE_TIMEOUT_MS = 10_000;

/**
 * Enqueues, or, when the queue cannot take the jobs, ends the recorded request as storage_unavailable with its
 * refund (nothing would ever run it, and it would hold the member's running slot) and throws the error the
 * router answers privately with "storage unavailable".
 */
async function enqueueOrGiveUp(
  enqueue: () => Promise<void>,
  giveUp: (code: "storage_unavailable", message: string) => Promise<void>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      enqueue(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer from Redis")), ENQUEUE_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    const why = `the job queue could not take the request (${(err as Error).message})`;
    await giveUp("storage_unavailable", why);
    throw new StorageUnavailableError("REDIS_URL", why, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * While every one of `jobIds` waits, shows how many jobs wait ahead of them (and the wait that means at the
 * pace the queue drained over the last minute), each time that number changes,
 * checked every QUEUE_EDIT_INTERVAL_MS; returns once one has started (the worker's edits take over from
 * there), or when the interaction's token is about to expire. A failed check ends it: the place is a
 * courtesy, the jobs run either way.
 */
async function showQueuePlace(
  ctx: AppContext,
  jobs: SharedJobQueue,
  jobIds: string[],
  display: PlaceDisplay,
): Promise<void> {
  let shown: number | undefined;
  const deadline = display.createdAt + INTERACTION_TOKEN_TTL_MS - PLACE_MARGIN_MS;
  try {
    for (;;) {
      const place = await jobs.places.place(jobIds);
      if (place === undefined || Date.now() > deadline) return;
      if (place.ahead !== shown && place.ahead > 0) {
        shown = place.ahead;
        await display.show(place.ahead, place.expectedWaitMs);
      }
      await new Promise((resolve) => setTimeout(resolve, ctx.config.replies.queueIntervalMs));
    }
  } catch (err) {
    ctx.logger.warn({ err }, "could not show a queued job's place");
  }
}
