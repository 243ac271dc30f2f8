// What the moderation tests share: a member's grid and video made through the bot, and waits on the edits a
// deletion or a purge makes.
import type { StoredMessage } from "../../../src/sandbox/server.ts";
import { ALICE, buttons, type Harness, MOD, MODERATOR_PERMISSIONS } from "../../support/bot-harness.ts";

export const reply = (
  h: Harness,
  command: string,
  options: Record<string, string>,
  user = ALICE,
  permissions?: bigint,
) =>
  h.settledReply(h.sandbox.runCommand({ command, options, user, ...(permissions ? { permissions } : {}) }));

export async function aliceGrid(h: Harness) {
  const grid = await h.character({ description: "alice's knight", count: 4 });
  return { grid, view: await h.generationOf(grid) };
}

/** Presses the purge confirmation as the moderator and waits until it says how many were deleted. */
export async function confirmPurge(h: Harness, prompt: StoredMessage, deleted: number) {
  h.sandbox.pressButton({
    message: prompt,
    customId: buttons(prompt)[0]?.custom_id as string,
    user: MOD,
    permissions: MODERATOR_PERMISSIONS,
  });
  await h.sandbox.waitFor(
    () => h.sandbox.messages.get(prompt.id)?.content.includes(`Deleted ${deleted} references`) || undefined,
    5000,
    "purged",
  );
}

/** Waits until the grid message holds `images` attachments: the bot edited it after a deletion. */
export const gridWith = (h: Harness, messageId: string, images: number, timeoutMs = 5000, what = "") =>
  h.sandbox.waitFor(
    () => {
      const m = h.sandbox.messages.get(messageId);
      return m && m.attachments.length === images ? m : undefined;
    },
    timeoutMs,
    `the grid without the deleted image${what}`,
  );

/** Alice's grid, her pick of image 1 and a video made from it, with the interactions that made them. */
export async function aliceVideo(h: Harness) {
  const gridCommand = h.sandbox.runCommand({
    command: "character",
    options: { description: "alice's knight", count: 4 },
    user: ALICE,
  });
  const grid = await h.grid(gridCommand);
  const view = await h.generationOf(grid);
  await h.pick(grid, 1);
  const videoCommand = h.sandbox.runCommand({ command: "video", options: { prompt: "walks" }, user: ALICE });
  const message = await h.settledReply(videoCommand, (m) => m.attachments.length === 1);
  const video = (await h.ctx.video.forImage(view?.images[0]?.id as string))[0];
  if (!video?.fileName || !view) throw new Error("no video");
  return { grid, view, gridCommand, videoCommand, message, video };
}
