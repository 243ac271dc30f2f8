import { fileTypeFromBuffer } from "file-type";
import { describe, expect, it } from "vitest";
import { ALICE, BOB, e2eSuite, type Harness, MOD, MODERATOR_PERMISSIONS } from "../../support/bot-harness.ts";
import type { Behaviour } from "../../support/fake-predictions.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";

const suite = e2eSuite("video");
const replicate = replicateFixture();

/** A bot on the fake Replicate server; prompts containing "slow" take `slowMs`. */
async function start(slowMs = 600, env: Record<string, string> = {}): Promise<Harness> {
  await replicate.start({
    behaviour: (input): Behaviour => ({ latencyMs: String(input.prompt).includes("slow") ? slowMs : 50 }),
  });
  return suite.start({ ...replicate.env, ...env });
}

async function pick(h: Harness, slot: number, user = ALICE) {
  await h.pick(await h.character({ description: "a red fox knight", count: 4 }, user), slot, user);
  const current = await h.ctx.references.currentSelection(user.id, h.sandbox.guild.id);
  if (!current) throw new Error("no pick");
  return current.image;
}

const videoDone = (h: Harness, i: ReturnType<Harness["sandbox"]["runCommand"]>) =>
  h.settledReply(i, (m) => !m.content.includes("elapsed"));

