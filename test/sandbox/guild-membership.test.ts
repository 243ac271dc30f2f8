// Removing the bot from a guild and adding it back: what the local server then answers over REST and at IDENTIFY.
import { afterEach, describe, expect, it } from "vitest";
import { DiscordSandbox } from "../../src/sandbox/server.ts";

const TOKEN = "sandbox-guild-membership-token";
let sandbox: DiscordSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const call = async (s: DiscordSandbox, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${s.apiUrl}/v10${path}`, {
    method,
    headers: { Authorization: `Bot ${TOKEN}`, "Content-Type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("the bot removed from a sandbox guild", () => {
  it("answers 403 Missing Access for the guild and its channels until the bot is added back", async () => {
    sandbox = await DiscordSandbox.start({ token: TOKEN });
    const { guild, channel } = sandbox;
    expect((await call(sandbox, "GET", `/guilds/${guild.id}`)).status).toBe(200);

    sandbox.removeBot(guild, { outage: true });
    expect((await call(sandbox, "GET", `/guilds/${guild.id}`)).status).toBe(200);

    sandbox.removeBot(guild);
    const refused = await call(sandbox, "GET", `/guilds/${guild.id}`);
    expect(refused).toEqual({ status: 403, body: { message: "Missing Access", code: 50001 } });
    const post = await call(sandbox, "POST", `/channels/${channel.id}/messages`, { content: "hello" });
    expect(post.status).toBe(403);
    expect(sandbox.channelMessages()).toHaveLength(0);

    sandbox.addBot(guild);
    expect((await call(sandbox, "GET", `/guilds/${guild.id}`)).status).toBe(200);
    expect((await call(sandbox, "POST", `/channels/${channel.id}/messages`, { content: "hi" })).status).toBe(
      200,
    );
  });
});
