// Retention with the bot's clock moved forward: interaction tokens go after their 15 minutes (a late result
// still arrives over the bot token), old prompts and tombstones after RETENTION_DAYS, images after
// IMAGE_RETENTION_DAYS when set, and a server's data after GUILD_DATA_GRACE_DAYS once the bot was removed.
import { describe, expect, it } from "vitest";
import { deployCommands } from "../../../src/discord/commands/register.ts";
import { DAY_MS, RETENTION_ACTOR } from "../../../src/features/retention/retention-service.ts";
import type { SandboxUser } from "../../../src/sandbox/server.ts";
import {
  ALICE,
  BOT_TOKEN,
  buttons,
  e2eSuite,
  eventually,
  type Harness,
  MOD,
  MODERATOR_PERMISSIONS,
} from "../../support/bot-harness.ts";

const suite = e2eSuite("retention");
const MINUTE = 60_000;

async function command(
  h: Harness,
  name: string,
  options: Record<string, string>,
  user: SandboxUser = ALICE,
  extra: { permissions?: bigint; guildId?: string | undefined; channelId?: string } = {},
) {
  return h.settledReply(h.sandbox.runCommand({ command: name, options, user, ...extra }));
}

/** The bot's harness with its own sweep timer stopped: each test sweeps when it has moved the clock. */
async function start(env: Record<string, string> = {}): Promise<Harness> {
  const h = await suite.start({ MOCK_LATENCY_MS: "30", ...env });
  h.ctx.retention.stop();
  return h;
}

const tokens = async (h: Harness) => {
  const generations = await h.ctx.data.db
    .selectFrom("generations")
    .select(["id", "interactionToken"])
    .execute();
  const videos = await h.ctx.data.db.selectFrom("videos").select(["id", "interactionToken"]).execute();
  return [...generations, ...videos];
};

