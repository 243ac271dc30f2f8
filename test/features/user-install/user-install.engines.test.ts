// A member who installed the app for themselves, using it where the bot is not a member (a DM with someone
// else, context 2, no guild): every reply goes through the interaction's own token, never the bot's; a result
// that lands after the token's 15 minutes is kept, marked, and told on the member's next use.
import { describe, expect, it } from "vitest";
import { deployCommands } from "../../../src/discord/commands/register.ts";
import type { SandboxInteraction, StoredMessage } from "../../../src/sandbox/server.ts";
import { ALICE, BOT_TOKEN, buttons, e2eSuite, eventually, type Harness } from "../../support/bot-harness.ts";
import { replicateFixture } from "../../support/replicate-fixture.ts";

const suite = e2eSuite("user-install");
const replicate = replicateFixture();
const MINUTE = 60_000;

/** A DM between Alice and someone else: the bot is not in it. */
const DM = { guildId: undefined, privateChannel: true, channelId: "600000000000000001" } as const;

/** The bot with its commands registered globally too (DMs see global commands only). */
async function start(env: Record<string, string> = {}, onReplicate = false): Promise<Harness> {
  if (onReplicate) await replicate.start();
  const h = await suite.start({ ...(onReplicate ? replicate.env : {}), ...env });
  h.ctx.retention.stop();
  await deployCommands({ token: BOT_TOKEN, apiUrl: h.sandbox.apiUrl });
  return h;
}

/** Every request the bot made with its own token to a channel (none may go to the DM). */
const botChannelRequests = (h: Harness) =>
  h.sandbox.requestLog.filter((r) => r.lane === "bot" && r.route.startsWith("/channels/"));

function press(h: Harness, message: StoredMessage, label: string): SandboxInteraction {
  const button = buttons(message).find((b) => b.label === label);
  if (!button) throw new Error(`the message has no button ${label}`);
  return h.sandbox.pressButton({ message, customId: button.custom_id, user: ALICE });
}

const inDm = (h: Harness, command: string, options: Record<string, string | number> = {}) =>
  h.sandbox.runCommand({ command, options, user: ALICE, ...DM });

/**
 * /character in the DM whose token then expires (16 minutes on, the interaction closed, tokens swept), and the
 * generation's row once it has been delivered one way or another.
 */
async function afterExpiry(h: Harness, description: string) {
  const command = inDm(h, "character", { description, count: 1 });
  const generationId = await eventually(async () => {
    const rows = await h.ctx.data.db.selectFrom("generations").select("id").execute();
    return rows[0]?.id;
  });
  h.clock.advance(16 * MINUTE);
  h.sandbox.expireInteraction(command);
  await h.ctx.retention.sweep();
  const row = await eventually(async () => {
    const found = await h.ctx.data.db
      .selectFrom("generations")
      .select(["deliveredLaterAt", "deliveredAt", "laterNoticeAt", "status"])
      .where("id", "=", generationId)
      .executeTakeFirst();
    return found?.deliveredAt != null && found;
  }, 15_000);
  return { generationId, row, command };
}

