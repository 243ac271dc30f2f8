import { describe, expect, it } from "vitest";
import { IMAGE_MODEL_IDS, safetyFilterKind } from "../../../src/providers/image-models.ts";
import { e2eSuite, type Harness, MOD, MODERATOR_PERMISSIONS } from "../../support/bot-harness.ts";
import { TEST_REPLICATE_TOKEN } from "../../support/env.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";
import { PUBLISHED_INPUTS } from "../../support/replicate-models.ts";

const suite = e2eSuite("safety");
const replicate = replicateFixture();

/** Manage Server on top of Manage Messages: what /settings needs. */
const ADMIN = MODERATOR_PERMISSIONS | (1n << 5n);

const settings = (h: Harness, sub: string, options: Record<string, string> = {}) =>
  h.settledReply(
    h.sandbox.runCommand({ command: `settings ${sub}`, options, user: MOD, permissions: ADMIN }),
  );
const character = (h: Harness, description: string, count = 2) => h.character({ description, count });

async function startOnFake(env: Record<string, string>, missingModels: string[] = []): Promise<Harness> {
  await replicate.start({ missingModels });
  return suite.start({ ...replicate.env, ...env });
}

const NOTICE = "🛡️ This server's safety level";

describe("safety settings that mean what they say", () => {
  it("knows which models take a safety level, from the schemas Replicate publishes", () => {
    for (const model of IMAGE_MODEL_IDS) {
      const declares = PUBLISHED_INPUTS[model]?.includes("safety_filter_level");
      expect(safetyFilterKind(model), model).toBe(declares ? "adjustable" : "fixed");
    }
    expect(safetyFilterKind("google/nano-banana")).toBe("fixed");
    expect(safetyFilterKind("google/nano-banana-2")).toBe("fixed");
    expect(safetyFilterKind("mock/character-sketch")).toBe("none");
  });

  it("a strict server with a fixed-filter model: the grid says plainly that Google's own filter applied", async () => {
    const h = await startOnFake({ IMAGE_MODEL: "google/nano-banana-2", IMAGE_FALLBACK_MODEL: "" });

    // Before the server chooses a level, nothing was asked that the model could not do: no notice.
    const before = await settings(h, "view");
    expect(before.content).toContain("Safety filter: block_medium_and_above (default)");
    expect(before.content).toContain(
      "• google/nano-banana-2 (in use): cannot apply block_medium_and_above: it always uses Google's own fixed filter",
    );
    expect((await character(h, "unset server")).content).not.toContain(NOTICE);

    const saved = await settings(h, "safety", { level: "block_low_and_above" });
    expect(saved.visible_to).toBe(MOD.id);
    expect(saved.content).toContain("Safety filter: block_low_and_above");
    expect(saved.content).toContain(
      "• google/nano-banana-2 (in use): cannot apply block_low_and_above: it always uses Google's own fixed filter, which no setting changes",
    );

    const grid = await character(h, "a knight in armour");
    expect(grid.attachments).toHaveLength(2);
    expect(grid.content).toContain(
      "🛡️ This server's safety level block_low_and_above does not apply to images from google/nano-banana-2: google/nano-banana-2 always uses Google's own fixed filter, which no setting changes.",
    );
    // The statement stays when the grid is re-rendered for a pick.
    await h.pick(grid, 1);
    const picked = await h.sandbox.waitFor(
      () => {
        const m = h.sandbox.messages.get(grid.id);
        return m?.content.includes("Picked image 1") ? m : undefined;
      },
      10_000,
      "the grid marked with the pick",
    );
    expect(picked.content).toContain(`${NOTICE} block_low_and_above does not apply`);

    // The model was never sent a field it does not declare.
    expect(replicate.fake.creates.length).toBe(4);
    expect(replicate.fake.creates.every((c) => c.model === "google/nano-banana-2")).toBe(true);
    expect(replicate.fake.creates.some((c) => "safety_filter_level" in c.input)).toBe(false);
    expect(replicate.fake.rejectedInputs).toEqual([]);
    expect(h.logLines.join("\n")).not.toContain(TEST_REPLICATE_TOKEN);
  });

  it("Imagen applies the server's level; after Replicate retires it, view and grid name the fallback's fixed filter", async () => {
    const missing: string[] = [];
    const h = await startOnFake(
      { IMAGE_MODEL: "google/imagen-4", IMAGE_FALLBACK_MODEL: "google/nano-banana-2" },
      missing,
    );
    await settings(h, "safety", { level: "block_low_and_above" });
    const view = await settings(h, "view");
    expect(view.content).toContain("• google/imagen-4 (in use): applies block_low_and_above");
    expect(view.content).toContain(
      "• google/nano-banana-2 (used if Replicate retires google/imagen-4): cannot apply block_low_and_above",
    );

    const applied = await character(h, "a wizard");
    expect(applied.content).not.toContain(NOTICE);
    expect(replicate.fake.creates.map((c) => [c.model, c.input.safety_filter_level])).toEqual([
      ["google/imagen-4", "block_low_and_above"],
      ["google/imagen-4", "block_low_and_above"],
    ]);

    missing.push("google/imagen-4");
    const fellBack = await character(h, "a wizard again");
    expect(fellBack.attachments).toHaveLength(2);
    expect(fellBack.content).toContain(
      `${NOTICE} block_low_and_above does not apply to images from google/nano-banana-2`,
    );
    const after = await settings(h, "view");
    expect(after.content).toContain("• google/nano-banana-2 (in use): cannot apply block_low_and_above");
    expect(after.content).not.toContain("google/imagen-4");

    // An empty level goes back to the default: nothing chosen, nothing to state on the grid.
    expect((await settings(h, "safety")).content).toContain(
      "safety filter back to the default (block_medium_and_above)",
    );
    expect((await character(h, "a wizard, third")).content).not.toContain(NOTICE);
    expect(replicate.fake.rejectedInputs).toEqual([]);
  });

  it("with the offline mock, /settings says it filters nothing and the grid says the level did not apply", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const saved = await settings(h, "safety", { level: "block_only_high" });
    expect(saved.content).toContain(
      "• mock/character-sketch (in use): offline placeholder images, no safety filter",
    );
    expect((await character(h, "a ranger", 1)).content).toContain(
      `${NOTICE} block_only_high does not apply to images from mock/character-sketch: mock/character-sketch draws offline placeholders with no filter.`,
    );
  });
});
