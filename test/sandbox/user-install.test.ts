// The local server's user-install contexts, as Discord sends them: an interaction from a DM between others
// (context 2, no guild, only the member as authorizing owner), the bot's token refused in that channel (and
// each such request kept), and at most 5 follow-ups per interaction there.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DiscordSandbox, type SandboxUser } from "../../src/sandbox/server.ts";

const ALICE: SandboxUser = { id: "500000000000000001", username: "alice" };
const DM_CHANNEL = "600000000000000001";

let sandbox: DiscordSandbox | undefined;
let endpoint: Server | undefined;
afterEach(async () => {
  await sandbox?.close();
  await new Promise((r) => (endpoint ? endpoint.close(r) : r(undefined)));
  sandbox = undefined;
  endpoint = undefined;
});

/** A sandbox with one global command, whose interactions go to an endpoint that keeps their payloads. */
async function start(command: Record<string, unknown>) {
  const s = await DiscordSandbox.start();
  sandbox = s;
  const payloads: Array<Record<string, unknown>> = [];
  endpoint = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      payloads.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ type: 5 }));
    });
  });
  await new Promise<void>((r) => endpoint?.listen(0, "127.0.0.1", r));
  s.http.url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/interactions`;
  const put = await bot(s, "PUT", `/applications/${s.applicationId}/commands`, [
    { name: "ping", description: "Ping", type: 1, ...command },
  ]);
  expect(put.status).toBe(200);
  return { s, payloads };
}

function bot(s: DiscordSandbox, method: string, path: string, body: unknown) {
  return fetch(`${s.apiUrl}/v10${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bot ${s.token}` },
    body: JSON.stringify(body),
  });
}

const webhook = (s: DiscordSandbox, token: string, content: string) =>
  fetch(`${s.apiUrl}/v10/webhooks/${s.applicationId}/${token}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ content }),
  });

describe("user-install contexts", () => {
  it("sends a DM between others as context 2 with only the member as owner, and refuses the bot's token there", async () => {
    const { s, payloads } = await start({ integration_types: [0, 1], contexts: [0, 1, 2] });
    const interaction = s.runCommand({
      command: "ping",
      user: ALICE,
      guildId: undefined,
      privateChannel: true,
      channelId: DM_CHANNEL,
    });
    await s.waitFor(() => interaction.callback, 5000, "the deferral");
    const [payload] = payloads;
    expect(payload).toMatchObject({
      context: 2,
      authorizing_integration_owners: { 1: ALICE.id },
      channel_id: DM_CHANNEL,
    });
    expect(payload).not.toHaveProperty("guild_id");
    expect(payload?.authorizing_integration_owners).not.toHaveProperty("0");

    const posted = await bot(s, "POST", `/channels/${DM_CHANNEL}/messages`, { content: "hi" });
    expect(posted.status).toBe(403);
    expect(await posted.json()).toMatchObject({ code: 50001 });
    expect(s.refusedBotRequests.map((r) => `${r.method} ${r.route}`)).toEqual([
      `POST /channels/${DM_CHANNEL}/messages`,
    ]);

    // The first follow-up of a deferral becomes the reply; then five follow-ups, and a sixth is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await webhook(s, interaction.token, `m${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 400]);
    expect(s.followUps(interaction)).toHaveLength(5);
  });

  it("does not offer a command registered for servers only to a member's own install", async () => {
    const { s } = await start({});
    expect(() =>
      s.runCommand({ command: "ping", user: ALICE, guildId: undefined, privateChannel: true }),
    ).toThrow(/not installable by a member/);
  });
});
