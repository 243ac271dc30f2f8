// Discord REST as every process of the bot speaks it: requests made with an interaction's token in a lane of
// their own, and requests made with the bot's token under Discord's global limit (50 a second for the whole
// bot), counted fleet-wide in Redis when REDIS_URL is set.
//
// discord.js's REST client counts every request but the interaction callback against one 50/s budget per
// client, so at a hundred users at once defers and grid edits queue behind it; Discord says interaction
// endpoints (the callback and /webhooks/{application}/{interaction token}) are not bound by the global limit,
// and they keep their per-route buckets, which discord.js still honours. So the client's own global counter is
// set out of reach, and the global limit is applied here, in the request function, to bot-token requests only.
// Several processes of one bot each had their own counter; a shared one in Redis keeps the sum under the limit.
import { DefaultRestOptions, REST, type RESTOptions } from "discord.js";
import type { Redis } from "ioredis";
import type { AppContext } from "../../features/context.ts";
import { localBudget, type RequestBudget, redisBudget } from "../../kit/request-budget.ts";

/** Far above any real rate: discord.js's own global counter never holds a request back. */
const UNBOUNDED = 1_000_000;

/** The budget bot-token requests share: this process's alone, or the fleet's in Redis. */
export type GlobalBudget = RequestBudget;

/** The wait a request may spend on the budget: discord.js gives a request 15 s in all, the answer included. */
const BUDGET_WAIT_MS = 10_000;

/**
 * What one counting second may spend of a limit of `perSecond`: half. The counters reset a second after their
 * first request (fixed windows, as Redis expiry and discord.js's own counter work), so the end of one window
 * and the start of the next can fall within one rolling second; half in each keeps any rolling second within
 * the limit, as Discord counts it.
 */
export function windowPoints(perSecond: number): number {
  return Math.max(1, Math.floor(perSecond / 2));
}

/** Discord's global limit for one process: at most `perSecond` bot-token requests in any second. */
export function discordBudget(perSecond: number): GlobalBudget {
  return localBudget(windowPoints(perSecond));
}

/** Discord's global limit counted in Redis under `prefix`, shared by every process given the same one. */
export function sharedDiscordBudget(redis: Redis, prefix: string, perSecond: number): GlobalBudget {
  return redisBudget(redis, `${prefix}:discord-global`, windowPoints(perSecond));
}

/** A request made without the bot's token: an interaction callback or an interaction-token webhook. */
export function usesInteractionToken(init: { headers?: unknown }): boolean {
  const { headers } = init;
  if (!headers) return true;
  if (headers instanceof Headers) return !headers.has("authorization");
  const names = Array.isArray(headers)
    ? headers.map((entry) => String((entry as unknown[])[0]))
    : Object.keys(headers as Record<string, unknown>);
  return !names.some((name) => name.toLowerCase() === "authorization");
}

/** What the lanes report, for the metrics: a bot-token request that waited for the global budget. */
export type BudgetWaitListener = (waitedMs: number) => void;

/**
 * REST options with the two lanes: the client's global counter out of reach, and `budget` taken before every
 * bot-token request. Hand them to `new Client({ rest })` or `new REST()`.
 */
export function laneOptions(
  apiUrl: string,
  budget: GlobalBudget,
  onWait?: BudgetWaitListener,
): Partial<RESTOptions> {
  const send = DefaultRestOptions.makeRequest;
  return {
    api: apiUrl,
    globalRequestsPerSecond: UNBOUNDED,
    async makeRequest(url, init) {
      if (!usesInteractionToken(init)) {
        const asked = performance.now();
        // Past the deadline it fails as a timed-out request does, which discord.js tries again.
        await budget.take(Date.now() + BUDGET_WAIT_MS);
        const waited = performance.now() - asked;
        if (waited >= 1) onWait?.(waited);
      }
      return send(url, init);
    },
  };
}

/** The lanes for this process: Discord's global limit counted here, or fleet-wide with the shared queue's Redis. */
export function restOptionsFor(ctx: AppContext): Partial<RESTOptions> {
  const { config, jobs } = ctx;
  const perSecond = config.discordGlobalPerSecond;
  const budget =
    jobs && config.queue
      ? sharedDiscordBudget(jobs.redis, config.queue.prefix, perSecond)
      : discordBudget(perSecond);
  return laneOptions(config.discord.apiUrl, budget, () => ctx.metrics.discordRateLimitWait("bot", true));
}

/** A REST client for a process without a gateway connection (a worker): the bot's token, the same lanes. */
export function botRest(token: string, options: Partial<RESTOptions>): REST {
  return new REST(options).setToken(token);
}
