// Replicate's webhook deliveries: checking their Standard Webhooks signature, the signing secret (configured, or
// fetched once from Replicate), replays, and waking the job that waits on the completed prediction. The HTTP side
// is src/http/routes/webhooks.ts.
import { createHmac, timingSafeEqual } from "node:crypto";
import Replicate from "replicate";
import type { Logger } from "../../kit/logger.ts";

/**
 * How far a delivery's timestamp may be from now, either way (Standard Webhooks' usual tolerance). An older one
 * is a replay of a captured delivery or one held up too long; the prediction's own safety-net poll finishes it.
 */
export const TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;
/**
 * How long a handled delivery's webhook-id is remembered, so that a repeat changes nothing. Replicate retries a
 * completion it could not deliver several times with backoff, the last about a minute after the prediction
 * completed; and a copy is accepted at all only while its signed timestamp is within 5 minutes of now, so no
 * copy of a delivery can be accepted more than about 10 minutes after the first. An hour covers both with room
 * for clocks that disagree, for one small row or key per prediction.
 */
export const DELIVERY_MEMORY_MS = 60 * 60 * 1000;

/**
 * The deliveries already handled, shared by every receiver of the bot: Redis with REDIS_URL (the whole fleet),
 * else the database (one process, across restarts). Built by the composition root.
 */
export interface DeliveryLog {
  /** Records webhook-id `id`; true the first time it is seen within DELIVERY_MEMORY_MS, false for a repeat. */
  firstTime(id: string): Promise<boolean>;
}

export interface WebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type Verification = { ok: true } | { ok: false; reason: string };

/**
 * Checks a delivery the Standard Webhooks way: HMAC-SHA256, keyed with the base64 part of the `whsec_` secret,
 * over `${id}.${timestamp}.${body}`, against any of the space-separated `v1,<base64>` entries of the signature
 * header (several while a secret is rotated), compared in constant time; and the timestamp within 5 minutes.
 */
export function verifyDelivery(
  headers: WebhookHeaders,
  rawBody: Buffer,
  secret: string,
  nowMs: number,
): Verification {
  const framed = checkFrame(headers, nowMs);
  if (!framed.ok) return framed;
  const { id, timestamp, signature } = headers as Required<{ [K in keyof WebhookHeaders]: string }>;
  if (!signingKey(secret)) return { ok: false, reason: "the signing secret is not a usable whsec_ key" };
  const expected = sign(secret, id, timestamp, rawBody);
  for (const entry of signature.split(" ")) {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: "bad webhook signature" };
}

/**
 * What can be checked without the secret: the three headers there and the timestamp in its window. Checked
 * first, so a request that could never be valid costs no secret fetch.
 */
export function checkFrame(headers: WebhookHeaders, nowMs: number): Verification {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return { ok: false, reason: "missing webhook signature headers" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed webhook-timestamp" };
  if (Math.abs(nowMs - Number(timestamp) * 1000) > TIMESTAMP_TOLERANCE_MS) {
    return { ok: false, reason: "webhook-timestamp is more than 5 minutes from now" };
  }
  return { ok: true };
}

/**
 * The HMAC key of a `whsec_<base64>` secret, or undefined when it is not strict base64 of at least 24 bytes (a
 * short or empty key would let anyone sign).
 */
export function signingKey(secret: string): Buffer | undefined {
  const body = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret)?.[1];
  if (!body || body.length % 4 !== 0) return undefined;
  const key = Buffer.from(body, "base64");
  return key.length >= 24 ? key : undefined;
}

/** The raw HMAC of a delivery (exported for the fake Replicate server and tests, which sign the same way). */
export function sign(secret: string, id: string, timestamp: string, rawBody: Buffer): Buffer {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(rawBody).digest();
}

/**
 * The signing secret: REPLICATE_WEBHOOK_SECRET, or else fetched from Replicate's
 * `GET /v1/webhooks/default/secret` with the API token the first time a delivery needs it, and kept. A failed
 * fetch is not kept: the next delivery (Replicate retries them) asks again.
 */
export class WebhookSecret {
  private fetched: Promise<string> | undefined;
  /** After a failed fetch, no new one before this (epoch ms): refused deliveries must not hammer Replicate. */
  private retryAfter = 0;

  constructor(
    private readonly options: {
      configured: string | undefined;
      token: string | undefined;
      apiUrl: string;
      logger: Logger;
    },
  ) {}

