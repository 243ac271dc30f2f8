// /character's flow (and Regenerate's, Vary's and Remix's): acknowledge, admit and record a generation, run it (or hand it
// to the fleet's queue) and keep its message up to date until the grid is shown.
import type { ButtonInteraction, ChatInputCommandInteraction, ModalSubmitInteraction } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { type GenerationRequest, requestedReferences } from "../../features/generation/generation-service.ts";
import { type GenerationView, referencesOf } from "../../features/generation/generation-view.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { trace } from "../../kit/trace.ts";
import { refusePrivately } from "../kit/acknowledge.ts";
import { deliveryOf, settingsGuildOf } from "../kit/delivery.ts";
import { perImageBudget } from "../replies/attachments.ts";
import { GenerationReply } from "../replies/generation-reply.ts";
import { DurableReply, interactionRef } from "../replies/reply-target.ts";
import { refusalError } from "./moderation-log.ts";
import { enqueueGeneration } from "./queue-place.ts";

export type GenerationInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;
type GenerationParams = Pick<
  GenerationRequest,
  "prompt" | "count" | "aspectRatio" | "parentImageId" | "referenceImageIds" | "studio"
>;
type Created = Awaited<ReturnType<AppContext["generation"]["create"]>>;
type Accepted = Extract<Created, { ok: true }>;

/**
 * Defers (unless the caller did), admits and records a new generation for an interaction, runs it and delivers
 * it to the reply. A refusal is still shown only to the member: the deferred reply is deleted and the refusal
 * sent ephemerally. Undefined when refused.
 */
export async function generateAndReply(
  interaction: GenerationInteraction,
  ctx: AppContext,
  params: GenerationParams,
  log: Logger,
): Promise<GenerationView | undefined> {
  const tooMany = tooManyReferences(ctx, requestedReferences(params).length);
  if (tooMany) {
    // Refused before anything is recorded: nothing is charged.
    if (!interaction.deferred) await interaction.deferReply();
    await refusePrivately(interaction, tooMany, log);
    return undefined;
  }
  const created = await acknowledgeAndAdmit(interaction, ctx, params, log);
  if (!created.ok) {
    await refusePrivately(
      interaction,
      await refusalError(ctx, interaction, created, "/character description", log),
      log,
    );
    return undefined;
  }
  trace("generation.accepted", { interactionId: interaction.id, generationId: created.generationId });
  return await runAndReply(interaction, ctx, created, params.count, log);
}

/**
 * The defer is sent first (Discord's 3 s; the admission reads the database, which may be across a network),
 * and, unless other defers are on their way too, the admission runs while it travels: nothing runs before both
 * are done. When Discord refuses the defer, the generation just recorded is given up (every slot ended, the
 * whole reservation refunded, nothing to deliver): nothing runs and nothing is charged.
 */
async function acknowledgeAndAdmit(
  interaction: GenerationInteraction,
  ctx: AppContext,
  params: GenerationParams,
  log: Logger,
): Promise<Created> {
  // A caller that had to look something up first (the Regenerate button) deferred already.
  const deferring = interaction.deferred ? undefined : defer(interaction, ctx.acknowledging);
  // In a burst, acknowledgements go first: the admissions' database work (on the event loop itself with
  // SQLite) would hold back other members' defers, which Discord wants within 3 s.
  // A defer refused meanwhile ends it here, before anything is recorded.
  if (deferring && ctx.acknowledging.count > 1) await deferring;
  // A grid of this member's that is on screen while its last image is stored still counts as running: the
  // admission waits the moment until it is recorded.
  const settling = ctx.generation.settling(interaction.user.id);
  if (settling) await settling;
  // Where the bot is not installed, no server's settings apply: the bot-wide ones do (guild null).
  const guildId = settingsGuildOf(interaction);
  const creating = ctx.generation.create(
    {
      ...params,
      guildId,
      channelId: interaction.channelId,
      userId: interaction.user.id,
      interaction: interactionRef(interaction),
    },
    ctx.admission.admitter({
      guildId,
      userId: interaction.user.id,
      prompt: params.prompt,
      kind: "image",
      units: params.count,
    }),
  );
  // Both settle before either outcome is acted on: an error of the admission is answered on the deferred reply.
  const [acknowledged, admitted] = await Promise.allSettled([deferring, creating]);
  if (acknowledged.status === "rejected") {
    await abandonUnacknowledged(ctx, admitted, log);
    throw acknowledged.reason;
  }
  if (admitted.status === "rejected") throw admitted.reason;
  return admitted.value;
}

