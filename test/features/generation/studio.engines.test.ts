// Several references per /character (each one's exact bytes reach the reference model, in order), lineage kept
// for every one of them, and Remix: a grid's description edited in a modal and drawn again.
import { createHash } from "node:crypto";
import { InteractionResponseType } from "discord-api-types/v10";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { SandboxInteraction, StoredMessage } from "../../../src/sandbox/server.ts";
import {
  ALICE,
  BOB,
  buttons,
  e2eSuite,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";

const suite = e2eSuite("studio");
const replicate = replicateFixture();

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A distinct small PNG per create, so that three references are three different files. */
async function distinctOutputs(n: number): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      sharp({
        create: { width: 64, height: 48, channels: 3, background: { r: 20 * i, g: 90, b: 255 - 9 * i } },
      })
        .png()
        .toBuffer(),
    ),
  );
}

function press(h: Harness, grid: StoredMessage, label: string, user = ALICE): SandboxInteraction {
  const button = buttons(grid).find((b) => b.label === label);
  if (!button) throw new Error(`the grid has no button ${label}`);
  return h.sandbox.pressButton({ message: grid, customId: button.custom_id, user });
}

/** Presses Remix and waits for the modal the bot answers with. */
async function openRemix(h: Harness, grid: StoredMessage): Promise<SandboxInteraction> {
  const opened = press(h, grid, "Remix");
  await h.sandbox.waitFor(() => opened.callback, 10_000, "the Remix press's answer");
  expect(opened.callback?.type).toBe(InteractionResponseType.Modal);
  return opened;
}

const info = (h: Harness, id: string, user = ALICE) =>
  h.settledReply(h.sandbox.runCommand({ command: "reference info", options: { id }, user }));

const libraryAdd = (h: Harness, reference: string, name: string) =>
  h.settledReply(
    h.sandbox.runCommand({
      command: "library add",
      options: { reference, name },
      user: MOD,
      permissions: MODERATOR_PERMISSIONS,
    }),
  );

describe("/character with several references", () => {
  it("sends each reference's exact bytes to the model in order, keeps every parent, and Remix redraws them", async () => {
    const outputs = await distinctOutputs(12);
    await replicate.start({ behaviour: (_input, index) => ({ outputImage: outputs[index] as Buffer }) });
    const h = await suite.start(replicate.env);
    type Stored = { id: string; fileName: string };
    const made: Stored[] = [];
    for (const description of ["a silver robot", "an ember fox", "a paper owl"]) {
      const image = (await h.generationOf(await h.character({ description, count: 1 }))).images[0];
      if (!image?.fileName) throw new Error("a reference was not stored");
      made.push({ id: image.id, fileName: image.fileName });
    }
    const [robot, fox, owl] = made as [Stored, Stored, Stored];
    await libraryAdd(h, robot.id, "Silver Robot");
    await libraryAdd(h, fox.id, "Ember Fox");
    const before = replicate.fake.creates.length;

    const grid = await h.grid(
      h.sandbox.runCommand({
        command: "character",
        options: {
          description: "the two of them sharing a map at a campfire",
          count: 2,
          aspect_ratio: "16:9",
          reference: "Silver Robot",
          reference2: "Ember Fox",
          reference3: owl.id,
        },
        user: ALICE,
      }),
    );
    const view = await h.generationOf(grid);
    const ids = [robot.id, fox.id, owl.id];
    expect(view.generation).toMatchObject({
      parentImageId: robot.id,
      model: "google/nano-banana-2",
      requested: 2,
      params: { aspectRatio: "16:9", referenceImageIds: ids },
    });
    expect(grid.content).toContain(
      `Drawn from references \`${robot.id}\`, \`${fox.id}\`, \`${owl.id}\` by google/nano-banana-2.`,
    );

    // Both slots sent all three, in order, and what the model reads is each stored file, byte for byte.
    const expected = await Promise.all(
      [robot, fox, owl].map(async (i) => sha256(await h.ctx.files.read(i.fileName))),
    );
    expect(new Set(expected).size).toBe(3);
    const rows = await Promise.all(ids.map((id) => h.ctx.references.imageRow(id)));
    expect(rows.map((r) => r?.sha256)).toEqual(expected);
    const creates = replicate.fake.creates.slice(before);
    expect(creates).toHaveLength(2);
    for (const create of creates) {
      expect(create.model).toBe("google/nano-banana-2");
      expect(create.input.image_input).toHaveLength(3);
      const sent = replicate.fake.imageInputs(create);
      expect(sent.map((s) => s?.via)).toEqual(["upload", "upload", "upload"]);
      expect(sent.map((s) => s && sha256(s.data))).toEqual(expected);
    }
    // Each reference uploaded once, shared by the slots.
    expect(replicate.fake.uploads.size).toBe(3);

    // Lineage: a row per parent, and /reference info names them all both ways.
    const lineage = await h.ctx.repos.generations.references(view.generation.id);
    expect(lineage.map((r) => [r.position, r.imageId])).toEqual([
      [1, robot.id],
      [2, fox.id],
      [3, owl.id],
    ]);
    const child = view.images[0]?.id as string;
    expect((await info(h, child)).content).toContain(
      `Drawn from: \`${robot.id}\`, \`${fox.id}\`, \`${owl.id}\``,
    );
    const foxInfo = (await info(h, fox.id)).content;
    expect(foxInfo).toContain("Variations made from it (1):");
    expect(foxInfo).toContain(child);

    // Another member cannot open the Remix of Alice's grid: refused privately, no modal.
    const bobs = press(h, grid, "Remix", BOB);
    const refused = await h.settledReply(bobs);
    expect(refused.visible_to).toBe(BOB.id);
    expect(refused.content).toContain(`Only <@${ALICE.id}> can use these buttons`);
    expect(bobs.callback?.type).toBe(InteractionResponseType.ChannelMessageWithSource);

    // Remix: the modal holds the description; the edited one is drawn with the same references, count, shape.
    const opened = await openRemix(h, grid);
    const modal = opened.callback?.data as {
      components: Array<{ component: { value: string; max_length: number } }>;
    };
    expect(modal.components[0]?.component).toMatchObject({
      value: "the two of them sharing a map at a campfire",
      max_length: 1000,
    });
    const uploads = replicate.fake.uploads.size;
    const remixed = await h.grid(
      h.sandbox.submitModal(opened, { description: "the two of them arguing over a map in the rain" }),
    );
    const second = await h.generationOf(remixed);
    expect(second.generation.id).not.toBe(view.generation.id);
    expect(second.generation).toMatchObject({
      prompt: "the two of them arguing over a map in the rain",
      requested: 2,
      userId: ALICE.id,
      params: { aspectRatio: "16:9", referenceImageIds: ids },
    });
    expect(remixed.attachments).toHaveLength(2);
    for (const create of replicate.fake.creates.slice(before + 2)) {
      expect(create.input.prompt).toBe("the two of them arguing over a map in the rain");
      expect(replicate.fake.imageInputs(create).map((s) => s && sha256(s.data))).toEqual(expected);
    }
    expect(replicate.fake.uploads.size).toBe(uploads + 3);

    // The fox is deleted: the lineage keeps it (marked), forgets where it was uploaded, and a Remix refuses.
    const foxRow = await h.ctx.references.imageRow(fox.id);
    if (!foxRow) throw new Error("no fox");
    await h.ctx.moderation.deleteReference(foxRow, {
      userId: MOD.id,
      guildId: h.sandbox.guild.id,
      canModerate: true,
    });
    const kept = await h.ctx.repos.generations.references(second.generation.id);
    expect(kept.map((r) => r.imageId)).toEqual(ids);
    expect(kept.map((r) => r.referenceUrl === null)).toEqual([false, true, false]);
    expect((await info(h, child)).content).toContain(`\`${fox.id}\` (deleted)`);
    const creates2 = replicate.fake.creates.length;
    const gone = await h.refusal(h.sandbox.submitModal(await openRemix(h, remixed), {}));
    expect(gone.content).toContain(`Reference \`${fox.id}\` of this grid is no longer available here`);
    expect(replicate.fake.creates).toHaveLength(creates2);
  });
});

