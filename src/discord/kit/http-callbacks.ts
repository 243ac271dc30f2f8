// Interactions received over HTTP are answered in the HTTP response, not with a callback request (Discord's rule
// for an interactions endpoint). discord.js answers every interaction with a callback request
// (POST /interactions/{id}/{token}/callback), so the REST client's request function catches that request for an
// interaction received over HTTP, hands its body to the waiting HTTP response, and tells discord.js it was sent
// (204). Everything after the first answer (edits, follow-ups) goes over REST as usual.
//
// An answer that does not come within ANSWER_WITHIN_MS (Discord allows 3 s) is given for it: a deferral, private
// for a command, a deferred update for a component. A callback discord.js sends after that, or one carrying files
// (an HTTP response here is JSON only), becomes an edit of the deferred reply over the interaction's webhook.
import type { RESTOptions } from "discord.js";
import { DefaultRestOptions, InteractionResponseType, InteractionType, MessageFlags } from "discord.js";
import { t } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";

/** How long an HTTP interaction waits for the bot's first answer before a deferral is sent for it. */
export const ANSWER_WITHIN_MS = 2500;

const CALLBACK = /\/interactions\/(\d{17,20})\/([^/]+)\/callback$/;

type MakeRequest = RESTOptions["makeRequest"];
type ResponseLike = Awaited<ReturnType<MakeRequest>>;

interface Waiting {
  answer: (body: unknown) => void;
  timer: NodeJS.Timeout;
  applicationId: string;
  type: number;
}

/** The raw interaction as it arrived, what this needs of it. */
export interface RawInteraction {
  id: string;
  type: number;
  token: string;
  application_id: string;
}

export class HttpCallbacks {
  private readonly waiting = new Map<string, Waiting>();
  /** Interactions answered for the bot (a deferral) whose own callback may still come: it becomes an edit. */
  private readonly answeredFor = new Map<string, { applicationId: string }>();

  constructor(
    private readonly logger: Logger,
    private readonly answerWithinMs = ANSWER_WITHIN_MS,
  ) {}

  /**
   * The body of the HTTP response for `interaction`: the first callback the bot makes for it, or a deferral
   * made for it after answerWithinMs.
   */
  answerOf(interaction: RawInteraction): Promise<unknown> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(interaction.id);
        this.answeredFor.set(interaction.id, { applicationId: interaction.application_id });
        setTimeout(() => this.answeredFor.delete(interaction.id), 15 * 60_000).unref();
        this.logger.warn({ interactionId: interaction.id }, "no answer in time; deferred for the bot");
        resolve(deferralFor(interaction.type));
      }, this.answerWithinMs);
      this.waiting.set(interaction.id, {
        answer: resolve,
        timer,
        applicationId: interaction.application_id,
        type: interaction.type,
      });
    });
  }

  /** Wraps a REST request function so that callbacks of interactions received over HTTP are answered here. */
  wrap(send: MakeRequest = DefaultRestOptions.makeRequest): MakeRequest {
    return async (url, init) => {
      const match = CALLBACK.exec(new URL(url).pathname);
      if (!match) return send(url, init);
      const [, id, token] = match as unknown as [string, string, string];
      const waiting = this.waiting.get(id);
      if (waiting) {
        this.waiting.delete(id);
        clearTimeout(waiting.timer);
        if (typeof init.body === "string") {
          waiting.answer(JSON.parse(init.body));
          return sent();
        }
        // Files: the HTTP response defers, and the answer follows as an edit of the deferred reply.
        const body = await callbackOf(init);
        waiting.answer(deferralFor(waiting.type, body));
        await editOriginal(send, url, waiting.applicationId, token, init, body);
        return sent();
      }
      const late = this.answeredFor.get(id);
      if (late) {
        this.answeredFor.delete(id);
        const callback = await callbackOf(init);
        if (callback.type === InteractionResponseType.Modal) {
          // A form cannot open after a deferral: the member is told to ask again instead of waiting for nothing.
          await followUp(send, url, late.applicationId, token, t("common:formTooLate"));
        } else await editOriginal(send, url, late.applicationId, token, init, callback);
        return sent();
      }
      return send(url, init);
    };
  }
}

