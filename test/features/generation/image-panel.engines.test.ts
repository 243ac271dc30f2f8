// The image panel on a picked image (Upscale, Vary (Subtle), Vary (Strong), Sheet): the real bot against the
// local Discord server and the fake Replicate, each action a new generation drawn from the picked image's bytes.
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../../src/http/server.ts";
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
import type { CreateRecord } from "../../support/fake-predictions.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";
import { PUBLISHED_INPUTS } from "../../support/replicate-models.ts";

const suite = e2eSuite("image panel");
const replicate = replicateFixture();
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function onReplicate(env: Record<string, string> = {}): Promise<Harness> {
  await replicate.start();
  return suite.start({ ...replicate.env, ...env });
}

/** Makes a grid of `count` as Alice, picks image `slot`, and returns the private confirmation with its panel. */
async function picked(h: Harness, description: string, count = 2, slot = 2) {
  const grid = await h.character({ description, count });
  const confirmation = await h.pick(grid, slot);
  const image = (await h.generationOf(grid)).images.find((i) => i.slot === slot);
  if (!image?.fileName) throw new Error(`no image ${slot}`);
  return { grid, confirmation, image };
}

function press(
  h: Harness,
  message: StoredMessage,
  label: string,
  user = ALICE,
  attachmentSizeLimit?: number,
): SandboxInteraction {
  const button = buttons(message).find((b) => b.label === label);
  if (!button) throw new Error(`the message has no button ${label}`);
  return h.sandbox.pressButton({
    message,
    customId: button.custom_id,
    user,
    ...(attachmentSizeLimit ? { attachmentSizeLimit } : {}),
  });
}

/** What the model read for a create's image, byte for byte (an upload to the fake's Files API, or inline). */
function sentImage(create: CreateRecord | undefined): Buffer {
  if (!create) throw new Error("no create");
  const [sent, ...more] = replicate.fake.imageInputs(create);
  expect(more).toEqual([]);
  if (!sent) throw new Error("the create named no image the model could read");
  return sent.data;
}

