// The image panel in fleet mode: a gateway takes the press, a worker on the shared queue runs the upscale and the
// sheet as it runs any image slot (the same job kind), on the real Redis, PostgreSQL and s3rver.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { StoredMessage } from "../../../src/sandbox/server.ts";
import { cleanUpAfterEach, finalGrid, generationIdOf, setup, start } from "../../app/fleet-rig.ts";
import { ALICE, buttons } from "../../support/bot-harness.ts";

cleanUpAfterEach();

describe("the image panel with ROLE=gateway and ROLE=worker", () => {
  it("runs an upscale and a sheet on a worker, from the picked image's exact bytes", async () => {
    const { sandbox: s, fake: f, store, files } = await setup(100);
    const gateway = await start("gateway");
    const worker = await start("worker");
    const grid = await finalGrid(
      s,
      s.runCommand({
        command: "character",
        options: { description: "a fleet falcon", count: 1 },
        user: ALICE,
      }),
      30_000,
    );
    const pick = s.pressButton({
      message: grid,
      customId: buttons(grid)[0]?.custom_id as string,
      user: ALICE,
    });
    const confirmation = await s.waitFor(() => s.followUps(pick)[0], 10_000, "the pick's confirmation");
    const press = (message: StoredMessage, label: string) =>
      s.pressButton({
        message,
        customId: buttons(message).find((b) => b.label === label)?.custom_id as string,
        user: ALICE,
      });

    const upscaled = await finalGrid(s, press(confirmation, "Upscale"), 30_000);
    const sheet = await finalGrid(s, press(confirmation, "Sheet"), 30_000);
    expect(upscaled.attachments).toHaveLength(1);
    expect(sheet.attachments.map((a) => a.filename)).toEqual([
      "character-1-front.png",
      "character-2-three-quarter.png",
      "character-3-side.png",
      "character-4-back.png",
    ]);
    expect(f.creates.map((c) => c.model)).toEqual([
      "google/imagen-4",
      "nightmareai/real-esrgan",
      ...Array(4).fill("google/nano-banana-2"),
    ]);
    const picked = (await store.repos.images.forGeneration(generationIdOf(grid)))[0];
    const original = await files.read(picked?.fileName as string);
    for (const create of f.creates.slice(1)) {
      const [sent] = f.imageInputs(create);
      expect(
        createHash("sha256")
          .update(sent?.data ?? "")
          .digest("hex"),
      ).toBe(picked?.sha256);
      expect(sent?.data.equals(original)).toBe(true);
    }
    for (const message of [upscaled, sheet]) {
      const generation = await store.repos.generations.get(generationIdOf(message));
      expect(generation?.parentImageId).toBe(picked?.id);
    }
    // The worker ran them; the gateway only took the presses.
    expect(worker.output()).toMatch(/"model":"nightmareai\/real-esrgan"/);
    expect(gateway.output()).not.toMatch(/"image stored"/);
  }, 90_000);
});
