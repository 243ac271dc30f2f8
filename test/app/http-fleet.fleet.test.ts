// INTERACTIONS_MODE=http in a fleet: two stateless front ends (ROLE=gateway, no gateway connection) behind a
// "load balancer" (the local Discord server sends each interaction to one or the other) and a worker, sharing
// one queue on Redis, PostgreSQL and S3. A grid made through one front end is picked through the other.
import { describe, expect, it } from "vitest";
import { ALICE, buttons } from "../support/bot-harness.ts";
import { freePort } from "../support/ports.ts";
import { cleanUpAfterEach, finalGrid, output, setup, start } from "./fleet-rig.ts";

cleanUpAfterEach();

describe("fleet: HTTP interactions", () => {
  it("serves /character through one front end and its pick through the other, jobs on the shared queue", async () => {
    const { sandbox: s, fake: f } = await setup(300);
    const frontEnd = async () => {
      const port = await freePort();
      const http = {
        INTERACTIONS_MODE: "http",
        DISCORD_PUBLIC_KEY: s.http.publicKey,
        HTTP_PORT: String(port),
      };
      await start("gateway", http);
      return `http://127.0.0.1:${port}/interactions`;
    };
    const [a, b] = [await frontEnd(), await frontEnd()];
    await start("worker");

    s.http.url = a;
    const asked = s.runCommand({
      command: "character",
      options: { description: "twin front ends", count: 2 },
      user: ALICE,
    });
    const grid = await finalGrid(s, asked, 30_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${output()}`);
    });
    expect(grid.attachments).toHaveLength(2);
    expect(f.creates).toHaveLength(2);

    s.http.url = b;
    const button = buttons(grid).find((x) => x.label === "2");
    const press = s.pressButton({ message: grid, customId: button?.custom_id ?? "", user: ALICE });
    const confirmation = await s.waitFor(() => s.followUps(press)[0], 15_000, "the pick's confirmation");
    expect(confirmation.content).toContain("Picked image 2");

    expect(s.http.deliveries.map((d) => d.status)).toEqual([200, 200]);
    // The /character request sent again, to the other front end: refused there too (the ids are in Redis).
    const replay = await s.http.post((s.http.deliveries[0] as { body: string }).body);
    expect(replay.status).toBe(401);
    expect(f.creates).toHaveLength(2);
    // Neither front end opened a gateway connection.
    expect(s.connected).toBe(false);
    expect(s.requestLog.some((r) => r.route.startsWith("/gateway"))).toBe(false);
  }, 90_000);
});
