// A message the bot posted earlier, found again by the ids stored with its job: edited through the
// interaction's webhook while its token lives, and after that (or when the webhook is gone) over the bot token
// through the channel message endpoint. Used to take removed images and videos out of old messages.
import { DiscordAPIError, type REST, Routes } from "discord.js";
import type { Clock } from "../../kit/clock.ts";
import { NO_PINGS } from "../views/message.ts";
import {
  INTERACTION_TOKEN_TTL_MS,
  type ReplyContent,
  type ReplyTarget,
  UndeliverableError,
} from "./reply-target.ts";

/** Stop using a token a minute before Discord would refuse it: the edit may take a while to send. */
const TOKEN_MARGIN_MS = 60 * 1000;
/** Unknown Webhook, Invalid Webhook Token, Unknown Message: this webhook cannot edit that message. */
const WEBHOOK_CANNOT_EDIT = new Set([10015, 50027, 10008]);

/** What a generation or video row remembers about where its result was shown. */
export interface MessageOrigin {
  applicationId: string | null;
  interactionToken: string | null;
  /** When the job (and so its interaction) was created: the token expires 15 minutes later. */
  createdAt: number;
  channelId: string | null;
  messageId: string | null;
  /** 'interaction': the bot is not in that channel; only the interaction's webhook may edit the message. */
  delivery?: "channel" | "interaction";
}

export class PastMessage implements ReplyTarget {
  constructor(
    private readonly rest: REST,
    private readonly origin: MessageOrigin,
    private readonly clock: Clock,
  ) {}

  /** Replaces the message's text, buttons and files; every file listed is uploaded again. */
  async edit(reply: ReplyContent): Promise<{ messageId: string }> {
    const uploads = await Promise.all(
      (reply.files ?? []).map(async (f) => ({
        name: f.name,
        description: f.description,
        data: await f.read(),
      })),
    );
    const body = {
      content: reply.content,
      components: reply.components ?? [],
      allowed_mentions: NO_PINGS,
      attachments: uploads.map((f, i) => ({
        id: String(i),
        filename: f.name,
        ...(f.description ? { description: f.description } : {}),
      })),
    };
    const { applicationId, interactionToken, createdAt, channelId, messageId } = this.origin;
    const young = this.clock.now() - createdAt < INTERACTION_TOKEN_TTL_MS - TOKEN_MARGIN_MS;
    if (young && applicationId && interactionToken) {
      try {
        const route = Routes.webhookMessage(applicationId, interactionToken, messageId ?? "@original");
        const message = (await this.rest.patch(route, { body, files: uploads, auth: false })) as {
          id: string;
        };
        return { messageId: message.id };
      } catch (err) {
        if (!(err instanceof DiscordAPIError && WEBHOOK_CANNOT_EDIT.has(Number(err.code)))) throw err;
      }
    }
    if (this.origin.delivery === "interaction") {
      throw new UndeliverableError("the bot is not in that channel, and the interaction's token expired");
    }
    if (!channelId || !messageId) throw new UndeliverableError("the message's channel or id is not known");
    const message = (await this.rest.patch(Routes.channelMessage(channelId, messageId), {
      body,
      files: uploads,
    })) as { id: string };
    return { messageId: message.id };
  }
}
