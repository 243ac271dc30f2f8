// A result delivered after the interaction's 15 minutes is a channel message over the bot token: tried again
// after its message id could not be recorded, it must not be posted a second time.
import { describe, expect, it } from "vitest";
import { deliveryNonce } from "../../../src/discord/replies/reply-target.ts";
import type { StoredMessage } from "../../../src/sandbox/server.ts";
import { ALICE, buttons, e2eSuite, eventually } from "../../support/bot-harness.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";

const replicate = replicateFixture();
const suite = e2eSuite("late delivery");

describe("late delivery by channel message", () => {
  it("posts the grid once when the first attempt's record of the message id failed after the post", async () => {
    const fake = await replicate.start();
    const h = await suite.start({ ...replicate.env });
    fake.holdResults();
    h.sandbox.runCommand({
      command: "character",
      options: { description: "slow archer", count: 1 },
      user: ALICE,
    });
    const generationId = await eventually(
      async () =>
        (
          await h.ctx.data.db
            .selectFrom("images")
            .select(["generationId", "predictionId"])
            .where("predictionId", "is not", null)
            .executeTakeFirst()
        )?.generationId,
      10_000,
      "the prediction id recorded",
    );
    // The process that delivers meets an interaction 16 minutes old: the grid goes to the channel.
    await h.ctx.data.db
      .updateTable("generations")
      .set((eb) => ({ createdAt: eb("createdAt", "-", 16 * 60 * 1000) }))
      .execute();
    await h.restart();
    // In this process the message id cannot be recorded: the post goes out, its record fails, the delivery
    // fails and is left for the next start.
    const generations = h.ctx.repos.generations;
    generations.setMessageId = async () => {
      throw new Error("injected: the database refused the message id");
    };
    fake.releaseResults();
    await eventually(
      async () => h.logLines.some((l) => l.includes("could not resume generation")),
      15_000,
      "the first delivery attempt to fail",
    );
    const posted = (): StoredMessage[] =>
      h.sandbox
        .channelMessages()
        .filter((m) => m.interaction_id === undefined && m.content.startsWith(`<@${ALICE.id}>`));
    expect(posted()).toHaveLength(1);
    expect(posted()[0]?.nonce).toBe(deliveryNonce(generationId));

    // The next start tries again: the same nonce answers the message already there, which is recorded.
    await h.restart();
    await h.delivered(generationId);
    const [grid, ...more] = posted();
    expect(more).toEqual([]);
    expect(buttons(grid as StoredMessage).some((b) => b.label === "Regenerate")).toBe(true);
    expect(grid?.attachments.map((a) => a.filename)).toEqual(["character-1.png"]);
    expect((await h.ctx.generation.view(generationId))?.generation.messageId).toBe(grid?.id);
  });
});
