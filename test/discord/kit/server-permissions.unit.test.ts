import { PermissionFlagsBits as P, PermissionsBitField } from "discord.js";
import { describe, expect, it } from "vitest";
import { serverPermissions, serverRolesOf } from "../../../src/discord/kit/server-permissions.ts";
import type { Clock, Timer } from "../../../src/kit/clock.ts";
import { ExpiringCache } from "../../../src/kit/expiring-cache.ts";

const GUILD = "100";
const EVERYONE = P.ViewChannel | P.SendMessages;
const server = {
  id: GUILD,
  ownerId: "900",
  roles: new Map<string, bigint>([
    [GUILD, EVERYONE],
    ["201", P.ManageMessages],
    ["202", P.ManageGuild],
    ["203", P.Administrator],
  ]),
};

describe("serverPermissions", () => {
  it("is @everyone's permissions for a member without roles", () => {
    expect(serverPermissions(server, "1", [])).toBe(EVERYONE);
  });

  it("ORs the member's roles onto @everyone's, and ignores roles the server does not have", () => {
    expect(serverPermissions(server, "1", ["201", "999"])).toBe(EVERYONE | P.ManageMessages);
    expect(serverPermissions(server, "1", ["201", "202"])).toBe(EVERYONE | P.ManageMessages | P.ManageGuild);
  });

  it("gives an Administrator every permission", () => {
    expect(serverPermissions(server, "1", ["203"])).toBe(PermissionsBitField.All);
  });

  it("gives the owner every permission, with no roles at all", () => {
    expect(serverPermissions(server, "900", [])).toBe(PermissionsBitField.All);
  });

  it("gives an Administrator @everyone role everyone everything", () => {
    const open = { ...server, roles: new Map([[GUILD, P.Administrator]]) };
    expect(serverPermissions(open, "1", [])).toBe(PermissionsBitField.All);
  });
});

describe("serverRolesOf", () => {
  it("reads the owner and each role's permission string from the guild Discord describes", () => {
    const roles = serverRolesOf({
      owner_id: "900",
      roles: [
        { id: GUILD, permissions: EVERYONE.toString() },
        { id: "201", permissions: P.ManageMessages.toString() },
      ] as Parameters<typeof serverRolesOf>[0]["roles"],
    });
    expect(roles.ownerId).toBe("900");
    expect(serverPermissions({ ...roles, id: GUILD }, "1", ["201"])).toBe(EVERYONE | P.ManageMessages);
  });
});

describe("ExpiringCache", () => {
  const clockAt = (time: { now: number }): Clock => ({
    now: () => time.now,
    setTimeout: () => ({}) as Timer,
    clearTimeout: () => undefined,
  });

  it("keeps a value for its time, shares a load in flight, and loads again once it expired", async () => {
    const time = { now: 0 };
    const cache = new ExpiringCache<number>(clockAt(time), 60_000);
    let loads = 0;
    const load = async () => ++loads;
    expect(await Promise.all([cache.get("a", load), cache.get("a", load)])).toEqual([1, 1]);
    time.now = 59_999;
    expect(await cache.get("a", load)).toBe(1);
    time.now = 60_000;
    expect(await cache.get("a", load)).toBe(2);
  });

  it("keeps no failure: the next call loads again", async () => {
    const cache = new ExpiringCache<number>(clockAt({ now: 0 }), 60_000);
    await expect(cache.get("a", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await cache.get("a", async () => 7)).toBe(7);
  });
});
