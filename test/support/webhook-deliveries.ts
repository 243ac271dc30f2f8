// Bots whose operations HTTP server takes Replicate webhook deliveries, and deliveries signed for them: for
// tests of how repeats are recognised across processes and restarts.
import { randomBytes } from "node:crypto";
import { createAppContext } from "../../src/app/compose.ts";
import type { Config } from "../../src/config/load.ts";
import type { AppContext } from "../../src/features/context.ts";
import { type RunningHttpServer, startHttpServer } from "../../src/http/server.ts";
import type { Clock } from "../../src/kit/clock.ts";
import { sign } from "../../src/providers/replicate/webhooks.ts";
import type { SharedJobQueue } from "../../src/queue/job-queue.ts";
import { captureLogger } from "./env.ts";

/** The signing secret every receiver of these tests is configured with (REPLICATE_WEBHOOK_SECRET). */
export const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString("base64")}`;

export interface Receiving {
  ctx: AppContext;
  http: RunningHttpServer;
  close(): Promise<void>;
}

/** A context built from `config` (as npm start builds one) with its operations HTTP server listening. */
export async function startReceiving(
  config: Config,
  options: { clock?: Clock; jobs?: SharedJobQueue } = {},
): Promise<Receiving> {
  const ctx = await createAppContext(config, captureLogger().logger, options);
  const http = await startHttpServer({ ctx }, { port: 0, host: "127.0.0.1" });
  return {
    ctx,
    http,
    async close() {
      await http.close();
      await ctx.close();
    },
  };
}

/**
 * Posts a completion of prediction `predictionId` as Replicate would, delivery `webhookId`, signed at `atMs`;
 * resolves with the receiver's answer (`result` on 200).
 */
export async function deliver(
  to: Receiving,
  webhookId: string,
  predictionId: string,
  atMs = Date.now(),
): Promise<{ status: number; result?: string }> {
  const body = JSON.stringify({ id: predictionId, status: "succeeded", output: null });
  const timestamp = String(Math.floor(atMs / 1000));
  const signature = sign(WEBHOOK_SECRET, webhookId, timestamp, Buffer.from(body)).toString("base64");
  const res = await fetch(`${to.http.url}/webhooks/replicate`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": webhookId,
      "webhook-timestamp": timestamp,
      "webhook-signature": `v1,${signature}`,
    },
    body,
  });
  const answer = (await res.json()) as { result?: string };
  return { status: res.status, ...(answer.result ? { result: answer.result } : {}) };
}
