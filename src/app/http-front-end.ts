// INTERACTIONS_MODE=http: the bot without a gateway connection. Discord POSTs each interaction to /interactions
// (verified in http/routes/interactions.ts); here it becomes a discord.js interaction, built by discord.js's own
// InteractionCreate action from the raw payload, and goes to the same router as over the gateway. Its first
// answer is the HTTP response (discord/kit/http-callbacks.ts); everything after goes over REST. With nothing held
// per connection, any number of these front ends can stand behind a load balancer (ROLE=gateway), with workers
// on the shared queue, or one process does it all (ROLE=all).
import {
  type APIApplication,
  type APIUser,
  Client,
  ClientApplication,
  ClientUser,
  Events,
  Routes,
} from "discord.js";
import { commands } from "../discord/commands/index.ts";
import { HttpCallbacks, type RawInteraction } from "../discord/kit/http-callbacks.ts";
import { restOptionsFor } from "../discord/kit/rest.ts";
import { InteractionRouter } from "../discord/router.ts";
import type { AppContext } from "../features/context.ts";
import type { InteractionReceiver } from "../http/route-group.ts";
import { takeUpWork } from "./gateway.ts";
import { type RunningRole, recoverBeforeWork, StopSequence, watchRest } from "./lifecycle.ts";

type WithActions = { actions: { InteractionCreate: { handle(data: unknown): void } } };

export interface RunningHttpFrontEnd extends RunningRole {
  receiver: InteractionReceiver;
}

export async function startHttpFrontEnd(ctx: AppContext): Promise<RunningHttpFrontEnd> {
  const { config, logger } = ctx;
  const token = config.discord.token;
  if (!token) throw new Error("DISCORD_TOKEN is required to run the bot");
  await recoverBeforeWork(ctx);
  const callbacks = new HttpCallbacks(logger);
  const options = restOptionsFor(ctx);
  const client = new Client({
    intents: [],
    rest: { ...options, makeRequest: callbacks.wrap(options.makeRequest) },
    allowedMentions: { parse: [] },
  });
  client.token = token;
  client.rest.setToken(token);
  watchRest(ctx, client.rest);
  await knowSelf(client);
  const router = new InteractionRouter(ctx, commands);
  client.on(Events.InteractionCreate, (interaction) => router.handle(interaction));
  client.on(Events.Error, (err) => logger.error({ err }, "discord client error"));

  await takeUpWork(ctx, client.rest, router);
  logger.info(
    { applicationId: client.application?.id, mode: "http" },
    "taking interactions over HTTP (POST /interactions), no gateway connection",
  );

  const stopping = new StopSequence(ctx, {
    announce: () => logger.info({ pending: router.pending }, "stopping: no new work"),
    drain: () => router.drain(10_000),
    disconnect: () => client.destroy(),
  });
  return {
    receiver: {
      receive(payload: RawInteraction) {
        const answer = callbacks.answerOf(payload);
        (client as unknown as WithActions).actions.InteractionCreate.handle(payload);
        return answer;
      },
    },
    stop: (beforeClose) => stopping.stop(beforeClose),
  };
}

/** The application and bot user a gateway's READY would have given discord.js, read over REST instead. */
async function knowSelf(client: Client): Promise<void> {
  const [application, user] = await Promise.all([
    client.rest.get(Routes.currentApplication()) as Promise<APIApplication>,
    client.rest.get(Routes.user()) as Promise<APIUser>,
  ]);
  const self = client as unknown as { application: ClientApplication; user: ClientUser };
  const Application = ClientApplication as unknown as new (c: Client, d: unknown) => ClientApplication;
  const User = ClientUser as unknown as new (c: Client, d: unknown) => ClientUser;
  self.application = new Application(client, application);
  self.user = new User(client, user);
}
