// Runs test/files/crash-mid-deletion-process.ts, which makes an image and a video, deletes the image and SIGKILLs
// itself at the first file removal, and returns the rows it reported. Its rows go where the test's own do:
// engineEnv(dataDir) (the run's PostgreSQL schema and bucket prefix for the directory, or nothing on SQLite).
import { expect } from "vitest";
import type { ImageRow } from "../../src/db/repositories/images-repo.ts";
import type { VideoRow } from "../../src/db/repositories/videos-repo.ts";
import { engineEnv } from "./env.ts";
import { spawnScript } from "./spawn.ts";

/**
 * `files`, when given, says where the files go instead of engineEnv's (`{}`: under DATA_DIR; S3 variables: that
 * bucket); the database is always the test's.
 */
export async function crashMidDeletion(
  dataDir: string,
  files?: Record<string, string>,
): Promise<{ image: ImageRow; kept: ImageRow; video: VideoRow }> {
  const engine = engineEnv(dataDir);
  const database: Record<string, string> = engine.DATABASE_URL ? { DATABASE_URL: engine.DATABASE_URL } : {};
  const child = spawnScript("test/files/crash-mid-deletion-process.ts", {
    DATA_DIR: dataDir,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...database,
    ...(files ?? engine),
  });
  await child.exited();
  expect(child.child.signalCode, child.output()).toBe("SIGKILL");
  expect(child.output()).not.toContain("not killed");
  return JSON.parse(child.stdout().split("\n")[0] ?? "") as {
    image: ImageRow;
    kept: ImageRow;
    video: VideoRow;
  };
}
