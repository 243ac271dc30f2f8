// Runs test/storage/crash-mid-deletion.ts, which makes an image and a video, deletes the image and SIGKILLs
// itself at the first file removal, and returns the rows it reported.
import { expect } from "vitest";
import type { ImageRow } from "../../src/storage/images-repo.ts";
import type { VideoRow } from "../../src/storage/videos-repo.ts";
import { spawnScript } from "./spawn.ts";

export async function crashMidDeletion(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<{ image: ImageRow; kept: ImageRow; video: VideoRow }> {
  const child = spawnScript("test/storage/crash-mid-deletion.ts", {
    DATA_DIR: dataDir,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...env,
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
