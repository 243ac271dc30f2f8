// Modals: what the bot opened with interaction callback type 9 (MODAL), and the MODAL_SUBMIT interaction a
// member's submission sends, with each text input's value, as the Discord client builds it.
import { ComponentType, InteractionResponseType } from "discord-api-types/v10";
import type { SandboxInteraction } from "./types.ts";

/** A text input of an open modal, as the bot sent it (inside a label, or in a legacy action row). */
export interface ModalTextInput {
  custom_id: string;
  /** The label's text, or the input's own (legacy rows). */
  label: string;
  style: number;
  value?: string | null;
  min_length?: number | null;
  max_length?: number | null;
  required?: boolean | null;
}

/** A modal the bot opened in answer to an interaction. */
export interface SandboxModal {
  custom_id: string;
  title: string;
  inputs: ModalTextInput[];
}

interface SentComponent {
  type: number;
  label?: string;
  component?: ModalTextInput & { type: number };
  components?: Array<ModalTextInput & { type: number }>;
}

/** The modal an interaction was answered with (callback type 9), or undefined when it was answered otherwise. */
export function modalOf(interaction: SandboxInteraction): SandboxModal | undefined {
  if (interaction.callback?.type !== InteractionResponseType.Modal) return undefined;
  const data = interaction.callback.data as { custom_id: string; title: string; components: SentComponent[] };
  const inputs = data.components.flatMap((c): ModalTextInput[] => {
    if (c.type === ComponentType.Label && c.component?.type === ComponentType.TextInput)
      return [{ ...c.component, label: c.label ?? "" }];
    if (c.type === ComponentType.ActionRow)
      return (c.components ?? []).filter((i) => i.type === ComponentType.TextInput);
    return [];
  });
  return { custom_id: data.custom_id, title: data.title, inputs };
}

/**
 * The `data` of a MODAL_SUBMIT interaction: every text input of `modal` with its value (the prefilled one unless
 * `values` changes it), laid out as the modal was (a label's component, or an action row's). A value the client
 * would not let through (a required input left empty, one outside its lengths, an input the modal has not)
 * throws instead.
 */
export function modalSubmitData(
  sent: SandboxInteraction,
  values: Record<string, string>,
): { custom_id: string; components: unknown[] } {
  const modal = modalOf(sent);
  if (!modal) throw new Error("the bot did not answer that interaction with a modal");
  for (const key of Object.keys(values)) {
    if (!modal.inputs.some((i) => i.custom_id === key)) throw new Error(`the modal has no text input ${key}`);
  }
  const checkedValue = (input: ModalTextInput) => {
    const value = values[input.custom_id] ?? input.value ?? "";
    if (input.required !== false && value.length === 0) throw new Error(`${input.label} is required`);
    if (value.length > 0 && value.length < (input.min_length ?? 0))
      throw new Error(`${input.label} needs at least ${input.min_length} characters`);
    if (value.length > (input.max_length ?? 4000))
      throw new Error(`${input.label} takes at most ${input.max_length ?? 4000} characters`);
    return value;
  };
  const data = (sent.callback?.data ?? {}) as { components: SentComponent[] };
  let id = 0;
  // Checked as modalOf reads it: with its label's text, which the sent component inside a label lacks.
  const submitted = (input: ModalTextInput) => ({
    type: ComponentType.TextInput,
    id: ++id,
    custom_id: input.custom_id,
    value: checkedValue(modal.inputs.find((i) => i.custom_id === input.custom_id) ?? input),
  });
  const components = data.components.map((c) => {
    const own = ++id;
    if (c.type === ComponentType.Label && c.component)
      return { type: c.type, id: own, component: submitted(c.component) };
    if (c.type === ComponentType.ActionRow)
      return { type: c.type, id: own, components: (c.components ?? []).map(submitted) };
    return { type: c.type, id: own };
  });
  return { custom_id: modal.custom_id, components };
}
