// Interactions delivered as Discord delivers them to an interactions endpoint: a POST of the interaction's JSON,
// signed with Ed25519 over `timestamp + body` (X-Signature-Ed25519, X-Signature-Timestamp). The HTTP response is
// the interaction's answer; the server records it as if the bot had sent it to the callback route (its own,
// over HTTP: the same validation and effects), so a test sees the same stored messages in either mode.
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";

/** What Discord allows the bot to answer in. */
export const ANSWER_DEADLINE_MS = 3000;

export interface Delivery {
  interactionId: string;
  /** The endpoint's HTTP status (0: no answer within the deadline, or no connection). */
  status: number;
  /** From the request sent to the whole answer read. */
  ms: number;
  /** The interaction as sent (a test may send it again, as a replay). */
  body: string;
}

export interface SignedPost {
  status: number;
  body: string;
  ms: number;
}

export class HttpDelivery {
  /** Where interactions go; unset: over the gateway. */
  url: string | undefined;
  /** The application's public key as the Developer Portal shows it (hex): the bot's DISCORD_PUBLIC_KEY. */
  readonly publicKey: string;
  readonly deliveries: Delivery[] = [];
  private readonly privateKey: KeyObject;

  constructor(private readonly origin: () => string) {
    const pair = generateKeyPairSync("ed25519");
    this.privateKey = createPrivateKey(pair.privateKey.export({ format: "pem", type: "pkcs8" }));
    const jwk = pair.publicKey.export({ format: "jwk" }) as { x: string };
    this.publicKey = Buffer.from(jwk.x, "base64url").toString("hex");
  }

  /**
   * POSTs `body` to the endpoint, signed. `badSignature` signs other bytes (as Discord's own checks do);
   * `timestamp` (seconds) stands in for now, for a stale one.
   */
  async post(
    body: string,
    options: { badSignature?: boolean; timestamp?: number } = {},
  ): Promise<SignedPost> {
    if (!this.url) throw new Error("no interactions endpoint set");
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signed = Buffer.from(timestamp + (options.badSignature ? `${body} ` : body));
    const signature = sign(null, signed, this.privateKey).toString("hex");
    const started = performance.now();
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-signature-ed25519": signature,
          "x-signature-timestamp": timestamp,
          "user-agent": "Discord-Interactions/1.0 (+https://discord.com)",
        },
        body,
        signal: AbortSignal.timeout(ANSWER_DEADLINE_MS),
      });
      const text = await response.text();
      return { status: response.status, body: text, ms: performance.now() - started };
    } catch {
      return { status: 0, body: "", ms: performance.now() - started };
    }
  }

  /** Delivers an interaction and records its answer through the callback route, as Discord would act on it. */
  async deliver(interaction: { id: string; token: string }, payload: object): Promise<void> {
    const body = JSON.stringify(payload);
    const answer = await this.post(body);
    this.deliveries.push({ interactionId: interaction.id, status: answer.status, ms: answer.ms, body });
    if (answer.status !== 200) return;
    await fetch(`${this.origin()}/api/v10/interactions/${interaction.id}/${interaction.token}/callback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: answer.body,
    });
  }
}
