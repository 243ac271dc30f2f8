// Registering the commands with the local Discord server, which checks the body against Discord's OpenAPI
// schema: the localized commands pass, and what is registered carries every locale's names.
import { REST, Routes } from "discord.js";
import { afterEach, describe, expect, it } from "vitest";
import { commands } from "../../../src/discord/commands/index.ts";
import { deployCommands } from "../../../src/discord/commands/register.ts";
import { DiscordSandbox } from "../../../src/sandbox/server.ts";
import { BOT_TOKEN } from "../../support/bot-harness.ts";

let sandbox: DiscordSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

interface Registered {
  name: string;
  name_localizations?: Record<string, string>;
  description_localizations?: Record<string, string>;
  options?: Registered[];
}

describe("deployCommands", () => {
  it("registers every command with its localizations, in a guild and globally", async () => {
    sandbox = await DiscordSandbox.start({ token: BOT_TOKEN });
    const s = sandbox;
    const inGuild = await deployCommands({ token: BOT_TOKEN, apiUrl: s.apiUrl, guildId: s.guild.id });
    const global = await deployCommands({ token: BOT_TOKEN, apiUrl: s.apiUrl });
    const names = commands.map((c) => c.data.name);
    expect(inGuild.names).toEqual(names);
    expect(global.names).toEqual(names);

    const rest = new REST({ api: s.apiUrl }).setToken(BOT_TOKEN);
    const read = (await rest.get(
      Routes.applicationGuildCommands(inGuild.applicationId, s.guild.id),
    )) as Registered[];
    const character = read.find((c) => c.name === "character");
    expect(character?.name_localizations).toEqual({
      de: "charakter",
      fr: "personnage",
      "es-ES": "personaje",
      "pt-BR": "personagem",
      ja: "キャラクター",
    });
    expect(character?.description_localizations?.de).toBe(
      "1–4 Referenzbilder eines Charakters zeichnen und eines auswählen",
    );
    const log = read.find((c) => c.name === "moderation")?.options?.find((o) => o.name === "log");
    expect(log?.name_localizations?.ja).toBe("ログ");
    expect(log?.options?.find((o) => o.name === "member")?.name_localizations?.de).toBe("mitglied");
  });
});
