// The one way tests get a fake Replicate server: started with the test token, closed after each test.
import { afterEach } from "vitest";
import { TEST_REPLICATE_TOKEN } from "./env.ts";
import { FakeReplicate, type FakeReplicateOptions } from "./fake-replicate.ts";

export interface ReplicateFixture {
  /** Starts this test's fake (50 ms predictions unless `options` say otherwise). */
  start(options?: Partial<FakeReplicateOptions>): Promise<FakeReplicate>;
  /** This test's fake; throws when none was started. */
  readonly fake: FakeReplicate;
  /** The bot's environment for the real Replicate provider pointed at this test's fake. */
  readonly env: Record<string, string>;
}

/** Registers the after-each close; call once at the top of a test file. */
export function replicateFixture(): ReplicateFixture {
  let current: FakeReplicate | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const fixture: ReplicateFixture = {
    async start(options = {}) {
      await current?.close();
      current = await FakeReplicate.start({ token: TEST_REPLICATE_TOKEN, latencyMs: 50, ...options });
      return current;
    },
    get fake() {
      if (!current) throw new Error("no fake Replicate server started in this test");
      return current;
    },
    get env() {
      return {
        IMAGE_PROVIDER: "replicate",
        REPLICATE_API_TOKEN: TEST_REPLICATE_TOKEN,
        REPLICATE_API_URL: fixture.fake.url,
      };
    },
  };
  return fixture;
}
