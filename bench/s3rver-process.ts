// s3rver in a process of its own, as S3 is a service of its own: its request handling (md5 of every body,
// file writes) then never shares an event loop with the benchmark's Discord server, which takes the same
// images as uploads at the same moments. Prints {"endpoint": …} once it listens; SIGTERM stops it.
import { startS3rver } from "../test/support/local-s3rver.ts";

const directory = process.env.BENCH_S3_DIR;
const bucket = process.env.BENCH_S3_BUCKET;
if (!directory || !bucket) throw new Error("BENCH_S3_DIR and BENCH_S3_BUCKET must be set");
const { server: s3, endpoint } = await startS3rver(directory, bucket);
process.stdout.write(`${JSON.stringify({ endpoint })}\n`);
process.on("SIGTERM", () => {
  s3.httpServer.closeAllConnections();
  void s3.close().finally(() => process.exit(0));
});
