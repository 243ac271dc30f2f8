// One of the processes of test/discord/kit/rest-budget.fleet.test.ts: builds the bot's REST client as a gateway or worker
// does (restOptionsFor: the shared budget in Redis with REDIS_URL, its own without), says "ready", waits for
// the go file, then sends BOT_REQUESTS bot-token requests and INTERACTION_REQUESTS interaction-token ones at
// once, and prints how they went as one JSON line.
import { existsSync } from "node:fs";
import { Routes } from "discord.js";
import { createAppContext } from "../../../src/app/compose.ts";
import { jobQueueOrExit } from "../../../src/app/startup.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { botRest, restOptionsFor } from "../../../src/discord/kit/rest.ts";
import { createLogger } from "../../../src/kit/logger.ts";

const env = process.env;
const config = loadConfig(env);
const logger = createLogger({ level: "warn", secrets: [], pretty: false });
const jobs = await jobQueueOrExit(config, logger);
const ctx = await createAppContext(config, logger, jobs ? { jobs } : {});
const rest = botRest(config.discord.token as string, restOptionsFor(ctx));
let limited = 0;
rest.on("rateLimited", () => limited++);

console.log("ready");
while (!existsSync(env.GO_FILE ?? "")) await new Promise((r) => setTimeout(r, 2));

const bot = Array.from({ length: Number(env.BOT_REQUESTS) }, () =>
  rest.get(Routes.currentApplication()).then(() => "ok"),
);
// An interaction token the server does not know: answered 404 at once, which is all this needs.
const interaction = Array.from({ length: Number(env.INTERACTION_REQUESTS) }, (_, i) =>
  rest
    .post(Routes.webhook(env.APPLICATION_ID as string, `unknown-interaction-token-${process.pid}-${i}`), {
      auth: false,
      body: { content: "x" },
    })
    .then(
      () => "ok",
      (err: Error) => err.name,
    ),
);
await Promise.all([...bot, ...interaction]);
console.log(`done ${JSON.stringify({ limited })}`);
await ctx.close();
process.exit(0);
