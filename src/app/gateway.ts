// The running bot: a discord.js client with only the Guilds intent, wired to the interaction router.
import { Client, Events, GatewayIntentBits, type REST, Status } from "discord.js";
import { commands } from "../discord/commands/index.ts";
import { guildsAtConnect, watchGuildMembership } from "../discord/flows/guild-membership.ts";
import { finishUnfinishedErasures } from "../discord/flows/privacy-delete.ts";
import { queuedJobHandlers } from "../discord/flows/queued-jobs.ts";
import { finishPendingRemovals } from "../discord/flows/removals.ts";
import { resumeUnfinishedJobs } from "../discord/flows/resume.ts";
import { restOptionsFor } from "../discord/kit/rest.ts";
import { InteractionRouter } from "../discord/router.ts";
import type { AppContext } from "../features/context.ts";
import { recoverBeforeWork, StopSequence, startRetention, watchRest } from "./lifecycle.ts";

export interface RunningBot {
  client: Client<true>;
  router: InteractionRouter;
  /**
   * Whether every gateway shard this process owns is connected now (for /readyz); false while one reconnects or
   * is gone.
   */
  gatewayReady(): boolean;
  /**
   * Graceful stop: no new work, waits cut short (their jobs stay resumable), writes finished, `beforeClose`,
   * database closed.
   */
  stop(beforeClose?: () => Promise<void>): Promise<void>;
}

export async function startBot(ctx: AppContext): Promise<RunningBot> {
  const { config, logger } = ctx;
  if (!config.discord.token) throw new Error("DISCORD_TOKEN is required to run the bot");
  await recoverBeforeWork(ctx);
  const client = createClient(ctx);
  const router = new InteractionRouter(ctx, commands);
  client.on(Events.InteractionCreate, (interaction) => router.handle(interaction));
  client.on(Events.Error, (err) => logger.error({ err }, "discord client error"));
  client.on(Events.Warn, (message) => logger.warn({ message }, "discord client warning"));
  watchGuildMembership(ctx, client);
  watchRest(ctx, client.rest);
  const readyClient = await logIn(ctx, client, config.discord.token);

  await guildsAtConnect(ctx, readyClient);
  await takeUpWork(ctx, readyClient.rest, router);

  const stopping = new StopSequence(ctx, {
    announce: () => logger.info({ pending: router.pending }, "stopping: no new work"),
    drain: () => router.drain(10_000),
    disconnect: () => client.destroy(),
  });
  return {
    client: readyClient,
    router,
    gatewayReady: () => everyShardReady(readyClient),
    stop: (beforeClose) => stopping.stop(beforeClose),
  };
}

/**
 * What a process that answers interactions takes up once it can reach Discord (over the gateway or HTTP): the
 * jobs the last run left, the message edits and erasures a crash cut short, and, for ROLE=all on the shared
 * queue, the fleet's jobs too.
 */
export async function takeUpWork(ctx: AppContext, rest: REST, router: InteractionRouter): Promise<void> {
  for (const job of await resumeUnfinishedJobs(ctx, rest)) router.track(job);
  // Grids and video messages that still show what a deletion removed before the last run stopped.
  router.track(finishPendingRemovals(ctx, rest));
  // Erasures (/privacy delete) a crash cut short: their files went in recovery; uploads, predictions, messages now.
  router.track(finishUnfinishedErasures(ctx, rest));
  startRetention(ctx, rest);
  if (ctx.jobs && ctx.config.role === "all") ctx.jobs.startWorkers(queuedJobHandlers(ctx, rest));
}

function createClient(ctx: AppContext): Client {
  const { shards } = ctx.config.discord;
  // discord.js also reads SHARD_COUNT from the environment when no count is given (its ShardingManager's
  // convention), and takes an empty one, as .env.example has it, for 0 shards. The configuration has read it
  // already and is the only source of the count (sandbox mode sets its own).
  delete process.env.SHARD_COUNT;
  return new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: restOptionsFor(ctx),
    allowedMentions: { parse: [] },
    // SHARD_COUNT alone: every shard in this process; with SHARD_IDS, only those (another process has the rest).
    ...(shards ? { shardCount: shards.count, ...(shards.ids ? { shards: shards.ids } : {}) } : {}),
  });
}

/** Logs in and waits for every shard this process owns to be ready. */
async function logIn(ctx: AppContext, client: Client, token: string): Promise<Client<true>> {
  const ready = new Promise<Client<true>>((resolve) => client.once(Events.ClientReady, resolve));
  await client.login(token);
  const readyClient = await ready;
  ctx.logger.info(
    {
      user: readyClient.user.tag,
      applicationId: readyClient.application.id,
      guilds: readyClient.guilds.cache.size,
      shards: readyClient.ws.shards.map((shard) => shard.id),
      shardCount: readyClient.options.shardCount,
    },
    "logged in to Discord",
  );
  return readyClient;
}

/** The manager's own status stays Ready once reached; each shard's says whether it is connected now. */
function everyShardReady(client: Client<true>): boolean {
  return client.ws.shards.size > 0 && client.ws.shards.every((shard) => shard.status === Status.Ready);
}
