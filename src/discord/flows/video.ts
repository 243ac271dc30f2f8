// /video's flow: acknowledge, choose the reference, admit and record the video, then make it (or hand it to the
// fleet's queue) and keep its message up to date until the video is posted.
import type { ChatInputCommandInteraction } from "discord.js";
import type { ImageWithOwner } from "../../db/repositories/images-repo.ts";
import type { VideoRow } from "../../db/repositories/videos-repo.ts";
import type { AppContext } from "../../features/context.ts";
import type { Viewer } from "../../features/references/reference-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { refusePrivately } from "../kit/acknowledge.ts";
import { imageLookupError } from "../kit/guards.ts";
import { DurableReply, interactionRef } from "../replies/reply-target.ts";
import { VideoReply } from "../replies/video-reply.ts";
import { refusalError } from "./moderation-log.ts";
import { enqueueVideo } from "./queue-place.ts";

/** What /video asks for: what happens, the references typed (else the member's current pick), and the model's options. */
export interface VideoRequest {
  prompt: string;
  rawId: string | undefined;
  /** The last frame's reference id or library name. */
  rawEndId?: string | undefined;
  /** More references, sent with the start one as the model's reference images. */
  rawReferenceIds?: readonly string[] | undefined;
  model?: string | undefined;
  durationSeconds?: number | undefined;
  aspectRatio?: string | undefined;
  viewer: Viewer;
}

/**
 * What the model cannot do is refused before anything else, privately, from the model table alone. The rest is
 * acknowledged before anything is looked up (the database may be across a network, and Discord allows 3 s); a
 * refusal is still shown only to the member. Nothing is recorded before the defer, so a refused acknowledgement
 * leaves nothing to give up.
 */
export async function videoFromReference(
  interaction: ChatInputCommandInteraction,
  ctx: AppContext,
  request: VideoRequest,
  log: Logger,
): Promise<void> {
  const { prompt, viewer } = request;
  const rawReferenceIds = request.rawReferenceIds ?? [];
  const planned = ctx.video.plan(request.model, {
    endFrame: request.rawEndId !== undefined,
    extraReferences: rawReferenceIds.length,
    durationSeconds: request.durationSeconds,
    aspectRatio: request.aspectRatio,
  });
  if (!planned.ok) throw new UserFacingError(t("video:refusedNothingCharged", { refusal: planned.message }));
  await interaction.deferReply();
  const images = await chooseImages(ctx, request, rawReferenceIds);
  if (!images.ok) {
    await refusePrivately(interaction, images.refusal, log);
    return;
  }
  const created = await ctx.video.create(
    {
      viewer,
      channelId: interaction.channelId,
      prompt,
      image: images.start,
      video: { plan: planned.plan, endImage: images.end, referenceImages: images.references },
      interaction: interactionRef(interaction),
    },
    ctx.admission.admitter({
      guildId: viewer.guildId,
      userId: viewer.userId,
      prompt,
      kind: "video",
      units: 1,
      seconds: planned.plan.options.durationSeconds,
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

type ChosenImages =
  | { ok: true; start: ImageWithOwner; end: ImageWithOwner | undefined; references: ImageWithOwner[] }
  | { ok: false; refusal: UserFacingError };

/** The start reference (typed, else the current pick), the end frame and more references, each as allowed. */
async function chooseImages(
  ctx: AppContext,
  { rawId, rawEndId, viewer }: VideoRequest,
  rawReferenceIds: readonly string[],
): Promise<ChosenImages> {
  const start = await ctx.references.choose(rawId, viewer);
  if (!start.ok) {
    const refusal =
      start.reason === "no_pick"
        ? new UserFacingError(t("video:noPick"))
        : imageLookupError(start.reason, rawId ?? "");
    return { ok: false, refusal };
  }
  const named: ImageWithOwner[] = [];
  for (const raw of [...(rawEndId ? [rawEndId] : []), ...rawReferenceIds]) {
    const found = await ctx.references.choose(raw, viewer);
    if (!found.ok)
      return {
        ok: false,
        refusal: imageLookupError(found.reason === "no_pick" ? "not_found" : found.reason, raw),
      };
    named.push(found.image);
  }
  const end = rawEndId ? named.shift() : undefined;
  return { ok: true, start: start.image, end, references: named };
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
      show: (ahead, waitMs) => reply.showQueued(video, ahead, waitMs),
    });
    return;
  }
  const onPoll = reply.start(video);
  await reply.finish(await ctx.video.run(video.id, onPoll, reply.queue(video)));
}
