// Feeds the REST client's own events to the metrics: every response Discord sends (by route kind and status,
// 429s with their scope), every wait the client makes for a rate limit, and how long after its creation each
// interaction was acknowledged. Listening to the client covers every call the bot makes, wherever it is made.
import { type REST, SnowflakeUtil } from "discord.js";
import { type Metrics, routeKindOf } from "../../observability/metrics.ts";

/** `/interactions/<id>/<token>/callback`: the acknowledgement of interaction `<id>`. */
const CALLBACK = /^\/interactions\/(\d+)\/[^/]+\/callback$/;

/** Interaction response types (Discord's numbers) by what they acknowledge with. */
const ACK_KINDS: Record<number, string> = {
  4: "reply",
  5: "defer",
  6: "defer",
  7: "reply",
  8: "autocomplete",
  9: "modal",
};

/**
 * `now` is the wall clock on purpose: the interaction's creation time comes from its snowflake, which Discord
 * stamps with real time, so a test's shifted bot clock would distort the latency.
 */
export function instrumentRest(rest: REST, metrics: Metrics, now: () => number = Date.now): void {
  rest.on("response", (request, response) => {
    metrics.discordResponse(
      routeKindOf(request.path),
      response.status,
      response.headers.get("x-ratelimit-scope"),
    );
    const callback = CALLBACK.exec(request.path);
    if (!callback?.[1] || !response.ok) return;
    const type = (request.data.body as { type?: unknown } | undefined)?.type;
    const createdAt = Number(SnowflakeUtil.timestampFrom(callback[1]));
    metrics.acknowledged(ACK_KINDS[Number(type)] ?? "other", (now() - createdAt) / 1000);
  });
  rest.on("rateLimited", (info) => metrics.discordRateLimitWait(routeKindOf(info.route), info.global));
}
