// One of the two bot processes of test/db/race.postgres.test.ts: builds the real application on the shared
// PostgreSQL database, says "ready", waits for the go file, then runs RACE_SCENARIO with RACE_PARALLEL
// attempts at once and prints what each attempt got as one JSON line.
import { existsSync } from "node:fs";
import { createAppContext } from "../../src/app/compose.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/kit/logger.ts";

const env = process.env;
const config = loadConfig(env);
const ctx = await createAppContext(
  config,
  createLogger({ level: config.logLevel, secrets: [], pretty: false }),
);
const parallel = Number(env.RACE_PARALLEL ?? 10);
const user = env.RACE_USER ?? "";
const guild = env.RACE_GUILD ?? null;

console.log("ready");
while (!existsSync(env.RACE_GO ?? "")) await new Promise((r) => setTimeout(r, 2));

const attempts = Array.from({ length: parallel }, (_, i) => i);
const outcomes: string[] = await Promise.all(
  attempts.map(async (): Promise<string> => {
    switch (env.RACE_SCENARIO) {
      case "admit": {
        // As /character records a request: admission and the rows in one transaction (generateAndReply).
        const created = await ctx.generation.create(
          {
            guildId: guild,
            channelId: null,
            userId: user,
            prompt: "a knight in silver armour",
            count: 1,
            aspectRatio: "1:1",
          },
          ctx.admission.admitter({
            guildId: guild,
            userId: user,
            prompt: "a knight in silver armour",
            kind: "image",
            units: 1,
          }),
        );
        return created.ok ? "admitted" : created.reason;
      }
      case "refund": {
        const jobId = env.RACE_JOB ?? "";
        await ctx.data.transaction((tx) => ctx.quota.refund(jobId, "image", 4, tx));
        return "refunded";
      }
      case "pick": {
        const picked = await ctx.references.select(env.RACE_JOB ?? "", 1, user, env.RACE_PRESS ?? "");
        return picked.ok ? "recorded" : picked.reason;
      }
      case "run": {
        const view = await ctx.generation.run(env.RACE_JOB ?? "");
        return view.generation.status;
      }
      default:
        throw new Error(`unknown RACE_SCENARIO ${env.RACE_SCENARIO}`);
    }
  }),
);
console.log(`outcomes ${JSON.stringify(outcomes)}`);
await ctx.close();
