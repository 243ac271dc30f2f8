// The real generation service on a temp directory, driving a real Replicate provider (real client, the bot's
// own retrying fetch) against the fake Replicate server, with timings short enough for tests.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { createAppContext } from "../../../src/app/compose.ts";
import type { AppContext } from "../../../src/features/context.ts";
import {
  type GenerationRequest,
  GenerationService,
} from "../../../src/features/generation/generation-service.ts";
import { createLogger } from "../../../src/kit/logger.ts";
import {
  ReplicateImageProvider,
  type ReplicateProviderOptions,
} from "../../../src/providers/replicate/image-provider.ts";
import { makeTempDir, TEST_REPLICATE_TOKEN, type TempDir, testConfig } from "../../support/env.ts";
import { FakeReplicate, type FakeReplicateOptions } from "../../support/fake-replicate.ts";

export const REQUEST: GenerationRequest = {
  guildId: "100000000000000001",
  channelId: "200000000000000001",
  userId: "300000000000000001",
  prompt: "silver robot with blue eyes",
  count: 1,
  aspectRatio: "1:1",
};

export interface Rig {
  fake: FakeReplicate;
  app: AppContext;
  dir: TempDir;
  provider: ReplicateImageProvider;
  generation: GenerationService;
  lines: string[];
  /** Resolves with the first log line containing `text` that is written from now on. */
  nextLine(text: string): Promise<string>;
  close(): Promise<void>;
}

export async function startRig(
  fakeOptions: Partial<FakeReplicateOptions> = {},
  providerOptions: Partial<ReplicateProviderOptions> = {},
  env: Record<string, string> = {},
): Promise<Rig> {
  const fake = await FakeReplicate.start({ token: TEST_REPLICATE_TOKEN, latencyMs: 50, ...fakeOptions });
  const dir = makeTempDir();
  const lines: string[] = [];
  const watchers: Array<{ text: string; resolve: (line: string) => void }> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) {
        lines.push(line);
        for (const w of watchers.filter((w) => line.includes(w.text))) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve(line);
        }
      }
      done();
    },
  });
  const logger = createLogger({
    level: "debug",
    secrets: [TEST_REPLICATE_TOKEN],
    pretty: false,
    destination,
  });
  const app = await createAppContext(testConfig(dir.path, { REPLICATE_API_URL: fake.url, ...env }), logger);
  const provider = new ReplicateImageProvider({
    token: TEST_REPLICATE_TOKEN,
    apiUrl: fake.url,
    model: "google/imagen-4",
    logger,
    outputOrigins: app.config.replicate.outputOrigins,
    retry: { baseDelayMs: 20, maxDelayMs: 100, requestTimeoutMs: 2000 },
    reconcileDelaysMs: [0],
    listedWithinMs: 0,
    ...providerOptions,
  });
  const generation = new GenerationService({
    data: app.data,
    ...app.repos,
    files: app.files,
    provider,
    model: () => provider.model,
    limiter: app.limiter,
    clock: app.clock,
    logger,
    pollMs: 10,
    timeoutMs: 20_000,
  });
  return {
    fake,
    app,
    dir,
    provider,
    generation,
    lines,
    nextLine: (text) => new Promise((resolve) => watchers.push({ text, resolve })),
    async close() {
      generation.stop();
      await app.close();
      await fake.close();
      dir.remove();
    },
  };
}

/** A plain local HTTP server that counts what it is asked and answers every request with `body`. */
export async function startOtherServer(
  body: Buffer,
): Promise<{ origin: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "/");
    res.writeHead(200, { "Content-Type": "image/png", "Content-Length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