describe("a member's own install, where the bot is not", () => {
  it("registers every command for server and member installs, in every context", async () => {
    const h = await start();
    const commands = h.sandbox.commandsFor(undefined);
    expect(commands.length).toBeGreaterThan(0);
    for (const c of commands) {
      expect(c.integration_types, c.name).toEqual([0, 1]);
      expect(c.contexts, c.name).toEqual([0, 1, 2]);
    }
  });

  it("/character, a pick, Vary and /video in a DM all go through interaction tokens, none through the bot's", async () => {
    const h = await start({}, true);
    const command = inDm(h, "character", { description: "a knight", count: 2 });
    const grid = await h.grid(command);
    expect(grid.channel_id).toBe(DM.channelId);
    expect(grid.attachments).toHaveLength(2);
    const { generation } = await h.generationOf(grid);
    expect(generation.delivery).toBe("interaction");
    expect(generation.guildId).toBeNull();

    const picked = await h.pick(grid, 1);
    expect(picked.content).toContain("Picked image 1");
    const varied = await h.grid(press(h, grid, "Vary 1"));
    expect(varied.channel_id).toBe(DM.channelId);
    expect((await h.generationOf(varied)).generation.delivery).toBe("interaction");

    const video = await h.settledReply(
      inDm(h, "video", { prompt: "walks" }),
      (m) => m.attachments.length === 1,
    );
    expect(video.channel_id).toBe(DM.channelId);
    const [row] = await h.ctx.data.db.selectFrom("videos").select(["delivery"]).execute();
    expect(row?.delivery).toBe("interaction");

    expect(h.sandbox.refusedBotRequests).toEqual([]);
    expect(botChannelRequests(h)).toEqual([]);
  });

  it("in a server without the bot (context 0, only the member's install), /character answers through the interaction with the bot-wide rules", async () => {
    const h = await start({ DEFAULT_BLOCKLIST: "wyvern" });
    h.sandbox.removeBot();
    const inServer = { user: ALICE, userInstall: true, guildId: h.sandbox.guild.id } as const;
    const grid = await h.grid(
      h.sandbox.runCommand({
        command: "character",
        options: { description: "a knight", count: 1 },
        ...inServer,
      }),
    );
    expect(grid.guild_id).toBe(h.sandbox.guild.id);
    const { generation } = await h.generationOf(grid);
    expect(generation).toMatchObject({ delivery: "interaction", guildId: null });
    const refused = await h.refusal(
      h.sandbox.runCommand({ command: "character", options: { description: "a wyvern" }, ...inServer }),
    );
    expect(refused.content).toContain("not allowed by the bot's rules");
    expect(h.sandbox.refusedBotRequests).toEqual([]);
    expect(botChannelRequests(h)).toEqual([]);
  });

  it("a grid that lands after the token expired is kept, marked, told once on the next use and in /reference list", async () => {
    const h = await start({ MOCK_LATENCY_MS: "2500" });
    const { generationId, row: late, command } = await afterExpiry(h, "a slow knight");
    expect(late.deliveredLaterAt).not.toBeNull();
    expect(late.deliveredAt).not.toBeNull();
    expect(late.laterNoticeAt).toBeNull();
    const view = await h.ctx.generation.view(generationId);
    expect(view?.images.filter((i) => i.status === "succeeded")).toHaveLength(1);
    expect(h.sandbox.refusedBotRequests).toEqual([]);
    expect(botChannelRequests(h)).toEqual([]);

    // A note Discord refuses is handed back: the result is still untold, for the next use.
    h.sandbox.injectFault({ method: "POST", path: /^\/webhooks\/\d+\/[^/]+$/, status: 403 });
    const refused = inDm(h, "usage");
    await h.settledReply(refused);
    await eventually(async () =>
      h.logLines.some(
        (l) => l.includes(refused.id) && l.includes("could not tell the member of results delivered later"),
      ),
    );
    expect(h.sandbox.followUps(refused)).toEqual([]);
    const untold = await h.ctx.data.db
      .selectFrom("generations")
      .select("laterNoticeAt")
      .where("id", "=", generationId)
      .executeTakeFirst();
    expect(untold?.laterNoticeAt).toBeNull();
    // The /character whose token expired tried no note through it (nor held the result while trying).
    const noted = (id: string) =>
      h.logLines.some((l) => l.includes(id) && l.includes("results delivered later"));
    expect(noted(command.id)).toBe(false);

    // Two uses at once (a command run twice, two processes of a fleet): the note goes once, with the first reply.
    const list = inDm(h, "reference list");
    const usage = inDm(h, "usage");
    const [reply] = await Promise.all([h.settledReply(list), h.settledReply(usage)]);
    expect(reply.content).toContain("delivered later");
    const notes = () => [...h.sandbox.followUps(list), ...h.sandbox.followUps(usage)];
    const [notice] = await h.sandbox.waitFor(() => notes().length > 0 && notes(), 10_000, "the note");
    expect(notice?.content).toContain("finished after Discord's 15 minutes ran out");
    expect(notice?.content).toContain("“a slow knight”");
    expect(notice?.visible_to).toBe(ALICE.id);
    // Marked told before the note went out: a use right after it says nothing more, nor does the other one.
    const told = await h.ctx.data.db
      .selectFrom("generations")
      .select("laterNoticeAt")
      .where("id", "=", generationId)
      .executeTakeFirst();
    expect(told?.laterNoticeAt).not.toBeNull();
    const next = inDm(h, "usage");
    await h.settledReply(next);
    await new Promise((r) => setTimeout(r, 300));
    expect(notes()).toHaveLength(1);
    expect(h.sandbox.followUps(next)).toEqual([]);
    expect(botChannelRequests(h)).toEqual([]);
  });

  it("a grid that fails after the token expired is over, not kept as a result delivered later", async () => {
    const h = await start({ MOCK_LATENCY_MS: "2500" });
    const { row } = await afterExpiry(h, "a doomed knight [mock:provider_error]");
    expect(row.status).toBe("failed");
    expect(row.deliveredLaterAt).toBeNull();
    // The next use tells of nothing.
    const usage = inDm(h, "usage");
    await h.settledReply(usage);
    expect(h.sandbox.followUps(usage)).toEqual([]);
    expect(botChannelRequests(h)).toEqual([]);
  });

  it("DEFAULT_BLOCKLIST refuses outside a server, privately, with nothing recorded", async () => {
    const h = await start({ DEFAULT_BLOCKLIST: "dragon, wyvern" });
    const refused = await h.refusal(inDm(h, "character", { description: "a red dragon" }));
    expect(refused.content).toContain("not allowed by the bot's rules");
    expect(refused.visible_to).toBe(ALICE.id);
    expect(await h.recordedRows("generations")).toBe(0);
    expect(botChannelRequests(h)).toEqual([]);
  });

  it("/library, /settings and /moderation refuse privately outside a server that added the bot", async () => {
    const h = await start();
    for (const command of ["library list", "settings view", "moderation log"]) {
      const reply = await h.settledReply(inDm(h, command));
      expect(reply.content, command).toContain(
        `/${command.split(" ")[0]} works in a server that has added the bot`,
      );
      expect(reply.visible_to, command).toBe(ALICE.id);
    }
    expect(botChannelRequests(h)).toEqual([]);
  });
});