describe("the image panel", () => {
  it("comes with a pick's private confirmation, and only the image's owner may press it", async () => {
    const h = await onReplicate();
    const { confirmation, image } = await picked(h, "a tin soldier");
    expect(confirmation.flags & 64).toBe(64);
    expect(buttons(confirmation).map((b) => b.label)).toEqual([
      "Upscale",
      "Vary (Subtle)",
      "Vary (Strong)",
      "Sheet",
    ]);
    for (const b of buttons(confirmation)) expect(b.custom_id).toMatch(new RegExp(`^img:\\w+:${image.id}$`));
    const generations = await h.recordedRows("generations");
    for (const label of ["Upscale", "Vary (Subtle)", "Vary (Strong)", "Sheet"]) {
      const refused = await h.refusal(press(h, confirmation, label, BOB));
      expect(refused.content, label).toContain(`Only <@${ALICE.id}> can use these buttons`);
      expect(refused.visible_to).toBe(BOB.id);
    }
    expect(await h.recordedRows("generations")).toBe(generations);
    expect(replicate.fake.creates).toHaveLength(2);
    expect((await h.ctx.quota.report(BOB.id, h.sandbox.guild.id)).user.images.used).toBe(0);
  });

  it("upscales the picked image's exact bytes into a new reference, charged at the upscale price", async () => {
    const h = await onReplicate();
    const { confirmation, image } = await picked(h, "a brass automaton");
    const upscaled = await h.grid(press(h, confirmation, "Upscale"));

    const create = replicate.fake.creates[2];
    expect(replicate.fake.creates).toHaveLength(3);
    expect(create?.model).toBe("nightmareai/real-esrgan");
    expect(Object.keys(create?.input ?? {}).sort()).toEqual(["face_enhance", "image", "scale"]);
    expect(create?.input).toMatchObject({ scale: 2, face_enhance: false });
    for (const key of Object.keys(create?.input ?? {}))
      expect(PUBLISHED_INPUTS["nightmareai/real-esrgan"]).toContain(key);
    // What the upscaler read is the stored image, byte for byte.
    const stored = await h.ctx.files.read(image.fileName as string);
    expect(sha256(sentImage(create))).toBe(image.sha256);
    expect(sha256(stored)).toBe(image.sha256);
    // Created by the community model's published version, not a model endpoint it does not have.
    expect(
      replicate.fake.requests.filter((r) => r.method === "POST" && r.path === "/v1/predictions"),
    ).toHaveLength(1);

    // A new reference of its own, with its parent recorded, pickable like any other.
    const view = await h.generationOf(upscaled);
    expect(view.generation).toMatchObject({
      parentImageId: image.id,
      requested: 1,
      model: "nightmareai/real-esrgan",
      prompt: "a brass automaton",
      status: "succeeded",
      params: { studio: "upscale", scale: 2, faceEnhance: false },
    });
    expect(upscaled.attachments.map((a) => a.filename)).toEqual(["character-1.png"]);
    expect(upscaled.content).toContain(`Drawn from reference \`${image.id}\` by nightmareai/real-esrgan`);
    const child = view.images[0]?.id as string;
    const again = await h.pick(upscaled, 1);
    expect(again.content).toContain(child);
    expect((await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id))?.image.id).toBe(child);

    // An image against the allowance, at the upscale's own price.
    const report = await h.ctx.quota.report(ALICE.id, h.sandbox.guild.id);
    expect(report.user.images.used).toBe(3);
    expect(report.user.estimatedUsd).toBeCloseTo(2 * 0.04 + 0.0025, 5);
    const usage = await h.settledReply(h.sandbox.runCommand({ command: "usage", user: ALICE }));
    expect(usage.content).toContain("Upscale nightmareai/real-esrgan ($0.0025 an image)");
  });

  it("resumes an upscale after a restart from its recorded prediction: nothing created or uploaded twice", async () => {
    const h = await onReplicate();
    const { confirmation, image } = await picked(h, "a copper kettle");
    replicate.fake.holdResults();
    const upscale = press(h, confirmation, "Upscale");
    await eventually(async () => replicate.fake.creates.length === 3, 10_000, "the upscale's create");
    await eventually(
      async () => (await h.ctx.repos.generations.countFromParent(image.id)) === 1,
      10_000,
      "the upscale's row",
    );
    await h.restart();
    replicate.fake.releaseResults();
    const upscaled = await h.grid(upscale);
    const view = await h.generationOf(upscaled);
    expect(view.generation).toMatchObject({ parentImageId: image.id, params: { studio: "upscale" } });
    expect(view.images.map((i) => i.status)).toEqual(["succeeded"]);
    expect(replicate.fake.creates).toHaveLength(3);
    expect(replicate.fake.uploads.size).toBe(1);
  });

  it("delivers an upscale over the upload limit as a preview with a signed link to the original", async () => {
    const noise = await sharp(
      Buffer.from(Array.from({ length: 1024 * 1024 * 3 }, (_, k) => (k * 7919) % 251)),
      { raw: { width: 1024, height: 1024, channels: 3 } },
    )
      .png({ compressionLevel: 0 })
      .toBuffer();
    await replicate.start({ outputImage: noise });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const h = await suite.start({ ...replicate.env, PUBLIC_URL: base, HTTP_PORT: String(port) });
    server = await startHttpServer({ ctx: h.ctx }, { port, host: "127.0.0.1" });
    const { confirmation } = await picked(h, "a noisy golem", 1, 1);
    const limit = 1024 * 1024;
    expect(noise.length).toBeGreaterThan(limit);
    const upscaled = await h.grid(press(h, confirmation, "Upscale", ALICE, limit));
    expect(upscaled.attachments.map((a) => a.filename)).toEqual(["character-1-preview.jpg"]);
    expect(upscaled.attachments[0]?.size).toBeLessThan(limit);
    const row = (await h.generationOf(upscaled)).images[0];
    const link = new RegExp(
      `Full size: \\[image 1\\]\\(<(${base}/files/${row?.id}\\?exp=\\d+&sig=[\\w-]+)>\\)`,
    ).exec(upscaled.content);
    if (!link?.[1]) throw new Error(`no link to the original in: ${upscaled.content}`);
    const fetched = Buffer.from(await (await fetch(link[1])).arrayBuffer());
    expect(sha256(fetched)).toBe(row?.sha256);
    expect(fetched.length).toBe(noise.length);
  });

  it("sends Vary (Subtle) and Vary (Strong) to the reference model with different prompts, from the same bytes", async () => {
    const h = await onReplicate();
    const { confirmation, image } = await picked(h, "a velvet moth");
    const stored = await h.ctx.files.read(image.fileName as string);

    const strong = await h.grid(press(h, confirmation, "Vary (Strong)"));
    const strongCreates = replicate.fake.creates.slice(2);
    const subtle = await h.grid(press(h, confirmation, "Vary (Subtle)"));
    const subtleCreates = replicate.fake.creates.slice(2 + strongCreates.length);
    // As many as the grid the image came from, each drawn by the reference model from the stored bytes.
    expect(strongCreates).toHaveLength(2);
    expect(subtleCreates).toHaveLength(2);
    for (const create of [...strongCreates, ...subtleCreates]) {
      expect(create.model).toBe("google/nano-banana-2");
      expect(sentImage(create).equals(stored)).toBe(true);
      for (const key of Object.keys(create.input)) expect(PUBLISHED_INPUTS[create.model]).toContain(key);
    }
    // Strong is the grid's Vary: the original prompt alone. Subtle asks for the same picture, small changes.
    for (const create of strongCreates) expect(create.input.prompt).toBe("a velvet moth");
    for (const create of subtleCreates) {
      expect(create.input.prompt).toContain("subtle variation");
      expect(create.input.prompt).toContain("keep the same character, pose, framing, composition");
      expect(create.input.prompt).toContain("a velvet moth");
    }
    const [strongView, subtleView] = await Promise.all([h.generationOf(strong), h.generationOf(subtle)]);
    expect(strongView.generation.params.studio).toBeUndefined();
    expect(subtleView.generation.params.studio).toBe("subtle");
    for (const v of [strongView, subtleView]) expect(v.generation.parentImageId).toBe(image.id);

    // Regenerate on the subtle grid stays subtle; its Vary 1 is the strong one again.
    const before = replicate.fake.creates.length;
    await h.grid(press(h, subtle, "Regenerate"));
    for (const create of replicate.fake.creates.slice(before))
      expect(create.input.prompt).toContain("subtle variation");
    const afterRegenerate = replicate.fake.creates.length;
    await h.grid(press(h, subtle, "Vary 1"));
    for (const create of replicate.fake.creates.slice(afterRegenerate))
      expect(create.input.prompt).toBe("a velvet moth");
  });

  it("draws a turnaround sheet: four predictions, one per view, labelled on the grid and pickable", async () => {
    const h = await onReplicate();
    const { confirmation, image } = await picked(h, "a lantern keeper");
    const sheet = await h.grid(press(h, confirmation, "Sheet"));
    const creates = replicate.fake.creates.slice(2);
    expect(creates).toHaveLength(4);
    const stored = await h.ctx.files.read(image.fileName as string);
    for (const create of creates) {
      expect(create.model).toBe("google/nano-banana-2");
      expect(create.input.aspect_ratio).toBe("3:4");
      expect(sentImage(create).equals(stored)).toBe(true);
    }
    const prompts = creates.map((c) => String(c.input.prompt));
    for (const [view, ask] of [
      ["front", "seen from the front"],
      ["three-quarter", "three-quarter view"],
      ["side", "full profile"],
      ["back", "seen from the back"],
    ]) {
      const matching = prompts.filter((p) => p.startsWith(`Character turnaround sheet, ${view} view:`));
      expect(matching, view).toHaveLength(1);
      expect(matching[0]).toContain(ask);
      expect(matching[0]).toContain("plain light grey background");
      expect(matching[0]).toContain("neutral standing pose");
    }
    expect(sheet.content).toContain("Turnaround sheet: 1 front · 2 three-quarter · 3 side · 4 back.");
    expect(sheet.attachments.map((a) => a.filename)).toEqual([
      "character-1-front.png",
      "character-2-three-quarter.png",
      "character-3-side.png",
      "character-4-back.png",
    ]);
    const view = await h.generationOf(sheet);
    expect(view.generation).toMatchObject({
      parentImageId: image.id,
      requested: 4,
      params: { studio: "sheet" },
    });
    // Each view is a reference like any other: picked, then drawn from with /character reference:.
    const side = view.images.find((i) => i.slot === 3)?.id as string;
    expect((await h.pick(sheet, 3)).content).toContain(side);
    const drawn = await h.grid(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "waving", count: 1, reference: side },
        user: ALICE,
      }),
    );
    expect((await h.generationOf(drawn)).generation.parentImageId).toBe(side);
  });

  it("upscales offline with the mock provider: the picked image itself, enlarged", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const { confirmation, image } = await picked(h, "a paper crane", 1, 1);
    const upscaled = await h.grid(press(h, confirmation, "Upscale"));
    const row = (await h.generationOf(upscaled)).images[0];
    expect(row).toMatchObject({ status: "succeeded", model: "mock/upscale" });
    expect(row?.width).toBe((image.width as number) * 2);
    expect(row?.height).toBe((image.height as number) * 2);
    // The same picture: shrunk back, it matches the original closely.
    const back = await sharp(await h.ctx.files.read(row?.fileName as string))
      .resize(image.width as number, image.height as number)
      .raw()
      .toBuffer();
    const original = await sharp(await h.ctx.files.read(image.fileName as string))
      .raw()
      .toBuffer();
    let diff = 0;
    for (let k = 0; k < back.length; k += 97) diff += Math.abs((back[k] ?? 0) - (original[k] ?? 0));
    expect(diff / Math.ceil(back.length / 97)).toBeLessThan(8);
  });
});

describe("/reference show", () => {
  it("offers the panel for the member's own image, not to a moderator looking at it", async () => {
    const h = await onReplicate();
    const { image } = await picked(h, "a glass owl", 1, 1);
    const show = (user = ALICE) =>
      h.settledReply(h.sandbox.runCommand({ command: "reference show", options: { id: image.id }, user }));
    expect(buttons(await show()).map((b) => b.label)).toContain("Upscale");
    const asModerator = await h.settledReply(
      h.sandbox.runCommand({
        command: "reference show",
        options: { id: image.id },
        user: MOD,
        permissions: MODERATOR_PERMISSIONS,
      }),
    );
    expect(asModerator.content).toContain(image.id);
    expect(buttons(asModerator).map((b) => b.label)).not.toContain("Upscale");
    const upscaled = await h.grid(press(h, await show(), "Upscale"));
    expect((await h.generationOf(upscaled)).generation.parentImageId).toBe(image.id);
  });
});

/** A port free right now, for PUBLIC_URL, which the config needs before the server can be started. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