/**
 * A deferral for an interaction of `type` (keeping a reply's privacy when the bot's own answer is known). An
 * autocomplete cannot be deferred: it is answered with no suggestions, and the bot's late ones are dropped.
 */
function deferralFor(type: number, callback?: { type: number; data?: { flags?: number } }): unknown {
  if (type === InteractionType.ApplicationCommandAutocomplete) {
    return { type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices: [] } };
  }
  const component = type === InteractionType.MessageComponent || type === InteractionType.ModalSubmit;
  const update =
    callback?.type === InteractionResponseType.UpdateMessage ||
    callback?.type === InteractionResponseType.DeferredMessageUpdate ||
    (callback === undefined && component);
  if (update) return { type: InteractionResponseType.DeferredMessageUpdate };
  const flags = callback ? (callback.data?.flags ?? 0) & MessageFlags.Ephemeral : MessageFlags.Ephemeral;
  return { type: InteractionResponseType.DeferredChannelMessageWithSource, data: { flags } };
}

/** The callback's JSON, from a JSON body or a multipart one's payload_json. */
async function callbackOf(init: Parameters<MakeRequest>[1]): Promise<{ type: number; data?: object }> {
  if (typeof init.body === "string") return JSON.parse(init.body);
  const form = init.body as FormData;
  return JSON.parse(String(form.get("payload_json") ?? "{}"));
}

/** A message callback (4 or 7) sent as an edit of the deferred reply; a deferral has nothing more to send. */
async function editOriginal(
  send: MakeRequest,
  callbackUrl: string,
  applicationId: string,
  token: string,
  init: Parameters<MakeRequest>[1],
  callback: { type: number; data?: object },
): Promise<void> {
  if (
    callback.type !== InteractionResponseType.ChannelMessageWithSource &&
    callback.type !== InteractionResponseType.UpdateMessage
  )
    return;
  const url = callbackUrl.replace(
    /\/interactions\/\d+\/[^/]+\/callback.*$/,
    `/webhooks/${applicationId}/${token}/messages/@original`,
  );
  let body: string | FormData = JSON.stringify(callback.data ?? {});
  if (typeof init.body !== "string") {
    const form = new FormData();
    for (const [name, value] of (init.body as FormData).entries()) {
      form.append(name, name === "payload_json" ? body : value);
    }
    body = form;
  }
  const headers: Record<string, string> = stripAuth(init.headers);
  if (typeof body === "string") headers["content-type"] = "application/json";
  await send(url, { ...init, method: "PATCH", body: body as Parameters<MakeRequest>[1]["body"], headers });
}

/** A private follow-up message on the interaction's webhook. */
async function followUp(
  send: MakeRequest,
  callbackUrl: string,
  applicationId: string,
  token: string,
  content: string,
): Promise<void> {
  const url = callbackUrl.replace(
    /\/interactions\/\d+\/[^/]+\/callback.*$/,
    `/webhooks/${applicationId}/${token}`,
  );
  await send(url, {
    method: "POST",
    body: JSON.stringify({ content, flags: MessageFlags.Ephemeral, allowed_mentions: { parse: [] } }),
    headers: { "content-type": "application/json" },
  } as Parameters<MakeRequest>[1]);
}

function stripAuth(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries((headers ?? {}) as Record<string, string>)) {
    if (name.toLowerCase() !== "authorization" && name.toLowerCase() !== "content-type") out[name] = value;
  }
  return out;
}

/** What discord.js is told of a callback answered in the HTTP response (the bot never asks with_response). */
function sent(): Promise<ResponseLike> {
  return Promise.resolve(new Response(null, { status: 204 }) as unknown as ResponseLike);
}
