// After references are deleted: every message of the bot's that showed them, or a video made from them, is
// edited so the removed image or video is no longer there. Each grid is edited once, however many of its
// images went.
import type { REST } from "discord.js";
import type { AppContext } from "../app.ts";
import type { Logger } from "../logger.ts";
import type { Removal } from "../services/generation.ts";
import { refreshGrid } from "./generation-reply.ts";
import { showVideoRemoved } from "./video-reply.ts";

export async function showRemovals(
  ctx: AppContext,
  rest: REST,
  removals: readonly Removal[],
  log: Logger,
): Promise<void> {
  const generations = new Set(removals.map((r) => r.image.generationId));
  for (const generationId of generations) await refreshGrid(ctx, rest, generationId, log);
  for (const video of removals.flatMap((r) => r.videos)) await showVideoRemoved(ctx, rest, video, log);
}
