// /privacy delete: a member's data erased everywhere after their own confirmation, nothing of it left in the
// database's bytes, the store, the bot's messages or Replicate's uploads; another member's untouched; once an
// hour; and a SIGKILL midway finished by the next start.
import { describe, expect, it } from "vitest";
import { deployCommands } from "../../../src/discord/commands/register.ts";
import {
  ALICE,
  BOB,
  BOT_TOKEN,
  buttons,
  e2eSuite,
  eventually,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";
import { engineEnv } from "../../support/env.ts";
import { freePort } from "../../support/ports.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";
import { spawnScript } from "../../support/spawn.ts";
import { MARKER, markerCells, markerFiles, markerMessages } from "./support.ts";

const suite = e2eSuite("privacy-delete");
const replicate = replicateFixture();
const ADMIN = MODERATOR_PERMISSIONS | (1n << 5n);

const run = (
  h: Harness,
  command: string,
  options: Record<string, string>,
  user = ALICE,
  permissions?: bigint,
) => h.sandbox.runCommand({ command, options, user, ...(permissions ? { permissions } : {}) });

/** Alice's marked data: a grid and her pick, a blocked prompt, a video (its reference uploaded), a library note. */
async function aliceData(h: Harness) {
  await h.settledReply(run(h, "settings modlog", { channel: h.sandbox.channel.id }, MOD, ADMIN));
  await h.ctx.repos.guildSettings.save(
    { ...(await h.ctx.repos.guildSettings.get(h.sandbox.guild.id)), blocklist: ["forbidden"] },
    MOD.id,
    Date.now(),
  );
  const grid = await h.character({ description: `${MARKER} knight`, count: 2 });
  const view = await h.generationOf(grid);
  await h.pick(grid, 1);
  await h.refusal(run(h, "character", { description: `${MARKER} forbidden dragon` }));
  await h.settledReply(run(h, "video", { prompt: `${MARKER} walks` }), (m) => m.attachments.length === 1);
  const image = view.images[0];
  await h.settledReply(
    run(
      h,
      "library add",
      { reference: image?.id as string, name: "Knight", note: `${MARKER} note` },
      MOD,
      MODERATOR_PERMISSIONS,
    ),
  );
  return view;
}

async function ask(h: Harness) {
  return h.settledReply(run(h, "privacy delete", {}));
}

async function confirm(h: Harness) {
  const prompt = await ask(h);
  expect(prompt.content).toContain("Erase everything the bot keeps about you");
  const erase = buttons(prompt)[0]?.custom_id as string;
  const forged = h.sandbox.pressButton({ message: prompt, customId: erase, user: BOB });
  expect((await h.settledReply(forged)).content).toContain("Only the member who asked");
  h.sandbox.pressButton({ message: prompt, customId: erase, user: ALICE });
  return h.sandbox.waitFor(
    () => {
      const m = h.sandbox.messages.get(prompt.id);
      return m?.content.includes("Your data was erased") ? m : undefined;
    },
    15_000,
    "the erasure's answer",
  );
}

/** The scans the lead quotes: no marker byte in DATA_DIR's files, PostgreSQL's cells or the bot's messages. */
async function expectNoMarker(h: Harness) {
  const files = markerFiles(h.dir.path);
  const cells = await markerCells(h.ctx);
  const messages = markerMessages(h.sandbox);
  console.log(
    `marker bytes found: ${files.found.length} in ${files.scanned} files / ${cells.found.length} PostgreSQL cells (${cells.scanned} text columns scanned, engine ${h.ctx.data.engine}) / ${messages.length} sandbox messages`,
  );
  expect(files.found).toEqual([]);
  expect(cells.found).toEqual([]);
  expect(messages).toEqual([]);
}

describe("/privacy delete", () => {
  it("erases everything of the member's and nothing of anyone else's, once an hour", async () => {
    const fake = await replicate.start({ latencyMs: 20 });
    const h = await suite.start({ ...replicate.env, MOCK_LATENCY_MS: "20" });
    const alice = await aliceData(h);
    const bobGrid = await h.character({ description: "bob's green dragon", count: 1 }, BOB);
    const bob = await h.generationOf(bobGrid);
    const aliceFiles = alice.images.map((i) => i.fileName as string);
    const [video] = await h.ctx.video.forImage(alice.images[0]?.id as string);
    expect(fake.uploads.size).toBe(1);
    expect(markerFiles(h.dir.path).found.length + (await markerCells(h.ctx)).found.length).toBeGreaterThan(0);

    const answer = await confirm(h);
    expect(answer.content).toMatch(/2 images from 1 requests, 1 videos, 1 picks/);
    expect(answer.content).toContain("1 server-library entries, 1 uploads");

    for (const f of [...aliceFiles, video?.fileName as string]) expect(await h.fileStored(f)).toBe(false);
    expect(fake.uploads.size).toBe(0);
    expect(fake.deletedUploads).toHaveLength(1);
    expect(await h.ctx.repos.library.count(h.sandbox.guild.id)).toBe(0);
    expect(
      h.sandbox.channelMessages().some((m) => m.content.includes("removed at the owner's request")),
    ).toBe(true);
    // Today's use still counts against her allowances, under her pseudonym.
    expect((await h.ctx.quota.report(ALICE.id, h.sandbox.guild.id)).user.images.used).toBe(2);
    await expectNoMarker(h);

    // Bob's data is as it was.
    const bobNow = await h.generationOf(bobGrid);
    expect(bobNow.generation.prompt).toBe("bob's green dragon");
    expect(bobNow.generation.userId).toBe(BOB.id);
    expect(await h.fileStored(bob.images[0]?.fileName as string)).toBe(true);
    expect(h.sandbox.messages.get(bobGrid.id)?.attachments).toHaveLength(1);

    const again = await ask(h);
    expect(again.content).toContain("You can erase your data once an hour");
    expect(buttons(again)).toEqual([]);
  });

  it("an upload the image service would not delete keeps the erasure open until the next start finishes it", async () => {
    const fake = await replicate.start({ latencyMs: 20 });
    const h = await suite.start({ ...replicate.env, MOCK_LATENCY_MS: "20" });
    await aliceData(h);
    expect(fake.uploads.size).toBe(1);
    fake.inject({ method: "DELETE", pathPrefix: "/v1/files/", status: 403 });

    const answer = await confirm(h);
    expect(answer.content).toContain("could not be finished now");
    expect(fake.uploads.size).toBe(1);
    expect(await h.ctx.privacy.unfinished()).toHaveLength(1);

    await h.restart();
    await eventually(
      async () => (await h.ctx.privacy.unfinished()).length === 0,
      15_000,
      "the erasure finished",
    );
    expect(fake.uploads.size).toBe(0);
    await expectNoMarker(h);
  });

  it("an erasure SIGKILLed after its transaction is finished by the next start", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const child = spawnScript("test/features/privacy/crash-mid-erasure-process.ts", {
      ...engineEnv(h.dir.path),
      DATA_DIR: h.dir.path,
      MARKER,
      GUILD_ID: h.sandbox.guild.id,
      CHANNEL_ID: h.sandbox.channel.id,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    });
    await child.exited();
    expect(child.child.signalCode, child.output()).toBe("SIGKILL");
    expect(child.output()).not.toContain("not killed");
    const made = JSON.parse(child.stdout().split("\n")[0] ?? "") as { files: string[] };
    // Killed midway: the rows are scrubbed, the journal open, the files still there.
    expect(await h.ctx.privacy.unfinished()).toHaveLength(1);
    for (const f of made.files) expect(await h.fileStored(f)).toBe(true);

    await h.restart();
    await eventually(
      async () => (await h.ctx.privacy.unfinished()).length === 0,
      15_000,
      "the erasure finished",
    );
    for (const f of made.files) expect(await h.fileStored(f)).toBe(false);
    const journal = await h.ctx.repos.erasures.latestFor(await h.ctx.pseudonyms.of(ALICE.id));
    expect(journal).toMatchObject({ userId: null, finishedAt: expect.any(Number) });
    expect(journal?.counts.images).toBe(2);
    await expectNoMarker(h);
    expect((await h.settledReply(run(h, "privacy delete", {}))).content).toContain("once an hour");
  });

  it("asked for in a DM over HTTP interactions, writes a server's mod-log line in that server's language", async () => {
    const h = await suite.start({
      INTERACTIONS_MODE: "http",
      HTTP_PORT: String(await freePort()),
      OPS_PORT: "0",
    });
    await h.settledReply(run(h, "settings modlog", { channel: h.sandbox.channel.id }, MOD, ADMIN));
    const grid = await h.character({ description: "a knight", count: 1 });
    const [image] = (await h.generationOf(grid)).images;
    const entry = { reference: image?.id as string, name: "Knight" };
    await h.settledReply(run(h, "library add", entry, MOD, MODERATOR_PERMISSIONS));
    // The server speaks German; the erasure comes from a DM, where no interaction carries that server's language
    // and, over HTTP, no gateway cache knows it.
    h.sandbox.guild.locale = "de";
    await deployCommands({ token: BOT_TOKEN, apiUrl: h.sandbox.apiUrl }); // a DM sees the global commands
    const dm = { user: ALICE, guildId: undefined, privateChannel: true, channelId: "600000000000000001" };
    const prompt = await h.settledReply(
      h.sandbox.runCommand({ command: "privacy delete", options: {}, ...dm }),
    );
    h.sandbox.pressButton({
      message: prompt,
      customId: buttons(prompt)[0]?.custom_id as string,
      user: ALICE,
    });
    const line = await h.sandbox.waitFor(
      () => h.sandbox.channelMessages().find((m) => /Library entries|Bibliothekseinträge/.test(m.content)),
      15_000,
      "the mod-log line",
    );
    expect(line.content).toContain(
      "Die Bibliothekseinträge `Knight` wurden auf Wunsch ihres Eigentümers entfernt.",
    );
    expect(h.sandbox.connected).toBe(false);
  });
});
