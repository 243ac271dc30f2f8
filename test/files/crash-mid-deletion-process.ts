// Run as its own process by object-recovery.test.ts (through test/support/crash-mid-deletion.ts): makes a
// reference and a video from it on DATA_DIR (its rows in DATA_DIR/bot.sqlite, or PostgreSQL when DATABASE_URL is
// set; its files there, or in S3 when STORAGE_URL is set), then deletes the reference and is
// SIGKILLed at the first file removal, that is after the deletion's transaction committed and before any file
// was unlinked. Prints what it made as one JSON line first.
import { createAppContext } from "../../src/app/compose.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/kit/logger.ts";
import { generate } from "../support/env.ts";

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
const viewer = { userId: "500000000000000001", guildId: "600000000000000001", canModerate: false };
const view = await generate(ctx, {
  guildId: viewer.guildId,
  channelId: "700000000000000001",
  userId: viewer.userId,
  prompt: "a knight to delete",
  count: 2,
  aspectRatio: "1:1",
});
const [image, kept] = view.images;
const lookup = await ctx.references.getImage(image?.id ?? "", viewer);
if (!lookup.ok || !kept) throw new Error("the generation stored no images");
const created = await ctx.video.create({ viewer, channelId: null, prompt: "walks", image: lookup.image });
if (!created.ok) throw new Error("the video was refused");
const video = await ctx.video.run(created.video.id);
if (video.status !== "succeeded") throw new Error(`the video ${video.status}`);

console.log(JSON.stringify({ image: lookup.image, kept, video }));
ctx.files.remove = () => {
  process.kill(process.pid, "SIGKILL");
  return new Promise(() => {});
};
await ctx.moderation.deleteReference(lookup.image, {
  userId: "500000000000000003",
  guildId: lookup.image.guildId,
});
console.log("not killed");