describe("Remix refusals", () => {
  it("refuses an edited description on the blocklist, privately, with nothing recorded or charged", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "50" });
    const guildId = h.sandbox.guild.id;
    await h.ctx.repos.guildSettings.save(
      { ...(await h.ctx.repos.guildSettings.get(guildId)), blocklist: ["gore"] },
      "setup",
      Date.now(),
    );
    const grid = await h.character({ description: "a calm knight", count: 2, aspect_ratio: "3:4" });
    const generations = await h.recordedRows("generations");
    const refused = await h.refusal(
      h.sandbox.submitModal(await openRemix(h, grid), { description: "a G0RE knight" }),
    );
    expect(refused.visible_to).toBe(ALICE.id);
    expect(refused.content).toContain("That description is not allowed in this server");
    expect(await h.recordedRows("generations")).toBe(generations);
    expect((await h.ctx.quota.report(ALICE.id, guildId)).user.images.used).toBe(2);
    // A harmless edit goes through, with the same count and shape and no reference.
    const remixed = await h.grid(
      h.sandbox.submitModal(await openRemix(h, grid), { description: "a calm queen" }),
    );
    const { generation } = await h.generationOf(remixed);
    expect(generation).toMatchObject({ prompt: "a calm queen", requested: 2, parentImageId: null });
    expect(generation.params.aspectRatio).toBe("3:4");
  });

  it("refuses more references than the reference model takes, privately, with nothing charged", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20", MOCK_MAX_IMAGE_INPUTS: "2" });
    const ids: string[] = [];
    for (const description of ["one", "two", "three"]) {
      ids.push((await h.generationOf(await h.character({ description, count: 1 }))).images[0]?.id as string);
    }
    const generations = await h.recordedRows("generations");
    const refused = await h.refusal(
      h.sandbox.runCommand({
        command: "character",
        options: {
          description: "all three",
          reference: ids[0] as string,
          reference2: ids[1] as string,
          reference3: ids[2] as string,
        },
        user: ALICE,
      }),
    );
    expect(refused.visible_to).toBe(ALICE.id);
    expect(refused.content).toContain("takes at most 2 reference images, and this request has 3");
    expect(refused.content).toContain("nothing was charged");
    expect(await h.recordedRows("generations")).toBe(generations);
    expect((await h.ctx.quota.report(ALICE.id, h.sandbox.guild.id)).user.images.used).toBe(3);
    // Two fit.
    const grid = await h.grid(
      h.sandbox.runCommand({
        command: "character",
        options: {
          description: "two of them",
          count: 1,
          reference: ids[0] as string,
          reference2: ids[1] as string,
        },
        user: ALICE,
      }),
    );
    expect((await h.generationOf(grid)).generation.params.referenceImageIds).toEqual(ids.slice(0, 2));
  });
});
