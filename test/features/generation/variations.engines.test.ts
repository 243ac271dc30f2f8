// Variations (Vary buttons) and /character reference: images drawn from a stored reference by the reference
// model, the image reaching the model byte for byte, with lineage, costs and refusals.
import { describe, expect, it } from "vitest";
import type { SandboxInteraction, StoredMessage } from "../../../src/sandbox/server.ts";
import {
  ALICE,
  BOB,
  buttons,
  e2eSuite,
  eventually,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";
import { PUBLISHED_INPUTS } from "../../support/replicate-models.ts";

const suite = e2eSuite("variations");
const replicate = replicateFixture();

async function onReplicate(): Promise<Harness> {
  await replicate.start();
  return suite.start(replicate.env);
}

function press(h: Harness, grid: StoredMessage, label: string, user = ALICE): SandboxInteraction {
  const button = buttons(grid).find((b) => b.label === label);
  if (!button) throw new Error(`the grid has no button ${label}`);
  return h.sandbox.pressButton({ message: grid, customId: button.custom_id, user });
}

const info = (h: Harness, id: string, user = ALICE) =>
  h.settledReply(h.sandbox.runCommand({ command: "reference info", options: { id }, user }));

describe("Vary", () => {
  it("sends exactly the chosen image's bytes to the reference model and posts a new grid with its lineage", async () => {
    const h = await onReplicate();
    const grid = await h.character({ description: "a brass automaton", count: 2 });
    const first = await h.generationOf(grid);
    expect(buttons(grid).map((b) => b.label)).toEqual(["1", "2", "Vary 1", "Vary 2", "Regenerate", "Remix"]);
    expect(replicate.fake.creates.map((c) => c.model)).toEqual(["google/imagen-4", "google/imagen-4"]);
    const chosen = first.images[1];
    if (!chosen?.fileName) throw new Error("no image 2");

    // Only the requester may vary their grid: nothing is created for anyone else.
    const refused = await h.refusal(press(h, grid, "Vary 2", BOB));
    expect(refused.content).toContain(`Only <@${ALICE.id}> can use these buttons`);
    expect(replicate.fake.creates).toHaveLength(2);

    const varied = await h.grid(press(h, grid, "Vary 2"));
    const second = await h.generationOf(varied);
    expect(second.generation).toMatchObject({
      parentImageId: chosen.id,
      prompt: "a brass automaton",
      requested: 2,
      model: "google/nano-banana-2",
      status: "succeeded",
    });
    expect(varied.id).not.toBe(grid.id);
    expect(varied.attachments).toHaveLength(2);
    expect(varied.content).toContain("· google/nano-banana-2");
    expect(varied.content).toContain(`Drawn from reference \`${chosen.id}\` by google/nano-banana-2`);

    // Both slots went to the reference model with the original prompt and the image as its only input image:
    // uploaded once to the Files API, and what the model reads there is the stored file, byte for byte.
    const creates = replicate.fake.creates.slice(2);
    expect(creates).toHaveLength(2);
    const original = await h.ctx.files.read(chosen.fileName);
    for (const create of creates) {
      expect(create.model).toBe("google/nano-banana-2");
      expect(create.input.prompt).toBe("a brass automaton");
      for (const key of Object.keys(create.input)) expect(PUBLISHED_INPUTS[create.model]).toContain(key);
      const [sent, ...more] = replicate.fake.imageInputs(create);
      expect(more).toEqual([]);
      expect(sent?.via).toBe("upload");
      expect(sent?.data.equals(original)).toBe(true);
    }
    expect(replicate.fake.uploads.size).toBe(1);

    // Lineage both ways, in /reference info.
    const child = second.images[0]?.id as string;
    expect((await info(h, child)).content).toContain(`Drawn from: \`${chosen.id}\``);
    const parentInfo = (await info(h, chosen.id)).content;
    expect(parentInfo).toContain("Variations made from it (1):");
    for (const image of second.images) expect(parentInfo).toContain(image.id);

    // The same allowance: four images today, the reference model's price in the estimate.
    const report = await h.ctx.quota.report(ALICE.id, h.sandbox.guild.id);
    expect(report.user.images.used).toBe(4);
    expect(report.user.estimatedUsd).toBeCloseTo(2 * 0.04 + 2 * 0.067, 5);
    const usage = await h.settledReply(h.sandbox.runCommand({ command: "usage", user: ALICE }));
    expect(usage.content).toContain("google/nano-banana-2 ($0.067 an image");
  });

  it("is resumed after a restart from its recorded predictions: nothing is created or uploaded twice", async () => {
    const h = await onReplicate();
    const grid = await h.character({ description: "a velvet moth", count: 2 });
    const chosen = (await h.generationOf(grid)).images[0];
    replicate.fake.holdResults();
    const vary = press(h, grid, "Vary 1");
    await eventually(async () => replicate.fake.creates.length === 4, 10_000, "the variation's creates");
    await eventually(
      async () => (await h.ctx.repos.generations.countFromParent(chosen?.id as string)) === 1,
      10_000,
      "the variation's row",
    );
    await h.restart();
    replicate.fake.releaseResults();
    const varied = await h.grid(vary);
    const view = await h.generationOf(varied);
    expect(view.generation.parentImageId).toBe(chosen?.id);
    expect(view.images.map((i) => i.status)).toEqual(["succeeded", "succeeded"]);
    expect(replicate.fake.creates).toHaveLength(4);
    expect(replicate.fake.uploads.size).toBe(1);
  });

  it("sends a small image inline as a data: URI when the Files API refuses it", async () => {
    const h = await onReplicate();
    const grid = await h.character({ description: "a paper crane", count: 1 });
    const image = (await h.generationOf(grid)).images[0];
    for (let n = 0; n < 4; n++)
      replicate.fake.inject({ method: "POST", pathPrefix: "/v1/files", status: 400 });
    const varied = await h.grid(press(h, grid, "Vary 1"));
    expect(varied.attachments).toHaveLength(1);
    const [sent] = replicate.fake.imageInputs(replicate.fake.creates.at(-1) as never);
    expect(sent?.via).toBe("data_uri");
    expect(sent?.mime).toBe("image/png");
    expect(sent?.data.equals(await h.ctx.files.read(image?.fileName as string))).toBe(true);
  });

  it("tells only the member when the reference model refuses the image, and charges nothing", async () => {
    const h = await onReplicate();
    const grid = await h.character({ description: "a cloud whale", count: 2 });
    for (let n = 0; n < 2; n++) {
      replicate.fake.inject({
        method: "POST",
        pathPrefix: "/v1/models/google/nano-banana-2/predictions",
        status: 422,
      });
    }
    const vary = press(h, grid, "Vary 1");
    const refused = await h.refusal(vary);
    expect(refused.visible_to).toBe(ALICE.id);
    expect(refused.content).toContain("google/nano-banana-2 refused reference");
    expect(refused.content).toContain("nothing was charged");
    expect((await h.ctx.quota.report(ALICE.id, h.sandbox.guild.id)).user.images.used).toBe(2);
    expect(await h.ctx.generation.undelivered()).toEqual([]);
    // The channel keeps only the first grid, and the image's lineage no refused variation.
    expect(h.sandbox.channelMessages().filter((m) => m.content.includes("a cloud whale"))).toHaveLength(1);
    const parent = (await h.generationOf(grid)).images[0]?.id as string;
    expect((await info(h, parent)).content).toContain("Variations made from it: none yet");
  });

  it("refuses a Vary of an image deleted since, and records nothing", async () => {
    const h = await onReplicate();
    const grid = await h.character({ description: "a glass owl", count: 2 });
    const image = (await h.generationOf(grid)).images[0];
    const row = await h.ctx.references.imageRow(image?.id as string);
    if (!row) throw new Error("no image");
    await h.ctx.moderation.deleteReference(row, { userId: ALICE.id, guildId: h.sandbox.guild.id });
    const generations = await h.recordedRows("generations");
    const refused = await h.refusal(press(h, grid, "Vary 1"));
    expect(refused.content).toContain("Image 1 is no longer there");
    expect(await h.recordedRows("generations")).toBe(generations);
    expect(replicate.fake.creates).toHaveLength(2);
  });
});

describe("/character reference:", () => {
  it("draws a library character with the reference model, whatever IMAGE_MODEL is, and says so", async () => {
    const h = await onReplicate();
    const bobs = (await h.generationOf(await h.character({ description: "a teal gecko", count: 1 }, BOB)))
      .images[0];
    await h.settledReply(
      h.sandbox.runCommand({
        command: "library add",
        options: { reference: bobs?.id as string, name: "Gecko" },
        user: MOD,
        permissions: MODERATOR_PERMISSIONS,
      }),
    );
    const grid = await h.grid(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "surfing a big wave", count: 2, reference: "gecko" },
        user: ALICE,
      }),
    );
    const view = await h.generationOf(grid);
    expect(view.generation).toMatchObject({
      userId: ALICE.id,
      parentImageId: bobs?.id,
      model: "google/nano-banana-2",
      prompt: "surfing a big wave",
    });
    expect(grid.content).toContain(`Drawn from reference \`${bobs?.id}\` by google/nano-banana-2`);
    const original = await h.ctx.files.read(bobs?.fileName as string);
    for (const create of replicate.fake.creates.slice(1)) {
      expect(create.model).toBe("google/nano-banana-2");
      expect(replicate.fake.imageInputs(create)[0]?.data.equals(original)).toBe(true);
    }
    // Regenerate draws from the same reference again.
    const again = await h.grid(press(h, grid, "Regenerate"));
    expect((await h.generationOf(again)).generation.parentImageId).toBe(bobs?.id);
    // Once a curator takes it out of the library, Bob's image is no longer Alice's to draw from.
    await h.settledReply(
      h.sandbox.runCommand({
        command: "library remove",
        options: { name: "Gecko" },
        user: MOD,
        permissions: MODERATOR_PERMISSIONS,
      }),
    );
    const creates = replicate.fake.creates.length;
    const refused = await h.refusal(press(h, again, "Regenerate"));
    expect(refused.content).toContain("no longer available here");
    expect(replicate.fake.creates).toHaveLength(creates);
  });

  it("refuses unknown, deleted, other members' and other servers' references with nothing written", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const bobs = (await h.generationOf(await h.character({ description: "bob's own", count: 1 }, BOB)))
      .images[0]?.id as string;
    const deleted = (await h.generationOf(await h.character({ description: "soon gone", count: 1 })))
      .images[0];
    const row = await h.ctx.references.imageRow(deleted?.id as string);
    if (!row) throw new Error("no image");
    await h.ctx.moderation.deleteReference(row, { userId: ALICE.id, guildId: h.sandbox.guild.id });
    // Alice's own image, made in another server the bot is in.
    const made = await h.ctx.generation.create({
      guildId: "100000000000000009",
      channelId: null,
      userId: ALICE.id,
      prompt: "made elsewhere",
      count: 1,
      aspectRatio: "1:1",
    });
    if (!made.ok) throw new Error("not created");
    const elsewhere = (await h.ctx.generation.run(made.generationId)).images[0]?.id as string;
    const generations = await h.recordedRows("generations");
    for (const [reference, text] of [
      ["1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", "No reference"],
      [deleted?.id as string, "No reference"],
      [bobs, "No reference"],
      [elsewhere, "No reference"],
      ["no such name", "is not a reference id or a name in this server's library"],
    ] as const satisfies ReadonlyArray<readonly [string, string]>) {
      const refused = await h.refusal(
        h.sandbox.runCommand({
          command: "character",
          options: { description: "dancing", reference },
          user: ALICE,
        }),
      );
      expect(refused.content, reference).toContain(text);
    }
    expect(await h.recordedRows("generations")).toBe(generations);
    expect((await h.ctx.quota.report(ALICE.id, h.sandbox.guild.id)).user.images.used).toBe(1);
  });

  it("works offline with the mock provider, which names its reference model", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const mine = (await h.generationOf(await h.character({ description: "a moss golem", count: 1 })))
      .images[0];
    const grid = await h.grid(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "reading a book", count: 3, reference: mine?.id as string },
        user: ALICE,
      }),
    );
    expect(grid.attachments).toHaveLength(3);
    expect(grid.content).toContain("mock/character-sketch-from-reference");
    const varied = await h.grid(press(h, grid, "Vary 3"));
    const view = await h.generationOf(varied);
    expect(view.generation.parentImageId).toBe((await h.generationOf(grid)).images[2]?.id);
    expect(view.images.map((i) => i.model)).toEqual(Array(3).fill("mock/character-sketch-from-reference"));
  });
});

