// The real bot with its images and videos in S3 (a real s3rver; STORAGE_URL through the harness's env):
// /character → grid → pick → /reference show → /video, the bytes coming back from the bucket, across a restart.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { fileTypeFromBuffer } from "file-type";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readAll } from "../../src/files/object-store.ts";
import { S3ObjectStore } from "../../src/files/s3-object-store.ts";
import { newId } from "../../src/kit/ids.ts";
import { ALICE, buttons, e2eSuite, eventually, type Harness } from "../support/bot-harness.ts";
import { forwardTo, startLocalServer } from "../support/http-proxy.ts";
import { type LocalS3, S3_BUCKET, S3_SECRET_KEY, startS3 } from "../support/s3.ts";

const suite = e2eSuite("storage on S3");
let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(() => s3?.close());

/** The bucket as anyone else sees it: a client of its own, not the bot's. */
async function fromBucket(prefix: string, key: string): Promise<Buffer> {
  const bucket = new S3ObjectStore({
    bucket: S3_BUCKET,
    prefix,
    endpoint: s3.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
  });
  try {
    return await readAll(await bucket.get(key));
  } finally {
    bucket.close();
  }
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function show(h: Harness, id: string) {
  return h.settledReply(h.sandbox.runCommand({ command: "reference show", options: { id }, user: ALICE }));
}

/**
 * A proxy in front of s3rver that holds image puts until released, or answers them 503 (every retry too):
 * the bucket slow or failing just while a grid's last image is stored.
 */
async function imagePutGate(upstream: string) {
  const forward = forwardTo(upstream);
  const held: Array<() => void> = [];
  let mode: "hold" | "fail" | "pass" = "pass";
  let puts = 0;
  const putAt: number[] = [];
  const server = await startLocalServer((req, res) => {
    if (req.method !== "PUT" || !req.url?.includes("/images/")) return forward(req, res);
    puts++;
    putAt.push(Date.now());
    if (mode === "fail") {
      req.resume();
      res.writeHead(503, { "Content-Type": "application/xml" });
      res.end("<Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>");
      return;
    }
    if (mode === "hold") held.push(() => forward(req, res));
    else forward(req, res);
  });
  return {
    endpoint: server.url,
    get held() {
      return held.length;
    },
    get puts() {
      return puts;
    },
    /** When each image put arrived (epoch ms). */
    putAt,
    /** Lets the first `count` held puts through (all of them by default); later puts pass unless held again. */
    release(count = held.length) {
      if (count >= held.length) mode = "pass";
      for (const go of held.splice(0, count)) go();
    },
    hold(next: "hold" | "fail") {
      mode = next;
    },
    close: server.close,
  };
}

const gates: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const gate of gates.splice(0)) await gate.close();
});

/**
 * A bot on the bucket behind an image-put gate set to `mode`, and Alice's /character on it, up to the grid
 * (which goes out while the grid's last image is being put).
 */
async function gatedCharacter(mode: "hold" | "fail", description: string, count: number) {
  const gate = await imagePutGate(s3.endpoint);
  gates.push(gate);
  const h = await suite.start({ ...s3.env(`bot-${newId().slice(0, 8)}`), S3_ENDPOINT: gate.endpoint });
  gate.hold(mode);
  const made = h.sandbox.runCommand({ command: "character", options: { description, count }, user: ALICE });
  const grid = await h.settledReply(made, (m) => buttons(m).some((b) => b.label === "Regenerate"));
  return { gate, h, grid };
}