describe("/video", () => {
  it("records no video for a reference deleted after /video looked it up, and charges nothing", async () => {
    const h = await start();
    const image = await pick(h, 1);
    // The command found the reference; a moderator deletes it before the video is recorded.
    const looked = await h.ctx.references.imageRow(image.id);
    if (!looked) throw new Error("reference not found");
    await h.ctx.moderation.deleteReference(looked, { userId: MOD.id, guildId: h.sandbox.guild.id });
    const viewer = { userId: ALICE.id, guildId: h.sandbox.guild.id, canModerate: false };
    const created = await h.ctx.video.create(
      { viewer, channelId: null, prompt: "walks through rain", image: looked },
      h.ctx.admission.admitter({
        guildId: viewer.guildId,
        userId: viewer.userId,
        prompt: "walks",
        kind: "video",
        units: 1,
      }),
    );
    expect(created).toEqual({ ok: false, reason: "gone" });
    expect(await h.ctx.video.forImage(image.id)).toEqual([]);
    expect((await h.ctx.quota.report(ALICE.id, h.sandbox.guild.id)).user.videos.used).toBe(0);
  });

  it("sends exactly the picked image's bytes in the model's field (a Files API upload), stores the MP4 and posts it", async () => {
    const h = await start();
    const image = await pick(h, 2);
    const i = h.sandbox.runCommand({
      command: "video",
      options: { prompt: "walks through rain" },
      user: ALICE,
    });
    const message = await videoDone(h, i);

    const create = replicate.fake.creates.at(-1);
    expect(create?.model).toBe("minimax/video-01");
    expect(Object.keys(create?.input ?? {}).sort()).toEqual([
      "prompt",
      "prompt_optimizer",
      "subject_reference",
    ]);
    // Without PUBLIC_URL the reference goes through Replicate's Files API: the model reads the uploaded file's
    // URL, and what it reads there is exactly the stored image.
    const sent = String(create?.input.subject_reference);
    expect(sent).toMatch(new RegExp(`^${replicate.fake.url}/files/\\w+/download$`));
    const original = await h.ctx.files.read(image.fileName as string);
    const fetched = await fetch(sent);
    expect(fetched.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await fetched.arrayBuffer()).equals(original)).toBe(true);

    expect(message.attachments).toHaveLength(1);
    expect((await fileTypeFromBuffer(message.attachments[0]?.data ?? Buffer.alloc(0)))?.mime).toBe(
      "video/mp4",
    );
    const videoId = /^video-(.+)\.mp4$/.exec(message.attachments[0]?.filename ?? "")?.[1] ?? "";
    const row = await h.ctx.video.get(videoId);
    expect(row).toMatchObject({
      id: videoId,
      referenceImageId: image.id,
      generationId: image.generationId,
      status: "succeeded",
      mime: "video/mp4",
      model: "minimax/video-01",
      fileName: `${videoId}.mp4`,
    });
    expect(
      (await h.ctx.files.read(`${videoId}.mp4`)).equals(message.attachments[0]?.data ?? Buffer.alloc(0)),
    ).toBe(true);
    expect(message.content).toContain(videoId);

    const info = await h.settledReply(
      h.sandbox.runCommand({ command: "reference info", options: { id: image.id }, user: ALICE }),
    );
    expect(info.content).toContain(`Videos (1):`);
    expect(info.content).toContain(videoId);
  });

  it("shows elapsed time while the prediction runs", async () => {
    const h = await start(2600, { VIDEO_PROGRESS_INTERVAL_MS: "200" });
    await pick(h, 1);
    const i = h.sandbox.runCommand({ command: "video", options: { prompt: "slow dance" }, user: ALICE });
    const progress = await h.settledReply(i, (m) => m.content.includes("elapsed"));
    expect(progress.content).toMatch(/0:0\d elapsed/);
    const later = await h.sandbox.waitFor(
      () => {
        const m = h.sandbox.original(i);
        return m && /0:0[1-9] elapsed/.test(m.content) ? m : undefined;
      },
      10_000,
      "a later progress edit",
    );
    expect(later.revisions).toBeGreaterThan(1);
    expect((await videoDone(h, i)).attachments).toHaveLength(1);
  });

  it("without a pick says how to make one, and creates nothing", async () => {
    const h = await start();
    const answer = await h.refusal(
      h.sandbox.runCommand({ command: "video", options: { prompt: "jumps" }, user: ALICE }),
    );
    expect(answer.content).toContain("You have not picked a reference in this server yet");
    expect(answer.content).toContain("/character");
    expect(replicate.fake.creates).toHaveLength(0);
  });

  it("refuses another member's reference id, and lets a moderator use it", async () => {
    const h = await start();
    const image = await pick(h, 3);
    const creates = replicate.fake.creates.length;
    const refused = await h.refusal(
      h.sandbox.runCommand({
        command: "video",
        options: { prompt: "steals it", reference: image.id },
        user: BOB,
      }),
    );
    expect(refused.content).toContain(`No reference \`${image.id}\` that you can see`);
    expect(replicate.fake.creates.length).toBe(creates);
    const moderated = await videoDone(
      h,
      h.sandbox.runCommand({
        command: "video",
        options: { prompt: "reviews it", reference: image.id },
        user: MOD,
        permissions: MODERATOR_PERMISSIONS,
      }),
    );
    expect(moderated.attachments).toHaveLength(1);
  });

  it("offers the user's recent references in autocomplete", async () => {
    const h = await start();
    const image = await pick(h, 1);
    const i = h.sandbox.runCommand({
      command: "video",
      options: { prompt: "x", reference: "fox" },
      focused: "reference",
      user: ALICE,
    });
    const choices = (await h.sandbox.waitFor(() => i.autocompleteChoices, 5000, "choices")) as Array<{
      name: string;
      value: string;
    }>;
    expect(choices).toHaveLength(4);
    expect(choices.map((c) => c.value)).toContain(image.id);
    expect(choices[0]?.name).toContain("a red fox knight");
    const none = h.sandbox.runCommand({
      command: "video",
      options: { prompt: "x", reference: "dragon" },
      focused: "reference",
      user: BOB,
    });
    expect(await h.sandbox.waitFor(() => none.autocompleteChoices, 5000, "choices")).toEqual([]);
  });

  it("says the video is too large to attach, and where it is, when it exceeds the upload limit", async () => {
    const h = await start();
    await pick(h, 1);
    const tiny = h.sandbox.runCommand({
      command: "video",
      options: { prompt: "bigger" },
      user: ALICE,
      attachmentSizeLimit: 32 * 1024,
    });
    const refused = await videoDone(h, tiny);
    expect(refused.attachments).toEqual([]);
    expect(refused.content).toContain("The video is 35 KiB, over this server's 32 KiB upload limit");
    expect(refused.content).toMatch(/stored by the bot as video `[0-9a-f-]{36}`/);
  });

  it("falls back to a channel message that mentions the requester when the interaction token stops working", async () => {
    const h = await start(1500);
    await pick(h, 1);
    const i = h.sandbox.runCommand({ command: "video", options: { prompt: "slow sunset" }, user: ALICE });
    await h.settledReply(i, (m) => m.content.includes("elapsed"));
    h.sandbox.expireInteraction(i);
    const delivered = await h.sandbox.waitFor(
      () =>
        h.sandbox.channelMessages().find((m) => m.interaction_id === undefined && m.attachments.length === 1),
      10_000,
      "a channel message with the video",
    );
    expect(delivered.content.startsWith(`<@${ALICE.id}>`)).toBe(true);
    expect(delivered.visible_to).toBeUndefined();
    expect(h.sandbox.original(i)?.attachments).toEqual([]);
    expect(h.sandbox.requestLog.some((r) => r.status === 401)).toBe(true);
  });
});
