// /privacy export end to end: the real bot (discord.js against the local Discord server, the real Replicate
// client against the fake) makes a member's images and video, exports them, and the ZIP it answers with is
// opened with a real zip reader; too large for the upload limit, it is behind a signed link served by the
// bot's own HTTP server, and swept once the link expires.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import yauzl from "yauzl";
import { deployCommands } from "../../../src/discord/commands/register.ts";
import {
  EXPORT_COOLDOWN_MS,
  EXPORT_LINK_TTL_MS,
  type ExportOutcome,
  PrivacyExportService,
} from "../../../src/features/privacy/export.ts";
import { type RunningHttpServer, startHttpServer } from "../../../src/http/server.ts";
import type { StoredMessage } from "../../../src/sandbox/server.ts";
import {
  ALICE,
  BOB,
  BOT_TOKEN,
  buttons,
  e2eSuite,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";

const suite = e2eSuite("privacy export");
const replicate = replicateFixture();
let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** An upload limit that leaves 256 bytes for a file once the request's 64 KiB of room is taken. */
const TINY_LIMIT = 64 * 1024 + 256;
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Every entry of a ZIP, by name, read with yauzl (CRCs checked as each entry is read). */
async function unzip(zip: Buffer): Promise<Map<string, Buffer>> {
  const archive = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => (err ? reject(err) : resolve(file))),
  );
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    archive.on("error", reject);
    archive.on("end", resolve);
    archive.on("entry", (entry: yauzl.Entry) => {
      archive.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("error", reject);
        stream.on("end", () => {
          entries.set(entry.fileName, Buffer.concat(chunks));
          archive.readEntry();
        });
      });
    });
    archive.readEntry();
  });
  return entries;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A bot on the fake Replicate; with `links`, PUBLIC_URL names its running HTTP server. */
async function start(links = false, env: Record<string, string> = {}): Promise<Harness> {
  await replicate.start({ latencyMs: 30 });
  if (!links) return suite.start({ ...replicate.env, ...env });
  const port = await freePort();
  const h = await suite.start({
    ...replicate.env,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HTTP_PORT: String(port),
  });
  server = await startHttpServer({ ctx: h.ctx }, { port, host: "127.0.0.1" });
  return h;
}

/** Alice's two images (one picked, named in the library, made into a video) and Bob's one. */
async function makeData(h: Harness) {
  const grid = await h.character({ description: "a red fox knight in silver armour", count: 2 });
  await h.pick(grid, 2);
  const alices = (await h.generationOf(grid)).images;
  const picked = alices[1];
  if (!picked) throw new Error("no second image");
  const added = await h.settledReply(
    h.sandbox.runCommand({
      command: "library add",
      options: { reference: picked.id, name: "Fox Knight" },
      user: MOD,
      permissions: MODERATOR_PERMISSIONS,
    }),
  );
  expect(added.content).toContain("Fox Knight");
  const video = await h.settledReply(
    h.sandbox.runCommand({ command: "video", options: { prompt: "the knight bows slowly" }, user: ALICE }),
    (m) => m.attachments.length > 0,
  );
  expect(video.attachments).toHaveLength(1);
  const bobs = (
    await h.generationOf(await h.character({ description: "bob's secret lighthouse", count: 1 }, BOB))
  ).images;
  return { alices, picked, bobs };
}

const exportAs = (
  h: Harness,
  user = ALICE,
  extra: { attachmentSizeLimit?: number; guildId?: string | undefined } = {},
) => h.settledReply(h.sandbox.runCommand({ command: "privacy export", options: {}, user, ...extra }));

interface DataJson {
  userId: string;
  generations: Array<{ prompt: string; params: Record<string, unknown>; parentImageId: string | null }>;
  images: Array<{ id: string; file: string | null; sha256: string; libraryNames: Array<{ name: string }> }>;
  videos: Array<{ id: string; file: string | null; prompt: string; referenceImageId: string }>;
  picks: Array<{ imageId: string }>;
  libraryNames: Array<{ name: string; imageId: string }>;
  usage: Array<{ kind: string; units: number }>;
}