describe("storage on S3", () => {
  it("/character, pick, /reference show and /video keep and serve every byte from the bucket, after a restart too", async () => {
    const prefix = `bot-${newId().slice(0, 8)}`;
    const h = await suite.start(s3.env(prefix));
    expect(h.ctx.files.objects.description).toBe(`s3://${S3_BUCKET}/${prefix} at ${s3.endpoint}`);

    const grid = await h.character({ description: "a copper golem", count: 2 });
    expect(grid.attachments).toHaveLength(2);
    const confirmation = await h.pick(grid, 2);
    const current = await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id);
    if (!current) throw new Error("no pick");
    const image = current.image;
    expect(confirmation.content).toContain(image.id);

    // The image is in the bucket under images/<uuid>.<ext>, exactly the bytes the row describes.
    const stored = await fromBucket(prefix, `images/${image.fileName}`);
    expect(stored.length).toBe(image.bytes);
    expect(sha256(stored)).toBe(image.sha256);
    // Nothing under DATA_DIR but the database.
    expect(existsSync(`${h.dir.path}/images`)).toBe(false);
    expect(existsSync(`${h.dir.path}/videos`)).toBe(false);

    const shown = await show(h, image.id);
    expect(shown.visible_to).toBe(ALICE.id);
    expect(shown.attachments).toHaveLength(1);
    expect(shown.attachments[0]?.data.equals(stored)).toBe(true);

    const video = await h.settledReply(
      h.sandbox.runCommand({ command: "video", options: { prompt: "walks" }, user: ALICE }),
      (m) => !m.content.includes("elapsed") && m.attachments.length > 0,
    );
    const row = (await h.ctx.repos.videos.forImage(image.id))[0];
    expect(row?.status).toBe("succeeded");
    const mp4 = await fromBucket(prefix, `videos/${row?.id}.mp4`);
    expect((await fileTypeFromBuffer(mp4))?.mime).toBe("video/mp4");
    expect(video.attachments[0]?.data.equals(mp4)).toBe(true);

    // A restart runs the start-up sweep on the bucket: every row's object stays.
    await h.restart();
    expect((await show(h, image.id)).attachments[0]?.data.equals(stored)).toBe(true);
    expect(await h.ctx.files.objects.stat(`videos/${row?.id}.mp4`)).toMatchObject({ size: mp4.length });
    expect(h.logLines.join("\n")).not.toContain(S3_SECRET_KEY);
  });

  it("with the storage gone while running, says so with a reference id and marks nothing stored", async () => {
    const own = await startS3();
    const h = await suite.start(own.env(`bot-${newId().slice(0, 8)}`));
    const grid = await h.character({ description: "a tin soldier", count: 1 });
    const image = (await h.generationOf(grid)).images[0];
    await own.close();

    const shown = h.sandbox.runCommand({
      command: "reference show",
      options: { id: image?.id ?? "" },
      user: ALICE,
    });
    const refusal = await h.settledReply(shown);
    expect(refusal.visible_to).toBe(ALICE.id);
    expect(refusal.content).toBe(
      `⚠️ The bot's storage is unavailable right now, so this could not be done. Try again in a minute (ref ${shown.id}).`,
    );
    const failed = await h.character({ description: "a lead soldier", count: 1 });
    expect(failed.attachments).toEqual([]);
    expect(failed.content).toContain(
      "Image 1: the bot could not store the image (its storage is unavailable)",
    );
    expect((await h.generationOf(failed)).images.map((i) => [i.status, i.errorCode, i.fileName])).toEqual([
      ["failed", "storage_unavailable", null],
    ]);
  });

  it("posts the grid while its last image is put in the bucket; a pick pressed meanwhile is recorded once it is stored", async () => {
    const { gate, h, grid } = await gatedCharacter("hold", "a brass owl", 1);
    // On Discord with its button while the put is still held: the row is not marked stored, nothing is picked.
    await eventually(async () => gate.held === 1, 5_000, "the put held");
    // The put leaves once the grid carrying its bytes is on Discord: the two uploads never share the moment.
    expect(gate.putAt[0]).toBeGreaterThanOrEqual(Date.parse(grid.edited_timestamp ?? ""));
    expect(grid.attachments.map((a) => a.filename)).toEqual(["character-1.png"]);
    const [row] = (await h.generationOf(grid)).images;
    expect(row?.status).toBe("running");
    const press = h.sandbox.pressButton({
      message: grid,
      customId: buttons(grid)[0]?.custom_id as string,
      user: ALICE,
    });
    // A new request meanwhile (one running request per member) waits for that grid to be recorded: the grid
    // on screen is not "a request running".
    const next = h.sandbox.runCommand({
      command: "character",
      options: { description: "a brass fox", count: 1 },
      user: ALICE,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id)).toBeUndefined();
    expect(gate.held).toBe(1);
    gate.release();
    const confirmation = await h.followUp(press);
    expect(confirmation.content).toContain(`Picked image 1 as your reference: \`${row?.id}\``);
    const stored = (await h.generationOf(grid)).images[0];
    expect(stored?.status).toBe("succeeded");
    expect(sha256(grid.attachments[0]?.data as Buffer)).toBe(stored?.sha256);
    await h.delivered(stored?.generationId ?? "");
    expect((await h.generationOf(grid)).generation.status).toBe("succeeded");
    const second = await h.grid(next);
    expect(second.content).toContain("a brass fox");
    expect(second.attachments).toHaveLength(1);
  });

  it("takes an image off the grid again when its put fails after the grid went out, and records it as not stored", async () => {
    // The grid goes out with the image while the put is being tried (the SDK retries it before giving up)...
    const { gate, h, grid: early } = await gatedCharacter("fail", "a glass cat", 1);
    const shown = early.attachments.length;
    // ...and once the put has failed, the grid says so and shows nothing to pick.
    const final = await eventually(
      async () => (early.content.includes("could not store the image") ? early : undefined),
      20_000,
      "the grid to say the image could not be stored",
    );
    expect(shown).toBe(1);
    expect(gate.puts).toBeGreaterThan(1);
    expect(final.attachments).toEqual([]);
    expect(buttons(final).map((b) => b.label)).toEqual(["Regenerate", "Remix"]);
    const view = await h.generationOf(final);
    expect(view.images.map((i) => [i.status, i.errorCode, i.fileName])).toEqual([
      ["failed", "storage_unavailable", null],
    ]);
    await h.delivered(view.generation.id);
  });

  it("keeps every image's buttons and shows the pick when a pick lands while another image is still stored", async () => {
    const { gate, h, grid } = await gatedCharacter("hold", "two tin owls", 2);
    await eventually(async () => gate.held === 2, 5_000, "both puts held");
    // One image is recorded, the other still being put, when the member picks the recorded one.
    gate.release(1);
    await eventually(
      async () => (await h.generationOf(grid)).images.some((i) => i.status === "succeeded"),
      10_000,
      "one image recorded",
    );
    const slot = (await h.generationOf(grid)).images.find((i) => i.status === "succeeded")?.slot ?? 0;
    const press = h.sandbox.pressButton({
      message: grid,
      customId: buttons(grid)[slot - 1]?.custom_id as string,
      user: ALICE,
    });
    await new Promise((r) => setTimeout(r, 300));
    gate.release();
    await h.followUp(press);
    await h.delivered((await h.generationOf(grid)).generation.id);
    const final = h.sandbox.messages.get(grid.id) ?? grid;
    expect(final.attachments.map((a) => a.filename)).toEqual(["character-1.png", "character-2.png"]);
    expect(buttons(final).map((b) => `${b.label}${b.style === 3 ? "✅" : ""}`)).toEqual([
      slot === 1 ? "1✅" : "1",
      slot === 2 ? "2✅" : "2",
      "Vary 1",
      "Vary 2",
      "Regenerate",
      "Remix",
    ]);
  });
});