  /** The secret; undefined when none is configured and Replicate cannot be asked (no token, or it failed). */
  async get(): Promise<string | undefined> {
    const { configured, token, apiUrl, logger } = this.options;
    if (configured) return configured;
    if (!token || Date.now() < this.retryAfter) return undefined;
    this.fetched ??= Promise.race([
      new Replicate({ auth: token, baseUrl: apiUrl }).webhooks.default.secret.get(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("Replicate did not answer within 5 s")), 5_000).unref(),
      ),
    ]).then(({ key }) => {
      if (typeof key !== "string" || !signingKey(key)) {
        throw new Error("Replicate's default webhook secret is not a usable whsec_ key");
      }
      logger.info("fetched Replicate's webhook signing secret");
      return key;
    });
    try {
      return await this.fetched;
    } catch (err) {
      this.fetched = undefined;
      this.retryAfter = Date.now() + 60_000;
      logger.warn({ err }, "could not fetch Replicate's webhook signing secret; asking again in a minute");
      return undefined;
    }
  }
}

export type DeliveryOutcome =
  | { status: 401; reason: string }
  | { status: 400; reason: string }
  | { status: 503; reason: string }
  | {
      status: 200;
      result: "woken" | "no waiter" | "repeated delivery" | "already settled" | "not completed";
    };

/** Prediction states Replicate reports as the end ("completed" deliveries carry one of these). */
const TERMINAL = new Set(["succeeded", "failed", "canceled", "aborted"]);

/**
 * Takes deliveries for one process. A verified completion wakes the jobs waiting here on its prediction; they
 * then read its state from Replicate as a poll does, so nothing in the body is trusted beyond its id. In fleet
 * mode the delivery lands on any process: where no job waits on it, it is acknowledged and ignored, and the
 * process running the job finishes it at its safety-net poll. A delivery is handled once by the whole bot:
 * its webhook-id is claimed in the shared DeliveryLog, so a copy heard by any process, or after a restart, is
 * answered as a repeat.
 */
export class WebhookReceiver {
  constructor(
    private readonly deps: {
      secret: WebhookSecret;
      /** The deliveries already handled, by this process or any other (see DeliveryLog). */
      deliveries: DeliveryLog;
      /** The process's waiters on predictions (predictions/completions.ts). */
      events: { isSettled(predictionId: string): boolean; completed(predictionId: string): number };
      now: () => number;
      logger: Logger;
    },
  ) {}

  async receive(headers: WebhookHeaders, rawBody: Buffer): Promise<DeliveryOutcome> {
    const { logger, events } = this.deps;
    const framed = checkFrame(headers, this.deps.now());
    if (!framed.ok) {
      logger.warn({ webhookId: headers.id, reason: framed.reason }, "refused a Replicate webhook delivery");
      return { status: 401, reason: framed.reason };
    }
    const secret = await this.deps.secret.get();
    if (!secret) return { status: 503, reason: "the webhook signing secret is not available" };
    const verified = verifyDelivery(headers, rawBody, secret, this.deps.now());
    if (!verified.ok) {
      logger.warn({ webhookId: headers.id, reason: verified.reason }, "refused a Replicate webhook delivery");
      return { status: 401, reason: verified.reason };
    }
    const webhookId = headers.id as string;
    let prediction: { id?: unknown; status?: unknown };
    try {
      prediction = JSON.parse(rawBody.toString("utf8")) as typeof prediction;
    } catch {
      return { status: 400, reason: "the body is not JSON" };
    }
    if (typeof prediction?.id !== "string" || !/^[\w-]{1,128}$/.test(prediction.id)) {
      return { status: 400, reason: "the body names no prediction id" };
    }
    if (!(await this.firstTime(webhookId))) return { status: 200, result: "repeated delivery" };
    if (typeof prediction.status !== "string" || !TERMINAL.has(prediction.status)) {
      return { status: 200, result: "not completed" };
    }
    if (events.isSettled(prediction.id)) return { status: 200, result: "already settled" };
    const woken = events.completed(prediction.id);
    logger.debug({ predictionId: prediction.id, woken }, "Replicate webhook: prediction completed");
    return { status: 200, result: woken > 0 ? "woken" : "no waiter" };
  }

  /**
   * Whether the delivery is new. When the log cannot be reached it is handled as new: a repeat only wakes a
   * job that then checks its prediction once more, while refusing it would leave the job to its slow poll.
   */
  private async firstTime(webhookId: string): Promise<boolean> {
    try {
      return await this.deps.deliveries.firstTime(webhookId);
    } catch (err) {
      this.deps.logger.warn(
        { err, webhookId },
        "could not check a webhook delivery for a repeat; handling it",
      );
      return true;
    }
  }
}