/** Checks a ZIP holds exactly Alice's data: the stored bytes of each file, and data.json's rows. */
async function checkAlicesExport(h: Harness, zip: Buffer, made: Awaited<ReturnType<typeof makeData>>) {
  const entries = await unzip(zip);
  const data = JSON.parse(entries.get("data.json")?.toString("utf8") ?? "{}") as DataJson;
  expect(data.userId).toBe(ALICE.id);
  expect(data.generations.map((g) => g.prompt)).toContain("a red fox knight in silver armour");
  expect(data.images.map((i) => i.id).sort()).toEqual(made.alices.map((i) => i.id).sort());
  expect(data.picks.map((p) => p.imageId)).toEqual([made.picked.id]);
  expect(data.libraryNames.map((l) => [l.name, l.imageId])).toEqual([["Fox Knight", made.picked.id]]);
  expect(data.images.find((i) => i.id === made.picked.id)?.libraryNames.map((l) => l.name)).toEqual([
    "Fox Knight",
  ]);
  expect(data.videos.map((v) => [v.prompt, v.referenceImageId])).toEqual([
    ["the knight bows slowly", made.picked.id],
  ]);
  expect(data.usage.map((u) => u.kind).sort()).toEqual(["image", "video"]);
  // Every file byte for byte as stored, and nothing else in the archive.
  const files = [...data.images.map((i) => i.file), ...data.videos.map((v) => v.file)];
  expect([...entries.keys()].sort()).toEqual(["data.json", ...files].sort());
  for (const image of made.alices) {
    const stored = await h.ctx.files.read(image.fileName as string);
    const entry = entries.get(`images/${image.fileName}`);
    expect(entry && sha256(entry)).toBe(sha256(stored));
    expect(sha256(stored)).toBe(image.sha256);
  }
  const video = (await h.ctx.video.forImage(made.picked.id))[0];
  expect(
    entries.get(`videos/${video?.fileName}`)?.equals(await h.ctx.files.read(video?.fileName as string)),
  ).toBe(true);
  // Bob's data is nowhere in it.
  const text = entries.get("data.json")?.toString("utf8") ?? "";
  expect(text).not.toContain("lighthouse");
  expect(text).not.toContain(BOB.id);
  for (const image of made.bobs) expect(text).not.toContain(image.id);
}

