import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  buttons,
  e2eSuite,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";

const suite = e2eSuite("reference");

async function makeGrid(harness: Harness, description: string, count = 4) {
  const message = await harness.character({ description, count });
  return { message, view: await harness.generationOf(message) };
}

async function reply(
  harness: Harness,
  command: string,
  options: Record<string, string>,
  user = ALICE,
  permissions?: bigint,
) {
  const i = harness.sandbox.runCommand({ command, options, user, ...(permissions ? { permissions } : {}) });
  return harness.settledReply(i);
}

describe("/reference", () => {
  it("show attaches the stored image; info tells prompt, model, size, dimensions and whether it is the pick", async () => {
    const h = await suite.start();
    const { message, view } = await makeGrid(h, "a violet wizard");
    const image = view?.images[2];
    if (!image) throw new Error("no image");

    const shown = await reply(h, "reference show", { id: image.id });
    expect(shown.visible_to).toBe(ALICE.id);
    expect(shown.attachments).toHaveLength(1);
    expect((await sharp(shown.attachments[0]?.data).metadata()).width).toBe(image.width);
    expect(shown.attachments[0]?.size).toBe(image.bytes);

    let info = await reply(h, "reference info", { id: image.id });
    for (const part of [
      "a violet wizard",
      "mock/character-sketch",
      "aspectRatio=1:1",
      "1024×1024",
      "image/png",
      "Current pick: no",
    ]) {
      expect(info.content).toContain(part);
    }
    const press = h.sandbox.pressButton({
      message,
      customId: buttons(message)[2]?.custom_id as string,
      user: ALICE,
    });
    await h.followUp(press);
    info = await reply(h, "reference info", { id: image.id });
    expect(info.content).toContain("Current pick: yes");
  });

  it("list shows the user's own references newest first, paged with buttons", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    await makeGrid(h, "first batch", 4);
    await makeGrid(h, "second batch", 4);
    const { view } = await makeGrid(h, "third batch", 4);
    (await h.sandbox.runCommand({
      command: "character",
      options: { description: "bob's", count: 1 },
      user: BOB,
    })) && undefined;

    const list = await reply(h, "reference list", {});
    expect(list.visible_to).toBe(ALICE.id);
    expect(list.content).toContain("page 1/2 · 12 in all");
    expect(list.content.split("\n")[1]).toContain("third batch");
    expect(list.content).not.toContain("bob's");
    for (const image of view?.images ?? []) expect(list.content).toContain(image.id);
    const [newer, older] = buttons(list);
    expect(newer?.disabled).toBe(true);

    const page2 = h.sandbox.pressButton({ message: list, customId: older?.custom_id as string, user: ALICE });
    // The press is acknowledged first (a deferred update), then the list is edited to page 2.
    await h.sandbox.waitFor(() => page2.callback, 5000, "page 2 acknowledged");
    const updated = await h.sandbox.waitFor(
      () => h.sandbox.messages.get(list.id)?.content.includes("page 2/2") && h.sandbox.messages.get(list.id),
      5000,
      "page 2",
    );
    expect(updated.content).toContain("page 2/2");
    expect(updated.content).toContain("first batch");
    expect(updated.content.split("\n")).toHaveLength(3);
  });

  it("lets members see only their own references, and moderators any in their guild", async () => {
    const h = await suite.start();
    const { view } = await makeGrid(h, "alice's secret", 1);
    const id = view?.images[0]?.id as string;

    for (const sub of ["reference show", "reference info"]) {
      const refused = await reply(h, sub, { id }, BOB);
      expect(refused.visible_to).toBe(BOB.id);
      expect(refused.content).toContain(`No reference \`${id}\` that you can see`);
      expect(refused.attachments).toEqual([]);
    }
    const moderated = await reply(h, "reference show", { id }, MOD, MODERATOR_PERMISSIONS);
    expect(moderated.attachments).toHaveLength(1);
    expect(moderated.content).toContain("alice's secret");
  });

  it("answers invalid and unknown ids with an ephemeral error without touching any file", async () => {
    const h = await suite.start();
    for (const id of [
      "../../etc/passwd",
      "not-an-id",
      "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed",
      "`; DROP TABLE images; --",
    ]) {
      const answer = await reply(h, "reference show", { id });
      expect(answer.visible_to).toBe(ALICE.id);
      expect(answer.attachments).toEqual([]);
      expect(answer.content).toMatch(/is not a reference id|No reference/);
    }
    expect(await h.recordedRows("images")).toBe(0);
  });

  it("lets a moderator page through another member's list, and no other member", async () => {
    const h = await suite.start({ MOCK_LATENCY_MS: "20" });
    await makeGrid(h, "first batch", 4);
    await makeGrid(h, "second batch", 4);
    await makeGrid(h, "third batch", 4);

    const list = await reply(h, "reference list", { user: ALICE.id }, MOD, MODERATOR_PERMISSIONS);
    expect(list.visible_to).toBe(MOD.id);
    expect(list.content).toContain(`References of <@${ALICE.id}>** · page 1/2 · 12 in all`);
    const older = buttons(list)[1]?.custom_id as string;

    const refused = h.sandbox.pressButton({ message: list, customId: older, user: BOB });
    const refusal = await h.settledReply(refused);
    expect(refusal.visible_to).toBe(BOB.id);
    expect(refusal.content).toContain("That list belongs to someone else");
    expect(h.sandbox.messages.get(list.id)?.content).toContain("page 1/2");

    const paged = h.sandbox.pressButton({
      message: list,
      customId: older,
      user: MOD,
      permissions: MODERATOR_PERMISSIONS,
    });
    await h.sandbox.waitFor(() => paged.callback, 5000, "page 2 acknowledged");
    const page2 = await h.sandbox.waitFor(
      () => h.sandbox.messages.get(list.id)?.content.includes("page 2/2") && h.sandbox.messages.get(list.id),
      5000,
      "page 2",
    );
    expect(page2?.content).toContain(`References of <@${ALICE.id}>** · page 2/2`);
    expect(page2?.content).toContain("first batch");
    expect(page2?.content).not.toContain("third batch");
  });
});
