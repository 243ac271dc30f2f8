// Status checks due together: one list request answers many, a few are asked for one by one, and whatever the
// list cannot answer (off its first page, or a failed list) is still asked for on its own. The real Replicate
// client against the fake Replicate server.
import { describe, expect, it } from "vitest";
import { ReplicateImageProvider } from "../../../src/providers/replicate/image-provider.ts";
import { LIST_BATCH_MIN } from "../../../src/providers/replicate/status-checks.ts";
import { captureLogger, TEST_REPLICATE_TOKEN } from "../../support/env.ts";
import type { FakeReplicateOptions } from "../../support/fake-replicate.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";

const replicate = replicateFixture();

async function setup(fakeOptions: Partial<FakeReplicateOptions>, count: number) {
  const fake = await replicate.start(fakeOptions);
  const provider = new ReplicateImageProvider({
    token: TEST_REPLICATE_TOKEN,
    apiUrl: fake.url,
    model: "google/imagen-4",
    logger: captureLogger().logger,
    retry: { baseDelayMs: 20, maxDelayMs: 100, requestTimeoutMs: 2000 },
  });
  const ids: string[] = [];
  for (let slot = 1; slot <= count; slot++) {
    ids.push((await provider.start({ prompt: `robot ${slot}`, aspectRatio: "1:1", slot })).predictionId);
  }
  const lists = () => fake.requests.filter((r) => r.method === "GET" && r.path === "/v1/predictions");
  const singles = () =>
    fake.requests.filter((r) => r.method === "GET" && r.path.startsWith("/v1/predictions/"));
  return { fake, provider, ids, lists, singles };
}

describe("status checks due together", () => {
  it(`are answered by one list request from ${LIST_BATCH_MIN} at once, with the same states a check gives`, async () => {
    // Half of them finished (after 5 ms), half still running.
    const { provider, ids, lists, singles } = await setup(
      { behaviour: (_input, index) => ({ latencyMs: index % 2 === 0 ? 5 : 60_000 }) },
      LIST_BATCH_MIN + 1,
    );
    await new Promise((r) => setTimeout(r, 20));
    const states = await Promise.all(ids.map((id) => provider.get(id)));
    expect(lists()).toHaveLength(1);
    expect(singles()).toHaveLength(0);
    expect(states.map((s) => s.status)).toEqual(ids.map((_, i) => (i % 2 === 0 ? "succeeded" : "running")));
    const first = states[0];
    expect(first?.status === "succeeded" && first.output).toContain(`/files/${ids[0]}`);
    expect(first?.status === "succeeded" && first.durationMs).toBe(5);

    // Each on its own, the answers are the same.
    const one = await Promise.all(ids.map((id) => provider.get(id).then((s) => s.status)));
    expect(one).toEqual(states.map((s) => s.status));
  });

  it("asks for fewer than that one by one, so a lone generation's checks stay its own", async () => {
    const { provider, ids, lists, singles } = await setup({ latencyMs: 0 }, LIST_BATCH_MIN - 1);
    const states = await Promise.all(ids.map((id) => provider.get(id)));
    expect(states.every((s) => s.status === "succeeded")).toBe(true);
    expect(lists()).toHaveLength(0);
    expect(singles()).toHaveLength(LIST_BATCH_MIN - 1);
  });

  it("asks on its own for a prediction off the list's first page, and for each when the list fails", async () => {
    const { fake, provider, ids, lists, singles } = await setup(
      { latencyMs: 0, listPageSize: LIST_BATCH_MIN - 1 },
      LIST_BATCH_MIN + 1,
    );
    // Newest first: the two oldest are not on the first page.
    const states = await Promise.all(ids.map((id) => provider.get(id)));
    expect(states.every((s) => s.status === "succeeded")).toBe(true);
    expect(lists()).toHaveLength(1);
    expect(singles().map((r) => r.path)).toEqual(ids.slice(0, 2).map((id) => `/v1/predictions/${id}`));

    fake.inject({ method: "GET", pathPrefix: "/v1/predictions", status: 400 });
    const again = await Promise.all(ids.map((id) => provider.get(id)));
    expect(again.every((s) => s.status === "succeeded")).toBe(true);
    expect(lists()).toHaveLength(2);
    expect(singles()).toHaveLength(2 + ids.length);
  });
});
