// What a gateway does with a request it acknowledged and recorded when the job queue is shared (REDIS_URL):
// enqueue its jobs for whichever worker takes them, and show the member its place in the fleet's queue.
import type { AppContext } from "../services/context.ts";
import type { GenerationView } from "../services/generation.ts";
import { jobIdOf, type SharedJobQueue } from "../services/job-queue.ts";
import { INTERACTION_TOKEN_TTL_MS } from "./reply-target.ts";

const isOpen = (i: { status: string }) => i.status === "pending" || i.status === "running";

/**
 * Enqueues a recorded generation's open slots and its delivery, then keeps its reply showing its place in
 * the fleet's queue while every slot still waits (the workers' edits take over once one starts).
 */
export async function enqueueGeneration(
  ctx: AppContext,
  jobs: SharedJobQueue,
  view: GenerationView,
  uploadLimit: number | undefined,
  show: (ahead: number) => Promise<void>,
): Promise<void> {
  const open = view.images.filter(isOpen);
  await jobs.enqueueGeneration(
    view.generation.id,
    open.map((i) => i.id),
    uploadLimit,
  );
  const ids = open.map((i) => jobIdOf({ kind: "image", id: i.id }));
  await showQueuePlace(ctx, jobs, ids, show);
}

/** Enqueues a recorded video, and shows its place in the fleet's queue while it waits. */
export async function enqueueVideo(
  ctx: AppContext,
  jobs: SharedJobQueue,
  videoId: string,
  uploadLimit: number | undefined,
  show: (ahead: number) => Promise<void>,
): Promise<void> {
  await jobs.enqueueVideo(videoId, uploadLimit);
  await showQueuePlace(ctx, jobs, [jobIdOf({ kind: "video", id: videoId })], show);
}

/**
 * While any of `jobIds` waits, shows how many jobs wait ahead of it, each time that number changes, checked
 * every QUEUE_EDIT_INTERVAL_MS; returns once none of them waits. A failed check ends it: the place is a
 * courtesy, the job runs either way.
 */
async function showQueuePlace(
  ctx: AppContext,
  jobs: SharedJobQueue,
  jobIds: string[],
  show: (ahead: number) => Promise<void>,
): Promise<void> {
  let shown: number | undefined;
  const deadline = Date.now() + INTERACTION_TOKEN_TTL_MS;
  try {
    for (;;) {
      const ahead = await jobs.waitingAhead(jobIds);
      if (ahead === undefined || Date.now() > deadline) return;
      if (ahead !== shown && ahead > 0) {
        shown = ahead;
        await show(ahead);
      }
      await new Promise((resolve) => setTimeout(resolve, ctx.config.replies.queueIntervalMs));
    }
  } catch (err) {
    ctx.logger.warn({ err }, "could not show a queued job's place");
  }
}
