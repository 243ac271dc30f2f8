// A generation as its member is shown it: its rows, and the listeners a run tells as its slots settle.
import type { GenerationRow } from "../../db/repositories/generations-repo.ts";
import type { ImageRow } from "../../db/repositories/images-repo.ts";

export interface GenerationView {
  generation: GenerationRow;
  images: ImageRow[];
  /**
   * Slots whose result could not be recorded because the database was away: still open, tried again until it
   * is back. Known only to the run that met the outage; a view read from the database has none.
   */
  waitingOnStorage?: number[];
}

/** Hears about every slot that settles, with the whole generation as it now stands. */
export type ProgressListener = (view: GenerationView, settled: ImageRow) => void;

/**
 * Hears, at most once per run, that every open slot has ended or has an image that passed its checks and is
 * being stored: the generation as it will stand once those stores are recorded (those slots shown succeeded;
 * the file store serves their bytes meanwhile), so the grid can go out while the last image is stored. What
 * `run` returns afterwards is what was recorded: a store that failed, or an image deleted meanwhile, shows there.
 * A promise it returns stands for that grid on its way: where a put is an upload (S3), the put of the image that
 * completed it waits for it (at most GRID_HOLD_MS), so the two uploads of the same bytes do not share the moment.
 */
export type LandedListener = (view: GenerationView) => undefined | Promise<unknown>;

/** Whether a slot has yet to end. */
export function isOpen(image: Pick<ImageRow, "status">): boolean {
  return image.status === "pending" || image.status === "running";
}

/** The images a generation was drawn from, in order: none for a new character. */
export function referencesOf(generation: Pick<GenerationRow, "params" | "parentImageId">): string[] {
  return generation.params.referenceImageIds ?? (generation.parentImageId ? [generation.parentImageId] : []);
}