describe("retention", () => {
  it("clears interaction tokens 15 minutes after their interaction, not before", async () => {
    const h = await start();
    const grid = await h.character({ description: "a knight", count: 1 });
    await h.pick(grid, 1);
    await h.settledReply(
      h.sandbox.runCommand({ command: "video", options: { prompt: "walks" }, user: ALICE }),
      (m) => m.attachments.length === 1,
    );
    h.clock.advance(14 * MINUTE);
    await h.ctx.retention.sweep();
    const kept = await tokens(h);
    expect(kept).toHaveLength(2);
    expect(kept.every((r) => typeof r.interactionToken === "string")).toBe(true);

    h.clock.advance(2 * MINUTE);
    const report = await h.ctx.retention.sweep();
    expect(report).toMatchObject({ ran: true, tokens: 2 });
    expect((await tokens(h)).map((r) => r.interactionToken)).toEqual([null, null]);
  });

  it("a request still running when its token is cleared is delivered over the bot token to the channel, after a restart too", async () => {
    const h = await start({ MOCK_LATENCY_MS: "2500" });
    const interaction = h.sandbox.runCommand({
      command: "character",
      options: { description: "a slow knight", count: 1 },
      user: ALICE,
    });
    const [running] = await eventually(async () => {
      const rows = await tokens(h);
      return rows.length === 1 && rows;
    });
    h.clock.advance(16 * MINUTE);
    h.sandbox.expireInteraction(interaction);
    expect((await h.ctx.retention.sweep()).tokens).toBe(1);
    expect((await tokens(h))[0]?.interactionToken).toBeNull();
    // Resumed from its row, which no longer has a token: the result goes out over the bot token.
    await h.restart();
    h.ctx.retention.stop();

    const posted = await h.sandbox.waitFor(
      () =>
        h.sandbox
          .channelMessages()
          .find(
            (m) =>
              m.id !== interaction.originalMessageId &&
              m.attachments.length === 1 &&
              buttons(m).some((b) => b.label === "Regenerate"),
          ),
      15_000,
      "the grid posted to the channel",
    );
    expect(posted.content).toContain(`<@${ALICE.id}>`);
    await h.delivered(running?.id as string);
  });

  it("forgets the prompts of failed and blocked requests after RETENTION_DAYS, not before", async () => {
    const h = await start({ MOCK_FAILURE_RATE: "1" });
    const guildId = h.sandbox.guild.id;
    await h.ctx.repos.guildSettings.save(
      { ...(await h.ctx.repos.guildSettings.get(guildId)), blocklist: ["gore"] },
      "setup",
      h.clock.now(),
    );
    const failed = (await h.generationOf(await h.character({ description: "a doomed knight", count: 1 })))
      .generation;
    expect(failed).toMatchObject({ status: "failed", prompt: "a doomed knight" });
    await h.refusal(
      h.sandbox.runCommand({ command: "character", options: { description: "a gore knight" }, user: ALICE }),
    );
    const blocked = async () =>
      (await h.ctx.repos.audit.recent(guildId, 10)).find((a) => a.action === "prompt_blocked");
    expect((await blocked())?.details.prompt).toBe("a gore knight");

    h.clock.advance(29 * DAY_MS);
    await h.ctx.retention.sweep();
    expect((await h.ctx.generation.view(failed.id))?.generation.prompt).toBe("a doomed knight");
    expect((await blocked())?.details.prompt).toBe("a gore knight");

    h.clock.advance(2 * DAY_MS);
    const report = await h.ctx.retention.sweep();
    expect(report.daily).toMatchObject({ prompts: 1, auditPrompts: 1 });
    expect((await h.ctx.generation.view(failed.id))?.generation.prompt).toBe("");
    const audit = await blocked();
    expect(audit?.details).not.toHaveProperty("prompt");
    expect(audit?.details).toMatchObject({ entry: "gore", promptExpired: true });
    const log = await command(h, "moderation log", {}, MOD, { permissions: MODERATOR_PERMISSIONS });
    expect(log.content).toContain("(the prompt is no longer kept)");
    expect(log.content).not.toContain("a gore knight");
  });

  it("removes deletion tombstones after RETENTION_DAYS, and the generation once nothing of it remains", async () => {
    const h = await start();
    const view = await h.generationOf(await h.character({ description: "a short-lived knight", count: 1 }));
    const image = view.images[0];
    if (!image) throw new Error("no image");
    expect((await command(h, "reference delete", { id: image.id })).content).toContain("Deleted reference");
    expect((await h.ctx.references.imageRow(image.id))?.deletedAt).toEqual(expect.any(Number));

    h.clock.advance(29 * DAY_MS);
    await h.ctx.retention.sweep();
    expect(await h.ctx.references.imageRow(image.id)).toBeDefined();

    h.clock.advance(2 * DAY_MS);
    await h.ctx.retention.sweep();
    expect(await h.ctx.references.imageRow(image.id)).toBeUndefined();
    expect(await h.ctx.generation.view(view.generation.id)).toBeUndefined();
  });

  it("IMAGE_RETENTION_DAYS: /reference list says when; an older image's file, message and then row go", async () => {
    const h = await start({ IMAGE_RETENTION_DAYS: "7" });
    const grid = await h.character({ description: "a fleeting knight", count: 1 });
    const image = (await h.generationOf(grid)).images[0];
    if (!image?.fileName || image.finishedAt === null) throw new Error("no image");
    const list = await command(h, "reference list", {});
    const goes = Math.floor((image.finishedAt + 7 * DAY_MS) / 1000);
    expect(list.content).toContain(`removed <t:${goes}:f>`);

    h.clock.advance(6 * DAY_MS);
    await h.ctx.retention.sweep();
    expect(await h.fileStored(image.fileName)).toBe(true);

    h.clock.advance(2 * DAY_MS);
    expect((await h.ctx.retention.sweep()).daily?.expiredImages).toBe(1);
    expect(await h.fileStored(image.fileName)).toBe(false);
    expect(await h.ctx.references.imageRow(image.id)).toMatchObject({ deletedBy: RETENTION_ACTOR });
    const edited = await h.sandbox.waitFor(
      () => {
        const m = h.sandbox.messages.get(grid.id);
        return m && m.attachments.length === 0 ? m : undefined;
      },
      5000,
      "the grid without the expired image",
    );
    expect(edited.content).toContain("image retention period");

    h.clock.advance(31 * DAY_MS);
    await h.ctx.retention.sweep();
    expect(await h.ctx.references.imageRow(image.id)).toBeUndefined();
  });
});

