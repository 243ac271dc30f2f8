// Registers the slash commands: in one guild when given (instant, for sandbox guilds), else globally.
import { REST, Routes } from "discord.js";
import { commandData } from "../commands/index.ts";

export interface DeployOptions {
  token: string;
  apiUrl: string;
  applicationId?: string | undefined;
  guildId?: string | undefined;
}

export interface DeployResult {
  applicationId: string;
  scope: "guild" | "global";
  guildId: string | undefined;
  names: string[];
}

export async function deployCommands(options: DeployOptions): Promise<DeployResult> {
  const rest = new REST({ api: options.apiUrl }).setToken(options.token);
  const applicationId =
    options.applicationId ?? ((await rest.get(Routes.currentApplication())) as { id: string }).id;
  const route = options.guildId
    ? Routes.applicationGuildCommands(applicationId, options.guildId)
    : Routes.applicationCommands(applicationId);
  const registered = (await rest.put(route, { body: commandData() })) as Array<{ name: string }>;
  return {
    applicationId,
    scope: options.guildId ? "guild" : "global",
    guildId: options.guildId,
    names: registered.map((c) => c.name),
  };
}