/** Gives up the generation recorded for a request whose acknowledgement Discord refused. */
async function abandonUnacknowledged(
  ctx: AppContext,
  admitted: PromiseSettledResult<Created>,
  log: Logger,
): Promise<void> {
  if (admitted.status === "fulfilled" && admitted.value.ok) {
    const { generationId } = admitted.value;
    try {
      await ctx.generation.giveUp(generationId, "abandoned", "Discord refused the acknowledgement; not run");
      await ctx.generation.markDelivered(generationId);
    } catch (err) {
      // The database went away too: the generation stays open, and the next start runs and posts it.
      log.warn({ err, generationId }, "could not give up a generation whose acknowledgement was refused");
    }
  }
  if (admitted.status === "rejected") {
    log.warn({ err: admitted.reason }, "the admission failed too, while the acknowledgement was refused");
  }
}

/** Runs an admitted generation here (or enqueues it for the fleet) and keeps its reply up to date. */
async function runAndReply(
  interaction: GenerationInteraction,
  ctx: AppContext,
  created: Accepted,
  count: number,
  log: Logger,
): Promise<GenerationView> {
  const origin = {
    id: created.generationId,
    applicationId: interaction.applicationId,
    interactionToken: interaction.token,
    createdAt: interaction.createdTimestamp,
    channelId: interaction.channelId,
    userId: interaction.user.id,
    acknowledged: true,
    delivery: deliveryOf(interaction),
  };
  const target = new DurableReply(interaction.client.rest, origin, ctx.clock, log);
  const budget = perImageBudget(interaction.attachmentSizeLimit, count);
  const reply = new GenerationReply(created.generationId, target, ctx, budget, log);
  if (ctx.jobs) {
    // Fleet mode: any worker runs the slots and posts the grid; this process only shows the queue place.
    const recorded: GenerationView = {
      generation: created.recorded.generation,
      images: created.recorded.images,
    };
    await enqueueGeneration(ctx, ctx.jobs, recorded, interaction.attachmentSizeLimit, {
      createdAt: interaction.createdTimestamp,
      show: (ahead, waitMs) => reply.showQueued(recorded, ahead, waitMs),
    });
    return recorded;
  }
  const view = await ctx.generation.run(
    created.generationId,
    reply.onProgress,
    reply.onQueue,
    reply.onLanded,
    created.recorded,
  );
  trace("generation.settled", { generationId: created.generationId });
  const rejected = rejectedReference(view);
  if (rejected) {
    // The reference model would not take the image: a bad input, told only to the member (and refunded).
    await reply.withdraw();
    await refusePrivately(interaction, rejected, log);
    await ctx.generation.markDelivered(view.generation.id);
    return view;
  }
  await reply.finish(view);
  return view;
}

/** Sends the defer, counted among this context's defers on their way while it travels. */
async function defer(interaction: GenerationInteraction, acknowledging: { count: number }): Promise<void> {
  acknowledging.count++;
  try {
    trace("defer.sent", { interactionId: interaction.id });
    await interaction.deferReply();
    trace("defer.answered", { interactionId: interaction.id });
  } finally {
    acknowledging.count--;
  }
}

/** The refusal of a request with more references than the reference model takes; undefined when it fits. */
function tooManyReferences(ctx: AppContext, count: number): UserFacingError | undefined {
  const limit = count > 0 ? ctx.generation.referenceLimit() : undefined;
  if (!limit || count <= limit.maxInputs) return undefined;
  return new UserFacingError(
    t("generation:character.tooManyReferences", { model: limit.model, max: limit.maxInputs, count }),
  );
}

/** For a generation drawn from references whose every slot the model refused: the refusal to show instead. */
function rejectedReference(view: GenerationView): UserFacingError | undefined {
  const { generation, images } = view;
  const references = referencesOf(generation);
  if (references.length === 0 || !images.every((i) => i.errorCode === "input_rejected")) return undefined;
  const named = references.map((id) => `\`${id}\``).join(", ");
  return new UserFacingError(
    t("generation:character.referenceRejected", {
      model: generation.model,
      count: references.length,
      named,
    }),
  );
}
