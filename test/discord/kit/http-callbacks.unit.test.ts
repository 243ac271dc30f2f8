// Interactions over HTTP answered late: the deferral given for the bot after the answer window, and what becomes
// of the bot's own answer when it comes after that (an edit of the deferred reply, a notice in place of a form
// that can no longer open, nothing for suggestions). The network is a recorder of the requests that go out.
import { InteractionResponseType, InteractionType, MessageFlags } from "discord.js";
import { describe, expect, it } from "vitest";
import { HttpCallbacks } from "../../../src/discord/kit/http-callbacks.ts";
import { inLocales, localeScope } from "../../../src/kit/i18n.ts";
import { createLogger } from "../../../src/kit/logger.ts";

const API = "https://discord.test/api/v10";
const APP = "100000000000000001";

function recorder() {
  const sent: { url: string; method: string; body: unknown }[] = [];
  const send = async (url: string, init: { method?: string; body?: unknown }) => {
    sent.push({
      url,
      method: init.method ?? "GET",
      body: typeof init.body === "string" ? JSON.parse(init.body) : init.body,
    });
    return new Response(null, { status: 204 }) as never;
  };
  return { sent, send };
}

async function lateCase(type: number, callback: object, locale = "en-US") {
  const callbacks = new HttpCallbacks(createLogger({ level: "silent" }), 5);
  const net = recorder();
  const request = callbacks.wrap(net.send as never);
  const interaction = { id: "200000000000000002", type, token: "tok", application_id: APP };
  const answer = await callbacks.answerOf(interaction);
  const url = `${API}/interactions/${interaction.id}/tok/callback`;
  const response = await inLocales(localeScope(locale, locale), () =>
    request(url, { method: "POST", body: JSON.stringify(callback), headers: {} } as never),
  );
  return { answer, sent: net.sent, status: (response as unknown as Response).status };
}

describe("an HTTP interaction answered after the window", () => {
  it("an autocomplete gets no suggestions (it cannot be deferred) and the late ones are dropped", async () => {
    const late = await lateCase(InteractionType.ApplicationCommandAutocomplete, {
      type: InteractionResponseType.ApplicationCommandAutocompleteResult,
      data: { choices: [{ name: "a", value: "a" }] },
    });
    expect(late.answer).toEqual({
      type: InteractionResponseType.ApplicationCommandAutocompleteResult,
      data: { choices: [] },
    });
    expect(late.status).toBe(204);
    expect(late.sent).toEqual([]);
  });

  it("a form that can no longer open becomes a private notice in the member's language", async () => {
    const late = await lateCase(
      InteractionType.MessageComponent,
      { type: InteractionResponseType.Modal, data: { custom_id: "m", title: "Remix", components: [] } },
      "de",
    );
    expect(late.answer).toEqual({ type: InteractionResponseType.DeferredMessageUpdate });
    expect(late.sent).toHaveLength(1);
    const [notice] = late.sent;
    expect(notice?.method).toBe("POST");
    expect(notice?.url).toBe(`${API}/webhooks/${APP}/tok`);
    const body = notice?.body as { content: string; flags: number };
    expect(body.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(body.content).toContain("Formular");
  });

  it("a command's late reply edits the private deferral", async () => {
    const late = await lateCase(InteractionType.ApplicationCommand, {
      type: InteractionResponseType.ChannelMessageWithSource,
      data: { content: "done" },
    });
    expect(late.answer).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    expect(late.sent).toEqual([
      { url: `${API}/webhooks/${APP}/tok/messages/@original`, method: "PATCH", body: { content: "done" } },
    ]);
  });
});
