// /reference info's lineage at scale and by viewer: an image drawn from many times still answers within
// Discord's limits, and a member sees only what they made from a library image unless they moderate.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { SandboxUser } from "../../../src/sandbox/server.ts";
import { ALICE, BOB, e2eSuite, type Harness, MOD, MODERATOR_PERMISSIONS } from "../../support/bot-harness.ts";

const suite = e2eSuite("lineage");

/** A prompt as long as /character takes, full of characters that markdown escaping doubles. */
const longPrompt = (word: string) => `${word} ${"*_~|".repeat(250)}`.slice(0, 1000);

async function command(
  h: Harness,
  name: string,
  options: Record<string, string | number>,
  user: SandboxUser = ALICE,
  permissions?: bigint,
) {
  return h.settledReply(
    h.sandbox.runCommand({ command: name, options, user, ...(permissions ? { permissions } : {}) }),
    (m) => !m.content.includes("elapsed") && !m.content.includes("Drawing"),
  );
}

/** A finished variation of `parentId` with four stored images, recorded as the bot records one. */
async function recordVariation(h: Harness, parentId: string, n: number): Promise<string[]> {
  const { generations, images } = h.ctx.repos;
  const id = randomUUID();
  const slots = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const at = Date.now() + n;
  await generations.insertWithSlots(
    {
      id,
      guildId: h.sandbox.guild.id,
      channelId: h.sandbox.channel.id,
      userId: ALICE.id,
      interactionId: null,
      interactionToken: null,
      applicationId: null,
      prompt: longPrompt(`variation ${n}`),
      params: { aspectRatio: "1:1" },
      model: "google/nano-banana-2",
      requested: 4,
      createdAt: at,
      parentImageId: parentId,
    },
    slots,
  );
  for (const slot of slots) {
    const file = { fileName: `${slot}.png`, mime: "image/png", bytes: 1, width: 1, height: 1, sha256: "0" };
    await images.markSucceeded(slot, file, at);
  }
  await generations.finish(id, "succeeded", at);
  await generations.markDelivered(id, at);
  return slots;
}

/** A video made from `imageId` that could not be made, recorded (and delivered) as the bot records one. */
async function recordVideo(h: Harness, imageId: string, generationId: string, n: number): Promise<string> {
  const { videos } = h.ctx.repos;
  const id = randomUUID();
  await videos.insert({
    id,
    referenceImageId: imageId,
    generationId,
    guildId: h.sandbox.guild.id,
    channelId: h.sandbox.channel.id,
    userId: ALICE.id,
    prompt: longPrompt(`video ${n}`),
    model: "minimax/video-01",
    params: "{}",
    interactionId: null,
    interactionToken: null,
    applicationId: null,
    createdAt: Date.now() + n,
  });
  await videos.markFailed(id, "provider_error", "made up for the test", Date.now());
  await videos.markDelivered(id, Date.now());
  return id;
}

describe("/reference info's lineage", () => {
  it("answers within Discord's limits for an image with 12 videos and 4 variations, with …and N more", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const grid = await h.character({ description: longPrompt("a tin soldier"), count: 1 });
    const image = (await h.generationOf(grid)).images[0];
    if (!image) throw new Error("no image");
    for (let n = 0; n < 4; n++) await recordVariation(h, image.id, n);
    for (let n = 0; n < 12; n++) await recordVideo(h, image.id, image.generationId, n);

    for (const sub of ["reference info", "reference show"]) {
      const reply = await command(h, sub, { id: image.id });
      expect(reply.content).not.toContain("Something went wrong");
      expect(reply.content.length).toBeLessThanOrEqual(2000);
      expect(reply.content).toContain(`**Reference \`${image.id}\`**`);
      expect(reply.content).toContain("Variations made from it (4):");
      expect(reply.content).toContain("Videos (12):");
      expect(reply.content).toMatch(/…and \d+ more/);
    }
  });

  it("lists another member's videos and variations of a library image to a moderator, not to its owner", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const grid = await h.character({ description: "a copper owl", count: 1 });
    const image = (await h.generationOf(grid)).images[0];
    if (!image) throw new Error("no image");
    const added = await command(
      h,
      "library add",
      { reference: image.id, name: "Owl" },
      MOD,
      MODERATOR_PERMISSIONS,
    );
    expect(added.content).toContain("to the library as **Owl**");

    // Bob uses the library's name: a video and a variation of Alice's image, with his own prompts.
    const video = await command(h, "video", { prompt: "bob's secret flight", reference: "Owl" }, BOB);
    const bobsVideo = (await h.ctx.video.forImage(image.id)).find((v) => v.userId === BOB.id);
    expect(video.content).toContain(bobsVideo?.id);
    const varied = await h.grid(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "bob's secret owl", count: 1, reference: "Owl" },
        user: BOB,
      }),
    );
    const bobsVariation = await h.generationOf(varied);
    expect(bobsVariation.generation).toMatchObject({ userId: BOB.id, parentImageId: image.id });
    const bobsImage = bobsVariation.images[0];

    // Alice made one video of her own: she sees it, and nothing of Bob's.
    const own = await command(h, "video", { prompt: "alice's own flight", reference: image.id }, ALICE);
    const alicesVideo = (await h.ctx.video.forImage(image.id)).find((v) => v.userId === ALICE.id);
    expect(own.content).toContain(alicesVideo?.id);
    const owners = await command(h, "reference info", { id: image.id }, ALICE);
    expect(owners.content).toContain("Videos (1):");
    expect(owners.content).toContain(alicesVideo?.id);
    expect(owners.content).toContain("Variations made from it: none yet");
    for (const hidden of [bobsVideo?.id, bobsImage?.id, "bob's secret"]) {
      expect(owners.content).not.toContain(hidden);
    }

    const moderators = await command(h, "reference info", { id: image.id }, MOD, MODERATOR_PERMISSIONS);
    expect(moderators.content).toContain("Videos (2):");
    expect(moderators.content).toContain("Variations made from it (1):");
    for (const shown of [bobsVideo?.id, bobsImage?.id, alicesVideo?.id, "bob's secret flight"]) {
      expect(moderators.content).toContain(shown);
    }
  });
});
