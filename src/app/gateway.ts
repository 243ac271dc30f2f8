// The running bot: a discord.js client with only the Guilds intent, wired to the interaction router.
import { Client, Events, GatewayIntentBits, Status } from "discord.js";
import { commands } from "../discord/commands/index.ts";
import { queuedJobHandlers } from "../discord/flows/queued-jobs.ts";
import { resumeUnfinishedJobs } from "../discord/flows/resume.ts";
import { restOptionsFor } from "../discord/kit/rest.ts";
import { instrumentRest } from "../discord/kit/rest-metrics.ts";
import { InteractionRouter } from "../discord/router.ts";
import type { AppContext } from "../features/context.ts";
import { recoverFileStore } from "../files/recovery.ts";

export interface RunningBot {
  client: Client<true>;
  router: InteractionRouter;
  /**
   * Whether every gateway shard this process owns is connected now (for /readyz); false while one reconnects or
   * is gone.
   */
  gatewayReady(): boolean;
  /** Graceful stop: no new work, waits cut short (their jobs stay resumable), writes finished, database closed. */
  stop(): Promise<void>;
}

export async function startBot(ctx: AppContext): Promise<RunningBot> {
  const { config, logger } = ctx;
  if (!config.discord.token) throw new Error("DISCORD_TOKEN is required to run the bot");
  // Before any job can write: finish deletions a crash interrupted, remove orphan and temp files.
  await recoverFileStore({ repos: ctx.repos, files: ctx.files, clock: ctx.clock, logger });
  const { shards } = config.discord;
  // discord.js also reads SHARD_COUNT from the environment when no count is given (its ShardingManager's
  // convention), and takes an empty one, as .env.example has it, for 0 shards. The configuration has read it
  // already and is the only source of the count (sandbox mode sets its own).
  delete process.env.SHARD_COUNT;
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: restOptionsFor(ctx),
    allowedMentions: { parse: [] },
    // SHARD_COUNT alone: every shard in this process; with SHARD_IDS, only those (another process has the rest).
    ...(shards ? { shardCount: shards.count, ...(shards.ids ? { shards: shards.ids } : {}) } : {}),
  });
  const router = new InteractionRouter(ctx, commands);
  client.on(Events.InteractionCreate, (interaction) => router.handle(interaction));
  client.on(Events.Error, (err) => logger.error({ err }, "discord client error"));
  client.on(Events.Warn, (message) => logger.warn({ message }, "discord client warning"));
  client.rest.on("rateLimited", (info) =>
    logger.warn(
      { route: info.route, retryAfter: info.retryAfter, global: info.global },
      "rate limited by Discord",
    ),
  );
  instrumentRest(client.rest, ctx.metrics);
  const ready = new Promise<Client<true>>((resolve) => client.once(Events.ClientReady, resolve));
  await client.login(config.discord.token);
  const readyClient = await ready;
  logger.info(
    {
      user: readyClient.user.tag,
      applicationId: readyClient.application.id,
      guilds: readyClient.guilds.cache.size,
      shards: readyClient.ws.shards.map((shard) => shard.id),
      shardCount: readyClient.options.shardCount,
    },
    "logged in to Discord",
  );

  for (const job of await resumeUnfinishedJobs(ctx, readyClient.rest)) router.track(job);
  // ROLE=all on the shared queue: this process is one of the fleet's workers too.
  if (ctx.jobs && config.role === "all") ctx.jobs.startWorkers(queuedJobHandlers(ctx, readyClient.rest));

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({ pending: router.pending }, "stopping: no new work");
      const drained = router.drain(10_000);
      // Taken jobs are handed back to the queue as their waits are cut short, for another worker.
      const handedBack = ctx.jobs?.drain();
      ctx.generation.stop();
      ctx.video.stop();
      await drained;
      await handedBack;
      await client.destroy();
      await ctx.close();
      logger.info("stopped");
    })();
    return stopping;
  };
  // The manager's own status stays Ready once reached; each shard's says whether it is connected now.
  const gatewayReady = () =>
    readyClient.ws.shards.size > 0 && readyClient.ws.shards.every((shard) => shard.status === Status.Ready);
  return { client: readyClient, router, gatewayReady, stop };
}
