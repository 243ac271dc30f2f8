// Run as its own process by privacy-delete.engines.test.ts: makes Alice's marked grid on DATA_DIR (its rows in
// DATA_DIR/bot.sqlite, or PostgreSQL when DATABASE_URL is set; its files there, or in S3 with STORAGE_URL),
// erases her data and is SIGKILLed at the first file removal, that is after the erasure's transaction committed
// and before any file was removed, any message edited or the journal closed. Prints what it made first.
import { createAppContext } from "../../../src/app/compose.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { createLogger } from "../../../src/kit/logger.ts";
import { generate } from "../../support/env.ts";

const config = loadConfig({
  DATA_DIR: process.env.DATA_DIR,
  DATABASE_URL: process.env.DATABASE_URL,
  STORAGE_URL: process.env.STORAGE_URL,
  S3_ENDPOINT: process.env.S3_ENDPOINT,
  S3_REGION: process.env.S3_REGION,
  S3_FORCE_PATH_STYLE: process.env.S3_FORCE_PATH_STYLE,
  IMAGE_PROVIDER: "mock",
  MOCK_LATENCY_MS: "20",
  PREDICTION_POLL_MS: "10",
  LOG_LEVEL: "warn",
});
const ctx = await createAppContext(config, createLogger({ level: "warn", pretty: false, secrets: [] }));
const userId = "500000000000000001";
const view = await generate(ctx, {
  guildId: process.env.GUILD_ID ?? "600000000000000001",
  channelId: process.env.CHANNEL_ID ?? "700000000000000001",
  userId,
  prompt: `${process.env.MARKER} knight to erase`,
  count: 2,
  aspectRatio: "1:1",
});
console.log(JSON.stringify({ files: view.images.map((i) => i.fileName), generationId: view.generation.id }));
ctx.files.remove = () => {
  process.kill(process.pid, "SIGKILL");
  return new Promise(() => {});
};
await ctx.privacy.erase(userId);
console.log("not killed");
