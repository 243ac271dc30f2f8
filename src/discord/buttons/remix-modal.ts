// A Remix modal's submission: a new grid from the edited description, with the grid's references, count and
// shape, admitted as /character is (blocklist, running cap, allowances) and refused as clearly.
import type { ModalSubmitInteraction } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import type { AspectRatio } from "../../providers/types.ts";
import { generateAndReply } from "../flows/character.ts";
import { refusePrivately } from "../kit/acknowledge.ts";
import type { CustomId } from "../kit/custom-id.ts";
import { checkedPrompt } from "../kit/options.ts";
import { REMIX_DESCRIPTION_INPUT } from "../views/remix.ts";
import { notYours, redrawnReferences } from "./generation-buttons.ts";

type RemixId = Extract<CustomId, { handler: "modal" }>;

/**
 * The edited description is checked before anything else (a refusal then is the modal's private answer); the
 * submission is then acknowledged with a public deferral, which becomes the new grid, as Regenerate's does.
 */
export async function handleRemixSubmit(
  interaction: ModalSubmitInteraction,
  id: RemixId,
  ctx: AppContext,
  log: Logger,
): Promise<void> {
  const prompt = checkedPrompt(
    interaction.fields.getTextInputValue(REMIX_DESCRIPTION_INPUT),
    "description",
    t("generation:remix.emptyHint"),
  );
  await interaction.deferReply();
  let source: Awaited<ReturnType<typeof remixSource>>;
  try {
    source = await remixSource(interaction, id.generationId, ctx);
  } catch (err) {
    if (!(err instanceof UserFacingError)) throw err;
    await refusePrivately(interaction, err, log);
    return;
  }
  const { generation, referenceImageIds } = source;
  await generateAndReply(
    interaction,
    ctx,
    {
      prompt,
      count: generation.requested,
      aspectRatio: generation.params.aspectRatio as AspectRatio,
      referenceImageIds,
    },
    log,
  );
}

/** The grid a Remix draws again (the requester's only) and the references it draws from. */
async function remixSource(interaction: ModalSubmitInteraction, generationId: string, ctx: AppContext) {
  const view = await ctx.generation.view(generationId);
  if (!view) throw new UserFacingError(t("generation:buttons.generationGone"));
  if (view.generation.userId !== interaction.user.id) throw notYours(view.generation.userId);
  return { generation: view.generation, referenceImageIds: await redrawnReferences(interaction, ctx, view) };
}
