// Where a job's result goes: the interaction's own reply while its token lives (15 minutes), otherwise a new
// channel message that mentions the requester. Both speak raw REST, so a resumed job needs no live interaction.

import { createHash } from "node:crypto";
import { DiscordAPIError, type REST, Routes } from "discord.js";
import { ERASED } from "../../db/repositories/erasure-scrub.ts";
import type { InteractionRef } from "../../db/repositories/generations-repo.ts";
import type { Clock } from "../../kit/clock.ts";
import { localeScope } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { deliveryOf } from "../kit/delivery.ts";
import { NO_PINGS } from "../views/message.ts";

/** Discord rejects interaction webhooks after 15 minutes; stop using them a little before. */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60 * 1000;
const TOKEN_MARGIN_MS = 30 * 1000;

/** Unknown Webhook, Invalid Webhook Token: the interaction's reply can no longer be edited. */
const WEBHOOK_GONE = new Set([10015, 50027]);
const UNKNOWN_MESSAGE = 10008;
/** Unknown Channel, Missing Access, Missing Permissions: the channel cannot take the result. */
const CHANNEL_GONE = new Set([10003, 50001, 50013]);

/**
 * The `nonce` a job's channel message is created with: the same for every attempt of the same row, at most 25
 * characters (Discord's limit). With `enforce_nonce`, Discord answers a second create with the same nonce from
 * the bot within a few minutes with the first message instead of posting again, so a worker that posted and
 * then failed to record the message id does not post twice when its job runs again.
 */
export function deliveryNonce(rowId: string): string {
  return createHash("sha256").update(`delivery:${rowId}`).digest("base64url").slice(0, 24);
}

/** A file a message should show; read only when the message does not hold it yet, so bytes are not kept. */
export interface OutgoingFile {
  name: string;
  /** The attachment's alt text (see altText). */
  description?: string | undefined;
  read(): Promise<Buffer>;
}

export interface ReplyContent {
  content: string;
  components?: unknown[];
  /** Every file the message should show, in order; files the message already holds are not sent again. */
  files?: OutgoingFile[];
}

export interface ReplyTarget {
  edit(reply: ReplyContent): Promise<{ messageId: string }>;
}

/** The result cannot be posted anywhere; it stays retrievable with /reference. */
export class UndeliverableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "UndeliverableError";
  }
}

/**
 * The result finished after its interaction's token expired, where the bot may not post (interaction-only
 * delivery): it is kept and marked delivered later, and its member is told on their next use of the bot.
 */
export class LateDeliveryError extends UndeliverableError {
  constructor() {
    super("the interaction expired where the bot may not post");
    this.name = "LateDeliveryError";
  }
}

interface RawUpload {
  name: string;
  data: Buffer;
}

/** An attachment entry of a message body: its id (kept or uploaded), file name and alt text. */
function attachmentEntry(file: OutgoingFile, id: string, upload: boolean) {
  return {
    id,
    ...(upload ? { filename: file.name } : {}),
    ...(file.description ? { description: file.description } : {}),
  };
}

interface PostedAttachment {
  id: string;
  filename: string;
}

/** One message and the attachments it holds; builds bodies that keep those by id and upload the rest. */
abstract class MessageTarget implements ReplyTarget {
  private readonly posted = new Map<string, string>(); // file name → attachment id on this message

  constructor(protected readonly rest: REST) {}

  async edit(reply: ReplyContent): Promise<{ messageId: string }> {
    const wanted = reply.files ?? [];
    const uploads = wanted.filter((f) => !this.posted.has(f.name));
    const body = {
      content: reply.content,
      components: reply.components ?? [],
      allowed_mentions: this.allowedMentions(),
      attachments: wanted.map((f) =>
        this.posted.has(f.name)
          ? attachmentEntry(f, this.posted.get(f.name) as string, false)
          : attachmentEntry(f, String(uploads.indexOf(f)), true),
      ),
    };
    const files = await Promise.all(uploads.map(async (f) => ({ name: f.name, data: await f.read() })));
    const message = (await this.send(body, files)) as { id: string; attachments?: PostedAttachment[] };
    this.posted.clear();
    for (const a of message.attachments ?? []) this.posted.set(a.filename, a.id);
    return { messageId: message.id };
  }

  protected allowedMentions(): unknown {
    return NO_PINGS;
  }

  protected abstract send(body: Record<string, unknown>, files: RawUpload[]): Promise<unknown>;
}

/** The interaction's original reply, edited through its webhook token. */
export class InteractionReply extends MessageTarget {
  constructor(
    rest: REST,
    private readonly applicationId: string,
    private readonly token: string,
  ) {
    super(rest);
  }

  protected send(body: Record<string, unknown>, files: RawUpload[]) {
    return this.rest.patch(Routes.webhookMessage(this.applicationId, this.token, "@original"), {
      body,
      files,
      auth: false,
    });
  }
}

/** A message of the bot's own in the channel, mentioning (and notifying) the requester. */
export class ChannelReply extends MessageTarget {
  private messageId: string | undefined;

  constructor(
    rest: REST,
    private readonly channelId: string,
    private readonly userId: string,
    /** The create's nonce (deliveryNonce of the job's row): an attempt after a lost record gets the same message. */
    private readonly nonce?: string,
  ) {
    super(rest);
  }

  protected override allowedMentions() {
    return { parse: [], users: [this.userId] };
  }