describe("/privacy export", () => {
  it("sends the member's images, video and data.json privately as a ZIP, and refuses a second within the window", async () => {
    const h = await start();
    const made = await makeData(h);
    const interaction = h.sandbox.runCommand({ command: "privacy export", options: {}, user: ALICE });
    const answer = await h.settledReply(interaction, (m) => m.attachments.length > 0);
    expect(answer.flags & 64).toBe(64);
    expect(answer.content).toContain("3 images and videos and data.json");
    expect(answer.attachments[0]?.filename).toBe("my-data.zip");
    await checkAlicesExport(h, answer.attachments[0]?.data ?? Buffer.alloc(0), made);

    const again = await exportAs(h);
    expect(again.content).toMatch(/one data export every 10 minutes; try again <t:\d+:R>/);
    expect(again.attachments).toHaveLength(0);
    // The window holds across a restart (it is a row), and opens again once it has passed.
    await h.restart();
    expect((await exportAs(h)).content).toContain("try again");
    h.clock.advance(EXPORT_COOLDOWN_MS + 1000);
    expect((await exportAs(h)).attachments).toHaveLength(1);
  });

  it("too large for the upload limit without PUBLIC_URL: says so, in a DM as in a server; /privacy info there too", async () => {
    const h = await start(false, { PRIVACY_POLICY_URL: "https://example.org/privacy" });
    await h.character({ description: "bob's secret lighthouse", count: 1 }, BOB);
    await deployCommands({ token: BOT_TOKEN, apiUrl: h.sandbox.apiUrl });
    const answer = await exportAs(h, BOB, { attachmentSizeLimit: TINY_LIMIT, guildId: undefined });
    expect(answer.content).toContain("no PUBLIC_URL set");
    expect(answer.content).toMatch(/is \d+ KiB, more than the 256 bytes Discord lets the bot upload here/);
    expect(answer.attachments).toHaveLength(0);

    const info = await h.settledReply(
      h.sandbox.runCommand({ command: "privacy info", options: {}, user: BOB, guildId: undefined }),
    );
    expect(info.flags & 64).toBe(64);
    expect(info.content.length).toBeLessThanOrEqual(2000);
    for (const text of [
      "/privacy export",
      "/privacy delete",
      "/reference delete",
      "Replicate",
      "15 minutes",
    ]) {
      expect(info.content).toContain(text);
    }
    expect(info.content).toContain("Privacy policy: <https://example.org/privacy>");
  });

  it("too large for the upload limit: a signed link to the stored ZIP, removed once the link expires", async () => {
    const h = await start(true);
    const made = await makeData(h);
    const answer: StoredMessage = await exportAs(h, ALICE, { attachmentSizeLimit: TINY_LIMIT });
    expect(answer.attachments).toHaveLength(0);
    expect(answer.content).toContain("behind the button below");
    const url = (answer.components as Array<{ components: Array<{ url?: string }> }>)[0]?.components[0]?.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/[0-9a-f-]{36}\?exp=\d+&sig=/);
    expect(buttons(answer).map((b) => b.label)).toEqual(["Download your data"]);
    const res = await fetch(url as string);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    const zip = Buffer.from(await res.arrayBuffer());
    expect(zip.length).toBeGreaterThan(256);
    await checkAlicesExport(h, zip, made);

    const id = /files\/([0-9a-f-]{36})/.exec(url as string)?.[1] as string;
    expect(await h.fileStored(`${id}.zip`)).toBe(true);
    // What an erasure of the member would remove: the stored ZIP's name, from a transaction rolled back here.
    const forgotten = await h.ctx.data
      .transaction(async (tx) => {
        throw Object.assign(new Error("rollback"), { names: await tx.dataExports.removeForUser(ALICE.id) });
      })
      .catch((err: { names?: string[] }) => err.names);
    expect(forgotten).toEqual([`${id}.zip`]);
    expect(await h.ctx.repos.dataExports.removeForUser(BOB.id)).toEqual([]);
    // Before expiry the sweep keeps it; after, it removes the ZIP and the link answers 404.
    expect((await h.ctx.privacyExports.sweep()).expired).toBe(0);
    h.clock.advance(EXPORT_LINK_TTL_MS + 1000);
    expect(await h.ctx.privacyExports.sweep()).toEqual({ expired: 1, orphans: 0 });
    expect(await h.fileStored(`${id}.zip`)).toBe(false);
    expect(await h.ctx.privacyExports.servableFile(id)).toBeUndefined();
  });

  it("carries at most the capped files, newest first, and says how many were left out", async () => {
    const h = await start();
    const made = await makeData(h);
    const { data, files, links, clock, logger } = h.ctx;
    const capped = new PrivacyExportService({
      data,
      files,
      links,
      clock,
      logger,
      caps: { maxFiles: 2, maxBytes: 1e9 },
    });
    let zip = Buffer.alloc(0);
    let outcome: ExportOutcome | undefined;
    await capped.run(ALICE.id, 1e9, async (o) => {
      outcome = o;
      if (o.kind === "attachment") zip = readFileSync(o.path);
    });
    expect(outcome).toMatchObject({ kind: "attachment", files: 2, omitted: 1, maxFiles: 2 });
    const entries = await unzip(zip);
    const data_ = JSON.parse(entries.get("data.json")?.toString("utf8") ?? "{}") as {
      images: Array<{ id: string; file: string | null; omitted?: string }>;
    };
    // The video and the newer image are in; the older image is listed as left out by the cap.
    expect([...entries.keys()].filter((k) => k !== "data.json")).toHaveLength(2);
    const left = data_.images.filter((i) => i.omitted === "cap");
    expect(left).toHaveLength(1);
    expect(left[0]?.file).toBeNull();
    expect(made.alices.map((i) => i.id)).toContain(left[0]?.id);
  });
});
