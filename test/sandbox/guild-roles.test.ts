// The local server's roles, owner and channel overwrites: what it answers over REST, and the permissions an
// interaction's member carries in a channel against theirs in the server.
import { afterEach, describe, expect, it } from "vitest";
import { channelPermissions, rolesGranting, serverPermissions } from "../../src/sandbox/guild.ts";
import {
  ALL_PERMISSIONS,
  DiscordSandbox,
  MEMBER_PERMISSIONS,
  MODERATOR_PERMISSIONS,
  PERMISSIONS,
} from "../../src/sandbox/server.ts";

const TOKEN = "sandbox-guild-roles-token";
const USER = "500000000000000021";
let sandbox: DiscordSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const get = async (s: DiscordSandbox, path: string) => {
  const res = await fetch(`${s.apiUrl}/v10${path}`, { headers: { Authorization: `Bot ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & unknown[] };
};

describe("the sandbox guild's roles", () => {
  it("answers GET /guilds/{id} with its owner and roles, and GET /guilds/{id}/roles with the roles", async () => {
    sandbox = await DiscordSandbox.start({ token: TOKEN });
    const guild = sandbox.guild;
    const whole = await get(sandbox, `/guilds/${guild.id}`);
    expect(whole.status).toBe(200);
    expect(whole.body.owner_id).toBe(guild.ownerId);
    const roles = await get(sandbox, `/guilds/${guild.id}/roles`);
    expect(roles.body).toEqual(whole.body.roles);
    expect(roles.body).toContainEqual(
      expect.objectContaining({
        id: guild.id,
        name: "@everyone",
        permissions: MEMBER_PERMISSIONS.toString(),
      }),
    );
    expect(roles.body).toContainEqual(
      expect.objectContaining({ name: "Moderators", permissions: PERMISSIONS.MANAGE_MESSAGES.toString() }),
    );
    expect((await get(sandbox, "/guilds/1")).status).toBe(404);
  });

  it("computes a member's permissions in the server and, with the channel's overwrites, in the channel", async () => {
    sandbox = await DiscordSandbox.start({ token: TOKEN });
    const { guild, channel } = sandbox;
    const moderators = sandbox.role("Moderators").id;
    expect(rolesGranting(guild, MODERATOR_PERMISSIONS)).toEqual([moderators]);
    expect(() => rolesGranting(guild, MEMBER_PERMISSIONS | PERMISSIONS.ATTACH_FILES | (1n << 40n))).toThrow(
      RangeError,
    );
    expect(serverPermissions(guild, USER, [moderators])).toBe(MODERATOR_PERMISSIONS);
    expect(serverPermissions(guild, USER, [sandbox.role("Administrators").id])).toBe(ALL_PERMISSIONS);
    expect(serverPermissions(guild, guild.ownerId as string, [])).toBe(ALL_PERMISSIONS);

    sandbox.setOverwrites(channel.id, [
      { id: guild.id, type: "role", deny: PERMISSIONS.ATTACH_FILES },
      { id: moderators, type: "role", deny: PERMISSIONS.MANAGE_MESSAGES },
      { id: USER, type: "member", allow: PERMISSIONS.MANAGE_MESSAGES },
    ]);
    expect(channelPermissions(guild, channel.id, USER, [])).toBe(
      (MEMBER_PERMISSIONS & ~PERMISSIONS.ATTACH_FILES) | PERMISSIONS.MANAGE_MESSAGES,
    );
    expect(channelPermissions(guild, channel.id, "500000000000000022", [moderators])).toBe(
      MEMBER_PERMISSIONS & ~PERMISSIONS.ATTACH_FILES,
    );
    expect(serverPermissions(guild, USER, [])).toBe(MEMBER_PERMISSIONS);
  });
});
