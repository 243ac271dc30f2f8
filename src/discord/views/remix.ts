// The Remix modal: a grid's description, prefilled for editing, in a paragraph text input.
import { ComponentType, TextInputStyle } from "discord.js";
import type { GenerationRow } from "../../db/repositories/generations-repo.ts";
import { MAX_PROMPT_LENGTH } from "../../features/generation/generation-service.ts";
import { t } from "../../kit/i18n.ts";
import { encodeCustomId } from "../kit/custom-id.ts";

/** The text input's custom_id inside the modal (the modal's own custom_id names the generation). */
export const REMIX_DESCRIPTION_INPUT = "description";

/** The modal answering a Remix press (interaction callback type 9), its text input in a label. */
export function renderRemixModal(generation: Pick<GenerationRow, "id" | "prompt">) {
  return {
    custom_id: encodeCustomId({ handler: "modal", action: "remix", generationId: generation.id }),
    title: t("generation:remix.modalTitle"),
    components: [
      {
        type: ComponentType.Label as const,
        label: t("generation:remix.descriptionLabel"),
        description: t("generation:remix.inputDescription"),
        component: {
          type: ComponentType.TextInput as const,
          custom_id: REMIX_DESCRIPTION_INPUT,
          style: TextInputStyle.Paragraph,
          // Prompts are at most MAX_PROMPT_LENGTH already; an older, longer one is cut to fit the field.
          value: generation.prompt.slice(0, MAX_PROMPT_LENGTH),
          min_length: 1,
          max_length: MAX_PROMPT_LENGTH,
          required: true,
        },
      },
    ],
  };
}
