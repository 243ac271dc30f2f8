// /video's flow: acknowledge, choose the reference, admit and record the video, then make it (or hand it to the
// fleet's queue) and keep its message up to date until the video is posted.
import type { ChatInputCommandInteraction } from "discord.js";
import type { VideoRow } from "../../db/repositories/videos-repo.ts";
import type { AppContext } from "../../features/context.ts";
import type { Viewer } from "../../features/references/reference-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import type { Logger } from "../../kit/logger.ts";
import { refusePrivately } from "../kit/acknowledge.ts";
import { imageLookupError } from "../kit/guards.ts";
import { DurableReply, interactionRef } from "../replies/reply-target.ts";
import { VideoReply } from "../replies/video-reply.ts";
import { refusalError } from "./moderation-log.ts";
import { enqueueVideo } from "./queue-place.ts";

const NO_PICK =
  "You have not picked a reference in this server yet. Run /character, press the number under the image you like, " +
  "then run /video again; or name one with the reference option (/reference list shows yours).";

/** What /video asks for: what happens, and the reference typed (else the member's current pick). */
export interface VideoRequest {
  prompt: string;
  rawId: string | undefined;
  viewer: Viewer;
}

/**
 * Acknowledged before anything is looked up (the database may be across a network, and Discord allows 3 s); a
 * refusal is still shown only to the member. Nothing is recorded before the defer, so a refused acknowledgement
 * leaves nothing to give up.
 */
export async function videoFromReference(
  interaction: ChatInputCommandInteraction,
  ctx: AppContext,
  { prompt, rawId, viewer }: VideoRequest,
  log: Logger,
): Promise<void> {
  await interaction.deferReply();
  const choice = await ctx.references.choose(rawId, viewer);
  if (!choice.ok) {
    const refusal =
      choice.reason === "no_pick"
        ? new UserFacingError(NO_PICK)
        : imageLookupError(choice.reason, rawId ?? "");
    await refusePrivately(interaction, refusal, log);
    return;
  }
  const created = await ctx.video.create(
    {
      viewer,
      channelId: interaction.channelId,
      prompt,
      image: choice.image,
      interaction: interactionRef(interaction),
    },
    ctx.admission.admitter({
      guildId: viewer.guildId,
      userId: viewer.userId,
      prompt,
      kind: "video",
      units: 1,
    }),
  );
  if (!created.ok) {
    await refusePrivately(
      interaction,
      await refusalError(ctx, interaction, created, "/video prompt", log),
      log,
    );
    return;
  }
  const job = created.video;
  const origin = { ...job, createdAt: interaction.createdTimestamp, acknowledged: true };
  const reply = new VideoReply(
    new DurableReply(interaction.client.rest, origin, ctx.clock, log),
    ctx,
    interaction.attachmentSizeLimit,
    log,
  );
  await makeAndDeliverVideo(ctx, job, reply, interaction.attachmentSizeLimit);
}

/**
 * Makes a recorded video and posts it: in this process, or (with the shared queue) on whichever worker takes
 * its job, this process showing only its place in the fleet's queue.
 */
export async function makeAndDeliverVideo(
  ctx: AppContext,
  video: VideoRow,
  reply: VideoReply,
  uploadLimit: number | undefined,
): Promise<void> {
  if (ctx.jobs) {
    await enqueueVideo(ctx, ctx.jobs, video.id, uploadLimit, {
      createdAt: video.createdAt,
      show: (ahead) => reply.showQueued(video, ahead),
    });
    return;
  }
  const onPoll = reply.start(video);
  await reply.finish(await ctx.video.run(video.id, onPoll, reply.queue(video)));
}
