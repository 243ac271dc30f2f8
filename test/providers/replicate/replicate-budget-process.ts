// One of the processes of test/providers/replicate/replicate-budget.fleet.test.ts: builds the bot's providers as a worker does
// (createAppContext: the status budget shared in Redis with REDIS_URL, its own without), starts two
// predictions, says "ready", waits for the go file, then checks their status CHECKS times, one check at a time
// (each a request of its own), and prints "done".
import { existsSync } from "node:fs";
import { createAppContext } from "../../../src/app/compose.ts";
import { jobQueueOrExit } from "../../../src/app/startup.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { createLogger } from "../../../src/kit/logger.ts";

const env = process.env;
const config = loadConfig(env);
const logger = createLogger({ level: "warn", secrets: [], pretty: false });
const jobs = await jobQueueOrExit(config, logger);
const ctx = await createAppContext(config, logger, jobs ? { jobs } : {});
const provider = ctx.imageProvider;
const started = await Promise.all(
  [1, 2].map((slot) => provider.start({ prompt: `budget ${process.pid}`, aspectRatio: "1:1", slot })),
);

console.log("ready");
while (!existsSync(env.GO_FILE ?? "")) await new Promise((r) => setTimeout(r, 2));
for (let i = 0; i < Number(env.CHECKS); i++) {
  const state = await provider.get((started[i % 2] as { predictionId: string }).predictionId);
  if (state.status !== "running") throw new Error(`unexpected ${state.status}`);
}
console.log("done");
await ctx.close();
process.exit(0);
