// The fake Replicate server as every benchmark mode runs it: a process of its own (bench/fake-replicate-process.ts),
// which prints its URL and the size of its output image as its first line once it listens.
import { type ScriptProcess, spawnScript } from "../test/support/spawn.ts";

export interface FakeReplicateProcess {
  process: ScriptProcess;
  url: string;
  origin: string;
  imageBytes: number;
}

/** Starts the fake Replicate process with `env` (its BENCH_* settings) and waits until it listens. */
export async function spawnFakeReplicate(env: Record<string, string>): Promise<FakeReplicateProcess> {
  const fake = spawnScript("bench/fake-replicate-process.ts", env);
  await fake.printed("\n", 60_000);
  const { url, imageBytes } = JSON.parse(fake.stdout().split("\n")[0] ?? "") as {
    url: string;
    imageBytes: number;
  };
  return { process: fake, url, origin: new URL(url).origin, imageBytes };
}