describe("reference autocomplete", () => {
  it("offers recent references (prompt, age, id prefix) and library names, filtered, at most 25", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "10" });
    for (let n = 0; n < 7; n++) await h.character({ description: `knight number ${n}`, count: 4 });
    const [first] = (await h.ctx.references.listImages(ALICE.id, h.sandbox.guild.id, 1, 1)).items;
    if (!first) throw new Error("no reference");
    await h.settledReply(
      h.sandbox.runCommand({
        command: "library add",
        options: { reference: first.id, name: "Knight Captain", note: "leads the order" },
        user: MOD,
        permissions: MODERATOR_PERMISSIONS,
      }),
    );
    const choices = async (command: string, typed: string, user = ALICE) => {
      const i = h.sandbox.runCommand({
        command,
        options:
          command === "video" ? { prompt: "x", reference: typed } : { description: "x", reference: typed },
        focused: "reference",
        user,
      });
      return (await h.sandbox.waitFor(() => i.autocompleteChoices, 5000, "choices")) as Array<{
        name: string;
        value: string;
      }>;
    };
    const all = await choices("character", "");
    expect(all).toHaveLength(25);
    expect(all[0]).toEqual({
      name: "📚 Knight Captain · leads the order · library",
      value: "Knight Captain",
    });
    expect(all[1]?.name).toMatch(/^knight number 6 · just now · [0-9a-f]{8}$/);
    expect(all[1]?.name.endsWith(all[1]?.value.slice(0, 8) as string)).toBe(true);

    const filtered = await choices("video", "number 3");
    expect(filtered).toHaveLength(4);
    expect(filtered.every((c) => c.name.startsWith("knight number 3"))).toBe(true);
    const byName = await choices("video", "capt");
    expect(byName.map((c) => c.value)).toEqual(["Knight Captain"]);
    const byId = await choices("character", first.id.slice(0, 6));
    expect(byId.map((c) => c.value)).toContain(first.id);
    // Bob sees the library, not Alice's references.
    expect((await choices("character", "", BOB)).map((c) => c.value)).toEqual(["Knight Captain"]);

    // The longest name with a long note still fits Discord's 100 characters a choice (a longer one would
    // make Discord refuse the whole answer).
    const [second] = (await h.ctx.references.listImages(ALICE.id, h.sandbox.guild.id, 2, 1)).items;
    const longest = "Captain of the Northern Watchers";
    await h.settledReply(
      h.sandbox.runCommand({
        command: "library add",
        options: { reference: second?.id as string, name: longest, note: "n".repeat(60) },
        user: MOD,
        permissions: MODERATOR_PERMISSIONS,
      }),
    );
    const long = (await choices("character", "northern")).find((c) => c.value === longest);
    expect(long?.name.length).toBeLessThanOrEqual(100);
    expect(long?.name.startsWith(`📚 ${longest} · nnn`)).toBe(true);
    // Library names autocomplete in /library show too.
    const show = h.sandbox.runCommand({
      command: "library show",
      options: { name: "kni" },
      focused: "name",
      user: BOB,
    });
    expect(await h.sandbox.waitFor(() => show.autocompleteChoices, 5000, "choices")).toEqual([
      { name: "Knight Captain", value: "Knight Captain" },
    ]);
  });
});
