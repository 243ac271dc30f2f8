// The fake Replicate server's completion webhooks: each create that named a `webhook` gets its prediction's
// final state posted there once it ends, signed the Standard Webhooks way, or lost, or wrongly signed.
import { createHmac, randomBytes } from "node:crypto";
import type { PredictionStore } from "./fake-predictions.ts";

/** What becomes of a completion's webhook: sent signed, lost on the way, or sent with a wrong signature. */
export type WebhookDelivery = "deliver" | "drop" | "bad_signature";

/** A completion posted (or dropped) to a create's `webhook`, with what was sent, so a test can send it again. */
export interface WebhookRecord {
  predictionId: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  /** The receiver's answer; 0 when it was dropped or the post failed. */
  status: number;
  dropped: boolean;
}

export class WebhookSender {
  /** Completion webhooks posted or dropped, in order. */
  readonly records: WebhookRecord[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly predictions: PredictionStore,
    /** The signing secret (`whsec_…`). */
    readonly secret: string,
    public delivery: WebhookDelivery,
  ) {}

  /**
   * Signs a delivery the Standard Webhooks way (written here apart from the bot's own check): base64 HMAC-SHA256
   * of `${id}.${timestamp}.${body}` keyed with the secret's base64 part.
   */
  sign(body: string, webhookId: string, timestamp: number, secret = this.secret): Record<string, string> {
    const key = Buffer.from(secret.slice("whsec_".length), "base64");
    const mac = createHmac("sha256", key).update(`${webhookId}.${timestamp}.${body}`).digest("base64");
    return {
      "content-type": "application/json",
      "webhook-id": webhookId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": `v1,${mac}`,
    };
  }

  /** Posts the completion to the create's webhook once the prediction has ended (held results wait). */
  schedule(id: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const prediction = this.predictions.get(id);
      if (this.closed || !prediction?.webhook) return;
      const view = this.predictions.view(prediction);
      if (view.status === "starting" || view.status === "processing") return this.schedule(id, 25);
      void this.send(prediction.webhook, id, JSON.stringify(view));
    }, delayMs);
    this.timers.add(timer);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
  }

  private async send(url: string, predictionId: string, body: string): Promise<void> {
    const secret =
      this.delivery === "bad_signature" ? `whsec_${randomBytes(24).toString("base64")}` : this.secret;
    const headers = this.sign(
      body,
      `msg_${randomBytes(12).toString("hex")}`,
      Math.floor(Date.now() / 1000),
      secret,
    );
    const entry: WebhookRecord = {
      predictionId,
      url,
      headers,
      body,
      at: Date.now(),
      status: 0,
      dropped: false,
    };
    this.records.push(entry);
    if (this.delivery === "drop") {
      entry.dropped = true;
      return;
    }
    try {
      const res = await fetch(url, { method: "POST", headers, body });
      entry.status = res.status;
      await res.arrayBuffer();
    } catch {
      entry.status = 0;
    }
  }
}
