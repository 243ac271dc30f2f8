import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { MAX_LIBRARY_ENTRIES, MAX_NAMES_PER_IMAGE } from "../../../src/features/library/library-service.ts";
import { Cooldown } from "../../../src/kit/cooldown.ts";
import { newId } from "../../../src/kit/ids.ts";
import type { SandboxUser } from "../../../src/sandbox/server.ts";
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

const suite = e2eSuite("library");
const CURATOR_ROLE = "600000000000000001";
const ADMIN = MODERATOR_PERMISSIONS | (1n << 5n);

async function command(
  h: Harness,
  name: string,
  options: Record<string, string>,
  user: SandboxUser = ALICE,
  extra: { permissions?: bigint; roles?: string[] } = {},
) {
  return h.settledReply(h.sandbox.runCommand({ command: name, options, user, ...extra }));
}

/** One image made by `user`, its row read back. */
async function imageOf(h: Harness, description: string, user: SandboxUser = ALICE) {
  const view = await h.generationOf(await h.character({ description, count: 1 }, user));
  const image = view.images[0];
  if (!image) throw new Error("no image");
  return image;
}

/** The curator role and the mod-log channel set by a server admin. */
async function setUp(h: Harness) {
  const set = (sub: string, options: Record<string, string>) =>
    command(h, `settings ${sub}`, options, MOD, { permissions: ADMIN });
  expect((await set("curator", { role: CURATOR_ROLE })).content).toContain(
    `Saved: library curator role set to <@&${CURATOR_ROLE}>.`,
  );
  await set("modlog", { channel: h.sandbox.channel.id });
}

const modLog = (h: Harness) =>
  h.sandbox
    .channelMessages()
    .filter((m) => m.content.startsWith("🛡️"))
    .map((m) => m.content);