/** A server with settings, a library entry (with its preview) and audit rows, and Alice's image in it. */
async function serverWithData(h: Harness) {
  const guildId = h.sandbox.guild.id;
  const view = await h.generationOf(await h.character({ description: "a loyal knight", count: 1 }));
  const image = view.images[0];
  if (!image) throw new Error("no image");
  await command(h, "settings modlog", { channel: h.sandbox.channel.id }, MOD, {
    permissions: MODERATOR_PERMISSIONS | (1n << 5n),
  });
  await command(h, "library add", { reference: image.id, name: "Knight" }, MOD, {
    permissions: MODERATOR_PERMISSIONS,
  });
  const entry = await eventually(async () => {
    const e = await h.ctx.repos.library.byName(guildId, "Knight");
    return e?.thumbnailFile ? e : undefined;
  });
  return { guildId, image, generationId: view.generation.id, thumbnail: entry.thumbnailFile as string };
}

const serverData = async (h: Harness, guildId: string) => ({
  modLog: (await h.ctx.repos.guildSettings.get(guildId)).modLogChannelId,
  library: await h.ctx.repos.library.count(guildId),
  audit: (await h.ctx.repos.audit.recent(guildId, 50)).length,
});

describe("leaving a server", () => {
  it("coming back within GUILD_DATA_GRACE_DAYS keeps everything", async () => {
    const h = await start();
    const { guildId } = await serverWithData(h);
    const before = await serverData(h, guildId);
    expect(before).toMatchObject({ modLog: h.sandbox.channel.id, library: 1 });
    expect(before.audit).toBeGreaterThan(0);

    h.sandbox.removeBot();
    const departure = await eventually(() => h.ctx.retention.departure(guildId));
    expect(departure.purgeAt - departure.leftAt).toBe(30 * DAY_MS);
    h.clock.advance(10 * DAY_MS);
    h.sandbox.addBot();
    await eventually(async () => (await h.ctx.retention.departure(guildId)) === undefined);

    h.clock.advance(25 * DAY_MS);
    await h.ctx.retention.sweep();
    expect(await serverData(h, guildId)).toEqual(before);
  });

  it("staying away past the grace removes the server's settings, library and audit; the member keeps her images in DMs", async () => {
    const h = await start();
    const { guildId, image, generationId, thumbnail } = await serverWithData(h);
    h.sandbox.removeBot();
    await eventually(() => h.ctx.retention.departure(guildId));

    h.clock.advance(29 * DAY_MS);
    await h.ctx.retention.sweep();
    expect((await serverData(h, guildId)).library).toBe(1);

    h.clock.advance(2 * DAY_MS);
    expect((await h.ctx.retention.sweep()).daily?.guildsPurged).toBe(1);
    expect(await serverData(h, guildId)).toEqual({ modLog: null, library: 0, audit: 0 });
    expect(await h.fileStored(thumbnail)).toBe(false);
    expect(await h.ctx.retention.departure(guildId)).toBeUndefined();
    const generation = (await h.ctx.generation.view(generationId))?.generation;
    expect(generation).toMatchObject({ guildId: null, channelId: null, messageId: null });

    expect(await h.fileStored(image.fileName as string)).toBe(true);
    // As on Discord, only globally registered commands exist in DMs.
    await deployCommands({ token: BOT_TOKEN, apiUrl: h.sandbox.apiUrl });
    const dm = await command(h, "reference list", {}, ALICE, {
      guildId: undefined,
      channelId: "700000000000000001",
    });
    expect(dm.content).toContain(image.id);
  });

  it("an outage's GUILD_DELETE (unavailable) schedules nothing", async () => {
    const h = await start();
    const guildId = h.sandbox.guild.id;
    h.sandbox.removeBot(h.sandbox.guild, { outage: true });
    await h.sandbox.waitFor(() => h.bot.client.guilds.cache.get(guildId)?.available === false);
    // Then a real removal of another kind would be recorded: the event path works, the outage was skipped.
    await new Promise((r) => setTimeout(r, 200));
    expect(await h.ctx.retention.departure(guildId)).toBeUndefined();
  });
});
