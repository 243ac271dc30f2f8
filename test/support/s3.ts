// A real S3-compatible server for the tests: s3rver on 127.0.0.1 (a free port), its objects in a temp
// directory, with one bucket. The bot's S3 backend talks to it through @aws-sdk/client-s3 as it would to AWS.

import { randomBytes } from "node:crypto";
import { makeTempDir } from "./env.ts";
import { startS3rver } from "./local-s3rver.ts";

export const S3_BUCKET = "crbot-test";
/** s3rver's one account; the SDK's default chain reads these from the environment, as it would in production. */
export const S3_ACCESS_KEY = "S3RVER";
export const S3_SECRET_KEY = "S3RVER";

export interface LocalS3 {
  endpoint: string;
  /** The variables that point the bot at the bucket under a prefix of its own (one per call). */
  env(prefix?: string): Record<string, string>;
  /** What a child process needs: `env()` and the credentials. */
  processEnv(prefix?: string): Record<string, string>;
  /** Stops the server (an outage, when called during a test); calling it again does nothing. */
  close(): Promise<void>;
}

export async function startS3(): Promise<LocalS3> {
  const dir = makeTempDir("crbot-s3-");
  const { server, endpoint } = await startS3rver(dir.path, S3_BUCKET);
  let closed = false;
  process.env.AWS_ACCESS_KEY_ID = S3_ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = S3_SECRET_KEY;
  // The pinned SDK runs on Node 20; its notice about later releases is noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const env = (prefix = `t-${randomBytes(4).toString("hex")}`) => ({
    STORAGE_URL: `s3://${S3_BUCKET}/${prefix}`,
    S3_ENDPOINT: endpoint,
    S3_REGION: "us-east-1",
    S3_FORCE_PATH_STYLE: "true",
  });
  return {
    endpoint,
    env,
    processEnv: (prefix) => ({
      ...env(prefix),
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
    }),
    async close() {
      if (closed) return;
      closed = true;
      server.httpServer.closeAllConnections();
      await server.close();
      dir.remove();
    },
  };
}
