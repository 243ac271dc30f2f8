// The local server's message create with `nonce` and `enforce_nonce`, as Discord does it: a repeated nonce from
// the bot in the same channel within a few minutes answers the first message and posts nothing.
import { afterEach, describe, expect, it } from "vitest";
import { DiscordSandbox } from "../../src/sandbox/server.ts";

let sandbox: DiscordSandbox | undefined;
async function start(): Promise<DiscordSandbox> {
  sandbox = await DiscordSandbox.start();
  return sandbox;
}
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function create(s: DiscordSandbox, body: Record<string, unknown>) {
  const res = await fetch(`${s.apiUrl}/v10/channels/${s.channel.id}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bot ${s.token}` },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    message: (await res.json()) as { id: string; content: string; nonce?: string },
  };
}

describe("message create with a nonce", () => {
  it("answers a repeated enforced nonce with the first message, unchanged, and posts nothing", async () => {
    const s = await start();
    const first = await create(s, { content: "first", nonce: "job-1", enforce_nonce: true });
    const again = await create(s, { content: "second", nonce: "job-1", enforce_nonce: true });
    expect(first.status).toBe(200);
    expect(again).toEqual({ status: 200, message: first.message });
    expect(again.message).toMatchObject({ content: "first", nonce: "job-1" });
    // Another nonce, or the same one without enforce_nonce, is a new message.
    const other = await create(s, { content: "other", nonce: "job-2", enforce_nonce: true });
    const unenforced = await create(s, { content: "plain", nonce: "job-1" });
    expect(new Set([first.message.id, other.message.id, unenforced.message.id]).size).toBe(3);
    expect(s.channelMessages().map((m) => m.content)).toEqual(["first", "other", "plain"]);
    expect(s.violations).toEqual([]);
  });

  it("refuses a nonce over Discord's 25 characters", async () => {
    const s = await start();
    const long = await create(s, { content: "x", nonce: "n".repeat(26), enforce_nonce: true });
    expect(long.status).toBe(400);
    expect(s.channelMessages()).toEqual([]);
  });
});
