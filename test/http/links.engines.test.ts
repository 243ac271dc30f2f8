// Signed links end to end: the real bot (discord.js against the local Discord server, the real Replicate client
// against the fake) with PUBLIC_URL pointing at its real operations HTTP server, fetched over HTTP.
import { createHmac, randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import type { ImageWithOwner } from "../../src/db/repositories/images-repo.ts";
import { referenceUrlOf, type VideoRow } from "../../src/db/repositories/videos-repo.ts";
import { LinkSigner } from "../../src/files/signed-links.ts";
import { MAX_CACHE_SECONDS } from "../../src/http/routes/files.ts";
import { type RunningHttpServer, startHttpServer } from "../../src/http/server.ts";
import { ALICE, buttons, e2eSuite, type Harness, MOD } from "../support/bot-harness.ts";
import { sharedEngines } from "../support/env.ts";
import type { FakeReplicateOptions } from "../support/fake-replicate.ts";
import { replicateFixture } from "../support/replicate-fixture.ts";

const replicate = replicateFixture();
const suite = e2eSuite("links");
let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const TTL_SECONDS = 7 * 24 * 3600;

/** A port free right now, for PUBLIC_URL, which the config needs before the server can be started. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A bot on the fake Replicate; with `links` (the default) PUBLIC_URL names its running HTTP server. */
async function setUp(
  options: { links?: boolean; fake?: Partial<FakeReplicateOptions>; env?: Record<string, string> } = {},
): Promise<{ h: Harness; base: string }> {
  await replicate.start({ latencyMs: 50, ...options.fake });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const h = await suite.start({
    ...replicate.env,
    ...(options.links === false ? {} : { PUBLIC_URL: base, HTTP_PORT: String(port) }),
    ...options.env,
  });
  server = await startHttpServer({ ctx: h.ctx }, { port, host: "127.0.0.1" });
  return { h, base };
}

/** Makes one image as Alice, picks it, and returns its row. */
async function pickedImage(h: Harness): Promise<ImageWithOwner> {
  await h.pick(await h.character({ description: "a red fox knight", count: 1 }), 1);
  const current = await h.ctx.references.currentSelection(ALICE.id, h.sandbox.guild.id);
  if (!current) throw new Error("no pick");
  return current.image;
}

async function signed(h: Harness, id: string): Promise<string> {
  const link = await h.ctx.links.sign(id, h.ctx.clock.now());
  if (!link) throw new Error("no link: PUBLIC_URL is not set");
  return link.url;
}

/** Runs /video as Alice from her pick and returns the final message and the video's row. */
async function makeVideo(h: Harness, attachmentSizeLimit?: number) {
  const i = h.sandbox.runCommand({
    command: "video",
    options: { prompt: "walks through rain" },
    user: ALICE,
    ...(attachmentSizeLimit ? { attachmentSizeLimit } : {}),
  });
  const message = await h.settledReply(i, (m) => !m.content.includes("elapsed"));
  const id = /[Vv]ideo `([0-9a-f-]{36})`/.exec(message.content)?.[1] ?? "";
  const video = (await h.ctx.video.get(id)) as VideoRow;
  expect(video?.status).toBe("succeeded");
  return { message, video };
}

function linkButtons(message: { components: unknown[] }) {
  return (message.components as Array<{ components: Array<{ style: number; label: string; url?: string }> }>)
    .flatMap((row) => row.components)
    .filter((b) => b.style === 5);
}

const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

/** The max-age of a response's `Cache-Control: private, max-age=N`; NaN for any other. */
const maxAgeOf = (res: Response) =>
  Number(/^private, max-age=(\d+)$/.exec(res.headers.get("cache-control") ?? "")?.[1]);

describe("GET /files/<uuid> (signed links)", () => {
  it("serves a reference's exact bytes with its type, length and cache lifetime", async () => {
    const { h, base } = await setUp();
    const image = await pickedImage(h);
    const url = await signed(h, image.id);
    expect(url.startsWith(`${base}/files/${image.id}?exp=`)).toBe(true);

    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = await bytesOf(res);
    expect(body.equals(await h.ctx.files.read(image.fileName as string))).toBe(true);
    expect(res.headers.get("content-type")).toBe(image.mime);
    expect(res.headers.get("content-length")).toBe(String(image.bytes));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    // Cached for at most five minutes, though the link lives for days: a deletion reaches caches soon.
    expect(maxAgeOf(res)).toBe(MAX_CACHE_SECONDS);

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(image.bytes));
    expect(head.headers.get("content-type")).toBe(image.mime);
    expect(maxAgeOf(head)).toBe(MAX_CACHE_SECONDS);
    expect((await bytesOf(head)).length).toBe(0);
  });

  it("caches for no longer than the link has left to live", async () => {
    const { h } = await setUp();
    const image = await pickedImage(h);
    const url = await signed(h, image.id);
    h.clock.advance((TTL_SECONDS - 100) * 1000);
    const maxAge = maxAgeOf(await fetch(url));
    expect(maxAge).toBeLessThanOrEqual(100);
    expect(maxAge).toBeGreaterThan(90);
  });

  it("answers refusals with no-store and none of the file's headers", async () => {
    const { h, base } = await setUp();
    const image = await pickedImage(h);
    const url = await signed(h, image.id);
    const { search } = new URL(url);
    const answers = {
      forbidden: await fetch(`${base}/files/${image.id}?exp=1&sig=x`),
      notUuid: await fetch(`${base}/files/not-a-uuid${search}`),
      unsatisfiable: await fetch(url, { headers: { Range: `bytes=${image.bytes}-` } }),
      headForbidden: await fetch(`${base}/files/${image.id}?exp=1&sig=x`, { method: "HEAD" }),
    };
    await h.ctx.moderation.deleteReference(image, { userId: MOD.id, guildId: h.sandbox.guild.id });
    const deleted = await fetch(url);
    for (const [name, res] of Object.entries({ ...answers, deleted })) {
      expect({ name, status: res.status, cache: res.headers.get("cache-control") }).toEqual({
        name,
        status: { forbidden: 403, headForbidden: 403, notUuid: 404, deleted: 404, unsatisfiable: 416 }[name],
        cache: "no-store",
      });
      expect({ name, type: res.headers.get("content-type") }).not.toEqual({ name, type: image.mime });
      expect(res.headers.get("content-range") ?? `bytes */${image.bytes}`).toBe(`bytes */${image.bytes}`);
    }
  });

  it("answers 503 or 500 without internal text, and logs it, when the database fails during a request", async () => {
    const { h } = await setUp();
    const image = await pickedImage(h);
    const url = await signed(h, image.id);
    const video = await signed(h, "0b7c2a4e-8d1f-4c3b-9a6e-5f4d3c2b1a09");
    expect((await fetch(url)).status).toBe(200);
    const logged = h.logLines.length;

    // The store failing (a regular file where images/ was): 503, and the path is not given away. Files under
    // DATA_DIR only; on S3 the same answer is shown by test/files/storage-outage.engines.test.ts's stopped bucket.
    if (!sharedEngines()) {
      renameSync(`${h.dir.path}/images`, `${h.dir.path}/images-away`);
      writeFileSync(`${h.dir.path}/images`, "");
      const outage = await fetch(url);
      expect(outage.status).toBe(503);
      expect(outage.headers.get("cache-control")).toBe("no-store");
      expect(await outage.json()).toEqual({ error: "storage unavailable" });
      rmSync(`${h.dir.path}/images`);
      renameSync(`${h.dir.path}/images-away`, `${h.dir.path}/images`);
      expect((await fetch(url)).status).toBe(200);
    }

    // The database failing: the lookup throws with its own text, which is logged, not sent.
    await h.ctx.data.close();
    for (const link of [url, video]) {
      for (const method of ["GET", "HEAD"]) {
        const res = await fetch(link, { method });
        expect([500, 503]).toContain(res.status);
        expect(res.headers.get("cache-control")).toBe("no-store");
        if (method === "HEAD") continue;
        const body = await res.json();
        expect(body).toEqual(
          res.status === 503 ? { error: "storage unavailable" } : { error: "internal error" },
        );
      }
    }
    const lines = h.logLines.slice(logged).join("\n");
    if (!sharedEngines()) expect(lines).toContain("storage is unavailable");
    expect(lines).toContain("a signed link failed");
  });

  it("refuses an expired link with 403, before looking the id up", async () => {
    const { h } = await setUp();
    const image = await pickedImage(h);
    const url = await signed(h, image.id);
    const unknown = await signed(h, "0b7c2a4e-8d1f-4c3b-9a6e-5f4d3c2b1a09");
    expect((await fetch(url)).status).toBe(200);
    h.clock.advance((TTL_SECONDS + 1) * 1000);
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("not valid or has expired");
    // An id that does not exist answers the same: nothing can be probed with an expired link.
    expect((await fetch(unknown)).status).toBe(403);
  });

  it("refuses forged and tampered signatures and expiries with 403", async () => {
    const { h, base } = await setUp();
    const image = await pickedImage(h);
    const url = new URL(await signed(h, image.id));
    const exp = url.searchParams.get("exp") as string;
    const sig = url.searchParams.get("sig") as string;
    const other = "0b7c2a4e-8d1f-4c3b-9a6e-5f4d3c2b1a09";
    const forged = createHmac("sha256", "a key that is not the bot's, 32+ chars long")
      .update(`${image.id}.${exp}`)
      .digest("base64url");
    const flipped = `${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`;
    const attempts = [
      `/files/${image.id}?exp=${exp}&sig=${flipped}`, // one character changed
      `/files/${image.id}?exp=${Number(exp) + 3600}&sig=${sig}`, // a later expiry under the old signature
      `/files/${image.id}?exp=${exp}&sig=${forged}`, // signed with another key
      `/files/${image.id}?exp=${exp}&sig=${sig.slice(0, 20)}`, // truncated
      `/files/${image.id}?exp=${exp}`, // no signature
      `/files/${image.id}?sig=${sig}`, // no expiry
      `/files/${image.id}?exp=${exp}&sig=${sig}&sig=${sig}`, // the signature twice
      `/files/${other}?exp=${exp}&sig=${sig}`, // another id under this signature
    ];
    for (const path of attempts) {
      const res = await fetch(`${base}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    // The genuine link still works: nothing was changed by the refusals.
    expect((await fetch(url)).status).toBe(200);
  });

  it("answers 404 to a link to a reference deleted since, and to an id that is not a UUID", async () => {
    const { h, base } = await setUp();
    const image = await pickedImage(h);
    const url = await signed(h, image.id);
    expect((await fetch(url)).status).toBe(200);
    await h.ctx.moderation.deleteReference(image, { userId: MOD.id, guildId: h.sandbox.guild.id });
    expect((await fetch(url)).status).toBe(404);

    const { search } = new URL(url);
    for (const id of ["not-a-uuid", image.id.toUpperCase(), `${image.id}.png`, "..%2F..%2Fmeta", "%00"]) {
      const res = await fetch(`${base}/files/${id}${search}`);
      expect({ id, status: res.status }).toEqual({ id, status: 404 });
    }
  });

  it("gives a video over the upload limit a Download button whose link serves it, with Range", async () => {
    const { h } = await setUp();
    await pickedImage(h);
    const { message, video } = await makeVideo(h, 32 * 1024);
    expect(message.attachments).toEqual([]);
    expect(message.content).toContain("Download it with the button below");
    const [button] = linkButtons(message);
    expect(button?.label).toBe("Download video");
    const stored = await h.ctx.files.read(video.fileName as string);

    const whole = await fetch(button?.url as string);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("video/mp4");
    expect(whole.headers.get("content-length")).toBe(String(stored.length));
    expect((await bytesOf(whole)).equals(stored)).toBe(true);

    const part = await fetch(button?.url as string, { headers: { Range: "bytes=100-1099" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-1099/${stored.length}`);
    expect(part.headers.get("content-length")).toBe("1000");
    expect((await bytesOf(part)).equals(stored.subarray(100, 1100))).toBe(true);

    const tail = await fetch(button?.url as string, { headers: { Range: "bytes=-10" } });
    expect(tail.status).toBe(206);
    expect((await bytesOf(tail)).equals(stored.subarray(stored.length - 10))).toBe(true);

    const beyond = await fetch(button?.url as string, { headers: { Range: `bytes=${stored.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${stored.length}`);
  });

  it("streams exactly the bytes of each Range of a video, to its last byte, and answers HEAD without a body", async () => {
    const { h } = await setUp();
    await pickedImage(h);
    const { message, video } = await makeVideo(h, 32 * 1024);
    const url = linkButtons(message)[0]?.url as string;
    const stored = await h.ctx.files.read(video.fileName as string);
    const last = stored.length - 1;
    expect(stored.length).toBeGreaterThan(32 * 1024);
    const cases: Array<[string, number, number]> = [
      // s3rver (the tests' S3) answers a ranged GET of bytes=0-0 with the whole object, which the S3 store
      // refuses (object-store.test.ts pins that); AWS S3 answers it right, so the case runs on files only.
      ...(sharedEngines() ? [] : ([["bytes=0-0", 0, 0]] as Array<[string, number, number]>)),
      ["bytes=0-1", 0, 1],
      [`bytes=${last}-${last}`, last, last],
      [`bytes=${last}-`, last, last],
      ["bytes=-1", last, last],
      [`bytes=${last - 4096}-${last + 1000}`, last - 4096, last], // an end past the file is the file's end
      ["bytes=16384-", 16384, last],
      ["bytes=1-32768", 1, 32768],
    ];
    for (const [range, start, end] of cases) {
      const res = await fetch(url, { headers: { Range: range } });
      expect({ range, status: res.status }).toEqual({ range, status: 206 });
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${stored.length}`);
      expect(res.headers.get("content-length")).toBe(String(end - start + 1));
      expect(res.headers.get("content-type")).toBe("video/mp4");
      const body = await bytesOf(res);
      expect({ range, equal: body.equals(stored.subarray(start, end + 1)) }).toEqual({ range, equal: true });
    }
    // Several ranges, or a malformed header: the whole file.
    for (const range of ["bytes=0-1,10-20", "bytes=x-y", "pages=1-2"]) {
      const res = await fetch(url, { headers: { Range: range } });
      expect({ range, status: res.status }).toEqual({ range, status: 200 });
      expect((await bytesOf(res)).equals(stored)).toBe(true);
    }

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(stored.length));
    expect(head.headers.get("content-type")).toBe("video/mp4");
    expect(head.headers.get("accept-ranges")).toBe("bytes");
    expect((await bytesOf(head)).length).toBe(0);
    const headRange = await fetch(url, { method: "HEAD", headers: { Range: "bytes=10-19" } });
    expect(headRange.status).toBe(206);
    expect(headRange.headers.get("content-length")).toBe("10");
    expect(headRange.headers.get("content-range")).toBe(`bytes 10-19/${stored.length}`);
    expect((await bytesOf(headRange)).length).toBe(0);

    // HEAD does not open the file: it answers from the row even with the file gone from the store.
    await h.ctx.files.remove(video.fileName as string);
    expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    expect(gone.headers.get("cache-control")).toBe("no-store");
  });

  it("puts an Open original button on /reference show and info whose link serves the original", async () => {
    const { h } = await setUp();
    const image = await pickedImage(h);
    const original = await h.ctx.files.read(image.fileName as string);
    for (const command of ["reference show", "reference info"]) {
      const reply = await h.settledReply(
        h.sandbox.runCommand({ command, options: { id: image.id }, user: ALICE }),
      );
      const [button] = linkButtons(reply);
      expect({ command, label: button?.label }).toEqual({ command, label: "Open original" });
      const res = await fetch(button?.url as string);
      expect(res.status).toBe(200);
      expect((await bytesOf(res)).equals(original)).toBe(true);
    }
  });

  it("without PUBLIC_URL makes no links and shows no link buttons", async () => {
    const { h } = await setUp({ links: false });
    const image = await pickedImage(h);
    expect(await h.ctx.links.sign(image.id, h.ctx.clock.now())).toBeUndefined();
    const reply = await h.settledReply(
      h.sandbox.runCommand({ command: "reference show", options: { id: image.id }, user: ALICE }),
    );
    // Only the image panel (the member's own image); no link button.
    expect(buttons(reply).map((b) => b.label)).toEqual([
      "Upscale",
      "Vary (Subtle)",
      "Vary (Strong)",
      "Sheet",
    ]);
    const { message } = await makeVideo(h, 32 * 1024);
    expect(message.components).toEqual([]);
    expect(message.content).toMatch(/stored by the bot as video `[0-9a-f-]{36}`/);
  });

  it("keeps links working across a restart with the key the database keeps, and LINK_SECRET replaces it", async () => {
    const { h } = await setUp();
    const image = await pickedImage(h);
    const url = await signed(h, image.id);
    await server?.close();
    await h.restart();
    const port = Number(new URL(url).port);
    server = await startHttpServer({ ctx: h.ctx }, { port, host: "127.0.0.1" });
    expect((await fetch(url)).status).toBe(200);
    // Two processes on one database agree on the key; a configured LINK_SECRET is another key.
    const options = { publicUrl: new URL(url).origin, ttlMs: TTL_SECONDS * 1000, meta: h.ctx.repos.meta };
    const now = h.ctx.clock.now();
    const { searchParams } = new URL(url);
    const [exp, sig] = [searchParams.get("exp"), searchParams.get("sig")];
    expect(await new LinkSigner({ ...options, secret: undefined }).verify(image.id, exp, sig, now)).toBe(
      true,
    );
    const configured = new LinkSigner({ ...options, secret: "x".repeat(32) });
    expect(await configured.verify(image.id, exp, sig, now)).toBe(false);
  });
});

describe("/video's reference image", () => {
  it("is a signed link with PUBLIC_URL, and the model fetching it gets exactly the picked image", async () => {
    const { h, base } = await setUp();
    const image = await pickedImage(h);
    await makeVideo(h);
    const sent = String(replicate.fake.creates.at(-1)?.input.subject_reference);
    expect(sent.startsWith(`${base}/files/${image.id}?exp=`)).toBe(true);
    const res = await fetch(sent);
    expect(res.headers.get("content-type")).toBe(image.mime);
    expect((await bytesOf(res)).equals(await h.ctx.files.read(image.fileName as string))).toBe(true);
    expect(replicate.fake.uploads.size).toBe(0);
  });

  it("is a Files API upload without PUBLIC_URL, read back byte for byte at its URL", async () => {
    const { h } = await setUp({ links: false });
    const image = await pickedImage(h);
    const { video } = await makeVideo(h);
    const sent = String(replicate.fake.creates.at(-1)?.input.subject_reference);
    expect(sent).toMatch(new RegExp(`^${replicate.fake.url}/files/\\w+/download$`));
    expect(replicate.fake.uploads.size).toBe(1);
    // Recorded before the create: a restart sends this URL again instead of uploading anew.
    expect(referenceUrlOf(video)).toBe(sent);
    const res = await fetch(sent);
    expect(res.headers.get("content-type")).toBe(image.mime);
    expect((await bytesOf(res)).equals(await h.ctx.files.read(image.fileName as string))).toBe(true);
  });

  it("is a data: URI of exactly its bytes only for a small image when neither is available", async () => {
    const { h } = await setUp({ links: false });
    const image = await pickedImage(h);
    replicate.fake.inject({ method: "POST", pathPrefix: "/v1/files", status: 404 });
    await makeVideo(h);
    const sent = String(replicate.fake.creates.at(-1)?.input.subject_reference);
    const original = await h.ctx.files.read(image.fileName as string);
    expect(original.length).toBeLessThanOrEqual(256 * 1024);
    expect(sent).toBe(`data:${image.mime};base64,${original.toString("base64")}`);
    expect(replicate.fake.uploads.size).toBe(0);
  });

  it("fails the video, creating nothing, for a large image with neither a link nor the Files API", async () => {
    // Noise does not compress: a 400×400 PNG of it is about 480 KB, over the 256-KB data: URI limit.
    const noisy = await sharp(randomBytes(400 * 400 * 3), { raw: { width: 400, height: 400, channels: 3 } })
      .png()
      .toBuffer();
    const { h } = await setUp({ links: false, fake: { outputImage: noisy } });
    const image = await pickedImage(h);
    expect(image.bytes).toBeGreaterThan(256 * 1024);
    const creates = replicate.fake.creates.length;
    replicate.fake.inject({ method: "POST", pathPrefix: "/v1/files", status: 404 });
    const i = h.sandbox.runCommand({ command: "video", options: { prompt: "walks" }, user: ALICE });
    const message = await h.settledReply(i, (m) => m.content.startsWith("❌"));
    expect(message.content).toContain("could not be made");
    expect(replicate.fake.creates.length).toBe(creates);
    expect((await h.ctx.quota.report(ALICE.id, h.sandbox.guild.id)).user.videos.used).toBe(0);
  });
});
