// Languages on the fleet's shared queue: a gateway takes a Japanese member's /character in a German server and a
// worker process, which never saw the interaction, draws the images and delivers the grid. The worker writes it
// in the languages stored on the generation's row: German for the channel; the member's own replies stay
// Japanese. Real Redis, PostgreSQL and s3rver, the bot as `npm start` runs it.
import { describe, expect, it } from "vitest";
import type { SandboxUser } from "../../src/sandbox/server.ts";
import { cleanUpAfterEach, generationIdOf, setup, start } from "../app/fleet-rig.ts";
import { buttons } from "../support/bot-harness.ts";
import { expectGermanGrid } from "../support/german-grid.ts";

cleanUpAfterEach();

const YUKI: SandboxUser = { id: "510000000000000099", username: "yuki", locale: "ja" };

describe("a worker delivering a grid", () => {
  it("writes it in the server's language stored on the row, not the worker's default", async () => {
    const { sandbox: s, store } = await setup(100);
    s.guild.locale = "de";
    const gateway = await start("gateway");
    const worker = await start("worker");

    const i = s.runCommand({
      command: "character",
      options: { description: "a fleet fox", count: 2 },
      user: YUKI,
    });
    const grid = await s.waitFor(
      () => {
        const m = s.original(i);
        return m && buttons(m).some((b) => b.label === "Neu erzeugen") ? m : undefined;
      },
      30_000,
      "the worker's grid, in German",
    );
    expectGermanGrid(grid, YUKI, "a fleet fox");
    const row = await store.repos.generations.get(generationIdOf(grid));
    expect([row?.locale, row?.publicLocale]).toEqual(["ja", "de"]);
    // The worker drew and delivered it; the gateway only took the command.
    expect(worker.output()).toMatch(/"image stored"/);
    expect(gateway.output()).not.toMatch(/"image stored"/);

    // The pick goes through the gateway: the confirmation is Yuki's, in Japanese.
    const pick = s.pressButton({
      message: grid,
      customId: buttons(grid)[0]?.custom_id as string,
      user: YUKI,
    });
    const confirmation = await s.waitFor(() => s.followUps(pick)[0], 10_000, "the pick's confirmation");
    expect(confirmation.visible_to).toBe(YUKI.id);
    expect(confirmation.content).toMatch(/^✅ 画像1をリファレンスに選びました：/);
  }, 90_000);
});