  protected async send(body: Record<string, unknown>, files: RawUpload[]) {
    const mentioned = { ...body, content: `<@${this.userId}> ${String(body.content)}`.slice(0, 2000) };
    try {
      let message = (
        this.messageId
          ? await this.edited(this.messageId, mentioned, files)
          : await this.rest.post(Routes.channelMessages(this.channelId), {
              body: this.nonce ? { ...mentioned, nonce: this.nonce, enforce_nonce: true } : mentioned,
              files,
            })
      ) as PostedMessage;
      // The create was answered with the message an earlier attempt posted (same nonce): it is brought up to
      // date instead of a second one being posted.
      if (!this.messageId && !shows(message, mentioned.content, files)) {
        message = (await this.edited(message.id, mentioned, files)) as PostedMessage;
      }
      this.messageId = message.id;
      return message;
    } catch (err) {
      if (err instanceof DiscordAPIError && CHANNEL_GONE.has(Number(err.code))) {
        throw new UndeliverableError(`channel ${this.channelId} cannot be posted to (${err.code})`);
      }
      throw err;
    }
  }

  private edited(messageId: string, body: Record<string, unknown>, files: RawUpload[]): Promise<unknown> {
    return this.rest.patch(Routes.channelMessage(this.channelId, messageId), { body, files });
  }
}

interface PostedMessage {
  id: string;
  content?: string;
  attachments?: PostedAttachment[];
}

/**
 * Whether a posted message already shows this text and these files (a create answered with an earlier
 * attempt's message shows what that attempt sent, which may have been an earlier stage of the reply).
 */
function shows(message: PostedMessage, content: string, files: RawUpload[]): boolean {
  const names = (message.attachments ?? []).map((a) => a.filename);
  return message.content === content && names.join("\n") === files.map((f) => f.name).join("\n");
}

/** What a job stores of its interaction, so its reply can still be edited after a restart. */
export function interactionRef(
  interaction: {
    id: string;
    token: string;
    applicationId: string;
    locale: string;
    guildLocale: string | null;
  } & Parameters<typeof deliveryOf>[0],
): InteractionRef {
  const locales = localeScope(interaction.locale, interaction.guildLocale);
  return {
    interactionId: interaction.id,
    interactionToken: interaction.token,
    applicationId: interaction.applicationId,
    locale: locales.member,
    publicLocale: locales.audience,
    delivery: deliveryOf(interaction),
  };
}

export interface JobOrigin {
  /** The job's row (generation or video): its channel message is created with deliveryNonce(id). */
  id: string;
  applicationId: string | null;
  interactionToken: string | null;
  /** When the interaction was created: its token expires 15 minutes later. */
  createdAt: number;
  channelId: string | null;
  userId: string;
  /** The reply's message, once an edit of it went through (a resumed job's row has it). */
  messageId?: string | null;
  /** The interaction was acknowledged in this run: it has a reply, if only "thinking…". */
  acknowledged?: boolean;
  /** 'interaction': the bot is not in that place, so nothing is ever posted with its token (no channel message). */
  delivery?: "channel" | "interaction";
}

/**
 * Edits the interaction's reply while its token is young enough, and switches for good to a channel message
 * when the token is too old or Discord says the webhook is gone (10015, 50027).
 */
export class DurableReply implements ReplyTarget {
  private primary: InteractionReply | undefined;
  private fallback: ChannelReply | undefined;
  /** Whether the interaction's reply is known to have existed. */
  private hadReply: boolean;

  constructor(
    private readonly rest: REST,
    private readonly origin: JobOrigin,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    if (origin.applicationId && origin.interactionToken) {
      this.primary = new InteractionReply(rest, origin.applicationId, origin.interactionToken);
    }
    this.hadReply = origin.acknowledged === true || !!origin.messageId;
  }

  async edit(reply: ReplyContent): Promise<{ messageId: string }> {
    const age = this.clock.now() - this.origin.createdAt;
    if (this.primary && age > INTERACTION_TOKEN_TTL_MS - TOKEN_MARGIN_MS) {
      this.log.info({ ageMs: age }, "interaction token expired; delivering by channel message");
      this.primary = undefined;
    }
    if (this.primary) {
      try {
        const done = await this.primary.edit(reply);
        this.hadReply = true;
        return done;
      } catch (err) {
        if (err instanceof DiscordAPIError && Number(err.code) === UNKNOWN_MESSAGE) {
          // A reply that existed and is gone was deleted by a person: it is not posted again. One that never
          // existed (the bot stopped between recording the request and acknowledging it) goes to the channel.
          if (this.hadReply) throw new UndeliverableError("the reply was deleted");
          this.log.info("the interaction never got a reply; delivering by channel message");
          this.primary = undefined;
          return this.toChannel(reply);
        }
        if (!(err instanceof DiscordAPIError && WEBHOOK_GONE.has(Number(err.code)))) throw err;
        this.log.info({ code: err.code }, "interaction reply is gone; delivering by channel message");
        this.primary = undefined;
      }
    }
    return this.toChannel(reply);
  }

  private toChannel(reply: ReplyContent): Promise<{ messageId: string }> {
    const { channelId, userId, id, delivery } = this.origin;
    // Where the bot is not a member, a message of its own would be refused (and is not its to post): the
    // result stays stored, marked delivered later.
    if (delivery === "interaction") throw new LateDeliveryError();
    if (!channelId) throw new UndeliverableError("no channel to deliver to");
    // An erased member's request is never posted anew (its messages are edited by the erasure itself).
    if (userId === ERASED) throw new UndeliverableError("its member erased their data");
    this.fallback ??= new ChannelReply(this.rest, channelId, userId, deliveryNonce(id));
    return this.fallback.edit(reply);
  }
}
