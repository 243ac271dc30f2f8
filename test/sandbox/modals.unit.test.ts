// The sandbox's modals: a type 9 callback is validated against Discord's schema like any other body, and a
// submission is built as the Discord client builds it, refusing what the client would not send.
import { ComponentType, InteractionResponseType, InteractionType } from "discord-api-types/v10";
import { describe, expect, it } from "vitest";
import { renderRemixModal } from "../../src/discord/views/remix.ts";
import { modalOf, modalSubmitData } from "../../src/sandbox/modals.ts";
import type { SandboxInteraction } from "../../src/sandbox/types.ts";
import { validateBody } from "../../src/sandbox/validation.ts";

const GENERATION = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed";

function answeredWith(data: unknown): SandboxInteraction {
  return {
    id: "1",
    token: "t",
    type: InteractionType.MessageComponent,
    user: { id: "500000000000000001", username: "alice" },
    channelId: "2",
    guildId: "3",
    createdAt: 0,
    callback: { type: InteractionResponseType.Modal, data },
    sourceMessageId: "4",
    originalMessageId: undefined,
    followUpIds: [],
    autocompleteChoices: undefined,
  };
}

describe("sandbox modals", () => {
  it("validates a modal callback against Discord's schema", () => {
    const modal = renderRemixModal({ id: GENERATION, prompt: "a knight" });
    expect(validateBody("interaction_callback", { type: 9, data: modal })).toEqual([]);
    const longTitle = { ...modal, title: "t".repeat(46) };
    expect(validateBody("interaction_callback", { type: 9, data: longTitle })).not.toEqual([]);
    const noComponents = { ...modal, components: [] };
    expect(validateBody("interaction_callback", { type: 9, data: noComponents })).not.toEqual([]);
    const labelled = modal.components[0];
    const overLong = {
      ...modal,
      components: [{ ...labelled, component: { ...labelled?.component, max_length: 5000 } }],
    };
    expect(validateBody("interaction_callback", { type: 9, data: overLong })).not.toEqual([]);
  });

  it("builds a submission with each text input's value, and refuses what the client would not send", () => {
    const sent = answeredWith(renderRemixModal({ id: GENERATION, prompt: "a knight" }));
    expect(modalOf(sent)?.inputs.map((i) => [i.custom_id, i.value, i.label])).toEqual([
      ["description", "a knight", "Description"],
    ]);
    expect(modalSubmitData(sent, {})).toEqual({
      custom_id: `modal:remix:${GENERATION}`,
      components: [
        {
          type: ComponentType.Label,
          id: 1,
          component: { type: ComponentType.TextInput, id: 2, custom_id: "description", value: "a knight" },
        },
      ],
    });
    expect(modalSubmitData(sent, { description: "a queen" }).components).toMatchObject([
      { component: { value: "a queen" } },
    ]);
    expect(() => modalSubmitData(sent, { description: "" })).toThrow("Description is required");
    expect(() => modalSubmitData(sent, { description: "x".repeat(1001) })).toThrow("at most 1000");
    expect(() => modalSubmitData(sent, { other: "x" })).toThrow("no text input other");
    expect(() => modalSubmitData({ ...sent, callback: { type: 5, data: {} } }, {})).toThrow("not answer");
  });
});