describe("/library", () => {
  it("curators add their own references; anyone lists, shows and uses them; refusals write nothing", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    await setUp(h);
    const bobs = await imageOf(h, "a silver robot with blue eyes", BOB);
    const alices = await imageOf(h, "a red fox knight", ALICE);
    const curator = { roles: [CURATOR_ROLE] };

    // A member without the role may not curate.
    const refused = await command(h, "library add", { reference: alices.id, name: "Fox" }, ALICE);
    expect(refused.visible_to).toBe(ALICE.id);
    expect(refused.content).toContain(
      "Only moderators (Manage Messages) and members with this server's curator role",
    );
    // A curator adds their own reference, with a note.
    const added = await command(
      h,
      "library add",
      { reference: bobs.id, name: "Silver  Robot", note: "the mascot" },
      BOB,
      curator,
    );
    expect(added.visible_to).toBe(BOB.id);
    expect(added.content).toContain(`Added reference \`${bobs.id}\` to the library as **Silver Robot**`);
    // ...but not another member's, nor a name taken in any case, nor one with forbidden characters.
    for (const [options, text] of [
      [
        { reference: alices.id, name: "Fox" },
        "Only moderators (Manage Messages) can add another member's reference",
      ],
      [{ reference: bobs.id, name: "SILVER robot" }, "already has an entry called `SILVER robot`"],
      [{ reference: bobs.id, name: "robot/../x" }, "only letters, digits, spaces, - and _"],
      [{ reference: "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", name: "Ghost" }, "No reference"],
    ] as const) {
      const answer = await command(h, "library add", options, BOB, curator);
      expect(answer.visible_to).toBe(BOB.id);
      expect(answer.content).toContain(text);
    }
    expect(await h.ctx.repos.library.count(h.sandbox.guild.id)).toBe(1);

    // Everyone browses and looks.
    const list = await command(h, "library list", {}, ALICE);
    expect(list.content).toContain("page 1/1 · 1 in all");
    expect(list.content).toContain(`**Silver Robot** · by <@${BOB.id}>`);
    expect(list.content).toContain("the mascot");
    expect(list.attachments).toHaveLength(1);
    expect((await sharp(list.attachments[0]?.data).metadata()).format).toBe("jpeg");
    const shown = await command(h, "library show", { name: "silver robot" }, ALICE);
    expect(shown.content).toContain("a silver robot with blue eyes");
    expect(shown.attachments[0]?.data.equals(await h.ctx.files.read(bobs.fileName as string))).toBe(true);

    // A library name is a reference for any member of the server.
    const video = await h.settledReply(
      h.sandbox.runCommand({
        command: "video",
        options: { prompt: "waves hello", reference: "silver robot" },
        user: ALICE,
      }),
      (m) => !m.content.includes("elapsed"),
    );
    expect(video.content).toContain(`from reference \`${bobs.id}\``);
    const [made] = await h.ctx.video.forImage(bobs.id);
    expect(made).toMatchObject({ userId: ALICE.id, referenceImageId: bobs.id, status: "succeeded" });

    // Removing a name keeps the image; it is audited and posted to the mod log.
    const notCurator = await command(h, "library remove", { name: "silver robot" }, ALICE);
    expect(notCurator.content).toContain("Only moderators");
    const removed = await command(h, "library remove", { name: "silver robot" }, BOB, curator);
    expect(removed.content).toContain("Removed `Silver Robot` from the library");
    expect(await h.ctx.repos.library.count(h.sandbox.guild.id)).toBe(0);
    expect((await h.ctx.references.imageRow(bobs.id))?.deletedAt).toBeNull();
    const actions = (await h.ctx.repos.audit.recent(h.sandbox.guild.id, 10)).map((a) => a.action);
    expect(actions.slice(0, 2)).toEqual(["library_remove", "library_add"]);
    await eventually(async () =>
      modLog(h).some((m) => m.includes("removed `Silver Robot` from the library")),
    );
    expect(modLog(h).some((m) => m.includes("to the library as `Silver Robot`"))).toBe(true);
  });

  it("only a moderator deletes a reference the library uses; the entry goes with it, audited", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    await setUp(h);
    const image = await imageOf(h, "a green dragon", ALICE);
    await command(h, "library add", { reference: image.id, name: "Dragon" }, MOD, {
      permissions: MODERATOR_PERMISSIONS,
    });

    const refused = await command(h, "reference delete", { id: image.id }, ALICE);
    expect(refused.content).toContain("in the server library as `Dragon`; only a moderator");
    expect((await h.ctx.references.imageRow(image.id))?.deletedAt).toBeNull();
    expect(await h.fileStored(image.fileName as string)).toBe(true);
    expect(await h.ctx.repos.library.count(h.sandbox.guild.id)).toBe(1);

    const deleted = await command(h, "reference delete", { id: image.id }, MOD, {
      permissions: MODERATOR_PERMISSIONS,
    });
    expect(deleted.content).toContain("it left the library (`Dragon`)");
    expect(await h.ctx.repos.library.count(h.sandbox.guild.id)).toBe(0);
    const [audit] = await h.ctx.repos.audit.recent(h.sandbox.guild.id, 1);
    expect(audit).toMatchObject({
      action: "reference_delete",
      actorId: MOD.id,
      targetId: image.id,
      details: expect.objectContaining({ libraryNames: ["Dragon"] }),
    });
    await eventually(async () => modLog(h).some((m) => m.includes("it left the library (`Dragon`)")));
    const gone = await command(h, "library show", { name: "dragon" }, BOB);
    expect(gone.content).toContain("no entry called `dragon`");
  });

  it("pages the gallery with ◀ ▶, four previews a page", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const view = await h.generationOf(await h.character({ description: "five friends", count: 4 }));
    const fifth = await imageOf(h, "the fifth friend");
    const ids = [...view.images.map((i) => i.id), fifth.id];
    for (const [n, id] of ids.entries()) {
      await command(h, "library add", { reference: id, name: `friend ${n + 1}` }, MOD, {
        permissions: MODERATOR_PERMISSIONS,
      });
    }
    const list = await command(h, "library list", {}, BOB);
    expect(list.content).toContain("page 1/2 · 5 in all");
    expect(list.attachments).toHaveLength(4);
    const [previous, next] = buttons(list);
    expect(previous?.disabled).toBe(true);
    const press = h.sandbox.pressButton({ message: list, customId: next?.custom_id as string, user: BOB });
    await h.sandbox.waitFor(() => press.callback, 5000, "the press acknowledged");
    const page2 = await h.sandbox.waitFor(
      () => {
        const m = h.sandbox.messages.get(list.id);
        return m?.content.includes("page 2/2") ? m : undefined;
      },
      5000,
      "page 2",
    );
    expect(page2.content).toContain("**friend 5**");
    expect(page2.content).not.toContain("friend 1");
    expect(page2.attachments).toHaveLength(1);
  });

  it("matches what is typed in names literally: _ and % are not wildcards", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const view = await h.generationOf(await h.character({ description: "two snakes", count: 2 }));
    // "e_c" would match "snakexcase" too if _ stood for any one letter.
    for (const [n, name] of ["snake_case", "snakexcase"].entries()) {
      await command(h, "library add", { reference: view.images[n]?.id as string, name }, MOD, {
        permissions: MODERATOR_PERMISSIONS,
      });
    }
    const names = async (typed: string) => {
      const i = h.sandbox.runCommand({
        command: "library show",
        options: { name: typed },
        focused: "name",
        user: BOB,
      });
      return (
        (await h.sandbox.waitFor(() => i.autocompleteChoices, 5000, "choices")) as Array<{
          value: string;
        }>
      ).map((c) => c.value);
    };
    expect(await names("E_C")).toEqual(["snake_case"]);
    expect((await names("snake")).sort()).toEqual(["snake_case", "snakexcase"]);
    expect(await names("%")).toEqual([]);
  });

  it("stores a small preview with each entry; the gallery shows it without the original; it goes with the entry", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const mod = { permissions: MODERATOR_PERMISSIONS };
    const view = await h.generationOf(await h.character({ description: "three owls", count: 3 }));
    const [first, second, third] = view.images;
    if (!first || !second || !third) throw new Error("no images");
    for (const [n, image] of [first, second, third].entries())
      await command(h, "library add", { reference: image.id, name: `owl ${n + 1}` }, MOD, mod);
    const entryOf = async (imageId: string) => {
      const [entry] = await h.ctx.repos.library.forImage(imageId);
      if (!entry) throw new Error("no entry");
      return entry;
    };
    const owl1 = await entryOf(first.id);
    expect(owl1.thumbnailFile).toBe(`${owl1.id}.thumb.jpg`);
    const thumbnail = await h.ctx.files.read(owl1.thumbnailFile as string);
    const meta = await sharp(thumbnail).metadata();
    expect(meta.format).toBe("jpeg");
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(256);

    // The originals' bytes gone from storage: the gallery still shows every preview, so it never reads them.
    for (const image of [first, second, third])
      await h.ctx.files.objects.delete(h.ctx.files.keyOf(image.fileName as string));
    const list = await command(h, "library list", {}, BOB);
    expect(list.content).toContain("page 1/1 · 3 in all");
    expect(list.attachments).toHaveLength(3);

    // /library remove takes the preview with the entry.
    await command(h, "library remove", { name: "owl 1" }, MOD, mod);
    expect(await h.fileStored(owl1.thumbnailFile as string)).toBe(false);
    expect(await h.ctx.repos.pendingDeletions.all()).toEqual([]);
    // Deleting the image takes its entry's preview too.
    const owl2 = await entryOf(second.id);
    await command(h, "reference delete", { id: second.id }, MOD, mod);
    await eventually(async () => !(await h.fileStored(owl2.thumbnailFile as string)));
  });

  it("makes the preview of an entry that has none on its first view, and keeps it", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const image = await imageOf(h, "an old entry");
    await command(h, "library add", { reference: image.id, name: "old" }, MOD, {
      permissions: MODERATOR_PERMISSIONS,
    });
    const [added] = await h.ctx.repos.library.forImage(image.id);
    if (!added?.thumbnailFile) throw new Error("no preview");
    // As an entry made before previews were stored: no column, no file.
    await h.ctx.files.remove(added.thumbnailFile);
    await h.ctx.data.db.updateTable("libraryEntries").set({ thumbnailFile: null }).execute();
    const list = await command(h, "library list", {}, BOB);
    expect(list.attachments).toHaveLength(1);
    const [entry] = await h.ctx.repos.library.forImage(image.id);
    expect(entry?.thumbnailFile).toBe(added.thumbnailFile);
    expect(await h.fileStored(added.thumbnailFile)).toBe(true);
  });

  it("makes again a preview whose file went missing, keeps it, and records it once", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const image = await imageOf(h, "a lost preview");
    await command(h, "library add", { reference: image.id, name: "lost" }, MOD, {
      permissions: MODERATOR_PERMISSIONS,
    });
    const [added] = await h.ctx.repos.library.forImage(image.id);
    if (!added?.thumbnailFile) throw new Error("no preview");
    // The entry still names its preview, but the file is gone (a store restored without thumbnails/, say).
    await h.ctx.files.remove(added.thumbnailFile);
    for (const view of [1, 2]) {
      const list = await command(h, "library list", {}, BOB);
      expect(list.attachments, `view ${view}`).toHaveLength(1);
      expect(await h.fileStored(added.thumbnailFile), `view ${view}`).toBe(true);
    }
    const [entry] = await h.ctx.repos.library.forImage(image.id);
    expect(entry?.thumbnailFile).toBe(added.thumbnailFile);
  });

  it("answers a second page press inside the cooldown with a slow-down, only to that member", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    // A long window, so the test does not depend on how fast the machine presses.
    h.ctx.pagerCooldown = new Cooldown(h.clock, 60_000);
    const view = await h.generationOf(await h.character({ description: "five cats", count: 4 }));
    const fifth = await imageOf(h, "the fifth cat");
    for (const [n, image] of [...view.images, fifth].entries()) {
      await command(h, "library add", { reference: image.id, name: `cat ${n + 1}` }, MOD, {
        permissions: MODERATOR_PERMISSIONS,
      });
    }
    const list = await command(h, "library list", {}, BOB);
    const next = buttons(list)[1]?.custom_id as string;
    const first = h.sandbox.pressButton({ message: list, customId: next, user: BOB });
    await h.sandbox.waitFor(() => first.callback, 5000, "the press acknowledged");
    expect(first.callback?.type).toBe(6);
    const second = h.sandbox.pressButton({ message: list, customId: next, user: BOB });
    const refusal = await h.settledReply(second);
    expect(refusal.visible_to).toBe(BOB.id);
    expect(refusal.content).toContain("Slow down");
    // Past the window, the member pages again.
    h.clock.advance(60_000);
    const third = h.sandbox.pressButton({ message: list, customId: next, user: BOB });
    await h.sandbox.waitFor(() => third.callback, 5000, "the press acknowledged");
    expect(third.callback?.type).toBe(6);
  });

  it(`refuses a ${MAX_NAMES_PER_IMAGE + 1}th name for an image and a ${MAX_LIBRARY_ENTRIES + 1}st entry`, async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    const mod = { permissions: MODERATOR_PERMISSIONS };
    const view = await h.generationOf(await h.character({ description: "two bears", count: 2 }));
    const [crowded, other] = view.images;
    if (!crowded || !other) throw new Error("no images");
    const guildId = h.sandbox.guild.id;
    const insert = (n: number) =>
      h.ctx.repos.library.insert({
        id: newId(),
        guildId,
        name: `bear ${n}`,
        nameKey: `bear ${n}`,
        imageId: crowded.id,
        note: null,
        addedBy: MOD.id,
        createdAt: Date.now(),
        thumbnailFile: null,
      });
    for (let n = 1; n < MAX_NAMES_PER_IMAGE; n++) await insert(n);
    const fifth = await command(h, "library add", { reference: crowded.id, name: "bear last" }, MOD, mod);
    expect(fifth.content).toContain("to the library as **bear last**");
    const sixth = await command(h, "library add", { reference: crowded.id, name: "bear more" }, MOD, mod);
    expect(sixth.visible_to).toBe(MOD.id);
    expect(sixth.content).toContain(`already has ${MAX_NAMES_PER_IMAGE} names in the library`);

    for (let n = MAX_NAMES_PER_IMAGE; n < MAX_LIBRARY_ENTRIES; n++) await insert(n);
    expect(await h.ctx.repos.library.count(guildId)).toBe(MAX_LIBRARY_ENTRIES);
    const full = await command(h, "library add", { reference: other.id, name: "one more" }, MOD, mod);
    expect(full.content).toContain(`library is full (${MAX_LIBRARY_ENTRIES} entries)`);
    expect(await h.ctx.repos.library.count(guildId)).toBe(MAX_LIBRARY_ENTRIES);
    expect(await h.ctx.repos.library.forImage(other.id)).toEqual([]);
  });
});
