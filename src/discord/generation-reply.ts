// Runs a generation for an interaction and keeps its reply up to date: progress as images land (about one
// edit a second, images uploaded once and kept by attachment id after), then the grid with its buttons.
import type { ButtonInteraction, ChatInputCommandInteraction } from "discord.js";
import type { AppContext } from "../app.ts";
import type { Logger } from "../logger.ts";
import type { GenerationRequest, GenerationView } from "../services/generation.ts";
import { fitImage, perImageBudget, type Upload } from "./attachments.ts";
import { NO_PINGS, type RenderedMessage, renderGrid, renderInterrupted, renderProgress } from "./render.ts";

export const EDIT_INTERVAL_MS = 1000;

type DeferredInteraction = ChatInputCommandInteraction | ButtonInteraction;

/** Coalesces progress edits: at most one every `intervalMs`, always with the latest state. */
class ThrottledEdits<T> {
  private latest: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private lastAt = 0;

  constructor(
    private readonly send: (value: T) => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  schedule(value: T): void {
    this.latest = value;
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const next = this.latest;
        this.latest = undefined;
        if (next === undefined) return;
        this.chain = this.chain.then(() => {
          this.lastAt = Date.now();
          return this.send(next).catch(this.onError);
        });
      },
      Math.max(0, this.lastAt + this.intervalMs - Date.now()),
    );
  }

  /** Drops any pending edit (the final one supersedes it) and waits for one under way. */
  async settle(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.latest = undefined;
    await this.chain;
  }
}

export async function generateAndReply(
  interaction: DeferredInteraction,
  ctx: AppContext,
  params: Pick<GenerationRequest, "prompt" | "count" | "aspectRatio">,
  log: Logger,
): Promise<GenerationView> {
  const request = {
    ...params,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    userId: interaction.user.id,
  };
  const budget = perImageBudget(interaction.attachmentSizeLimit, request.count);
  const uploads = new Map<number, Upload>();
  const posted = new Map<number, string>(); // slot → attachment id on the reply
  let generationId: string | undefined;

  const prepare = async (view: GenerationView) => {
    for (const image of view.images) {
      if (image.status !== "succeeded" || uploads.has(image.slot) || !image.fileName) continue;
      const original = await ctx.generation.readImageFile(image);
      const ext = image.fileName.split(".").pop() ?? "png";
      uploads.set(image.slot, await fitImage(original, `character-${image.slot}`, ext, budget));
    }
  };

  /** Edits the reply; uploads images not posted yet, keeps the others by id, in `order`. */
  const edit = async (message: RenderedMessage, slots: number[]) => {
    const fresh = slots.filter((s) => !posted.has(s));
    const kept = slots.filter((s) => posted.has(s)).map((s) => ({ id: posted.get(s) as string }));
    const reply = await interaction.editReply({
      content: message.content,
      components: message.components,
      allowedMentions: NO_PINGS,
      files: fresh.map((s) => {
        const upload = uploads.get(s) as Upload;
        return { attachment: upload.data, name: upload.name };
      }),
      attachments: kept as never[],
    });
    for (const slot of fresh) {
      const name = uploads.get(slot)?.name;
      const attachment = reply.attachments.find((a) => a.name === name);
      if (attachment) posted.set(slot, attachment.id);
    }
    if (generationId && reply.id) ctx.generation.setMessageId(generationId, reply.id);
  };

  const landed = (view: GenerationView) =>
    view.images.filter((i) => i.status === "succeeded" && uploads.has(i.slot)).map((i) => i.slot);

  const progress = new ThrottledEdits<GenerationView>(
    async (view) => {
      await prepare(view);
      // Already posted first, in the order they were posted; new ones after.
      const slots = [...posted.keys(), ...landed(view).filter((s) => !posted.has(s))];
      await edit(renderProgress(view), slots);
    },
    EDIT_INTERVAL_MS,
    (err) => log.warn({ err }, "progress edit failed"),
  );

  const view = await ctx.generation.start(
    {
      ...request,
      interaction: {
        interactionId: interaction.id,
        interactionToken: interaction.token,
        applicationId: interaction.applicationId,
      },
    },
    (v) => {
      generationId = v.generation.id;
      progress.schedule(v);
    },
  );
  generationId = view.generation.id;
  await progress.settle();

  if (view.generation.status === "running") {
    await edit(renderInterrupted(view), [...posted.keys()]);
    return view;
  }
  await prepare(view);
  const inSlotOrder = landed(view);
  // Attachments keep the order they were listed in, and new uploads come after kept ones: when that would
  // break slot order, upload the missing images first and put them in order in a second edit.
  const postedSoFar = inSlotOrder.filter((s) => posted.has(s));
  const freshSlots = inSlotOrder.filter((s) => !posted.has(s));
  if (freshSlots.length > 0 && postedSoFar.some((p) => freshSlots.some((f) => f < p))) {
    await edit(renderProgress(view), [...postedSoFar, ...freshSlots]);
  }
  const previews = [...uploads.values()].some((u) => u.preview);
  await edit(renderGrid(view, { previews }), inSlotOrder);
  return view;
}
