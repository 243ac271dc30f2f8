// Registers the slash commands: in one guild when given (instant, for sandbox guilds), else globally.
import { REST, Routes } from "discord.js";
import { commandData } from "./index.ts";

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
  const registered = (await rest.put(route, { body: commandData().map(withIntegerPermissions) })) as Array<{
    name: string;
  }>;
  return {
    applicationId,
    scope: options.guildId ? "guild" : "global",
    guildId: options.guildId,
    names: registered.map((c) => c.name),
  };
}

/**
 * Discord's OpenAPI document declares `default_member_permissions` an integer in requests (discord.js's
 * builders produce a string, which Discord also accepts); send what the document says. The bits used here are
 * far below 2^53.
 */
function withIntegerPermissions<T extends { default_member_permissions?: string | null | undefined }>(
  command: T,
) {
  const bits = command.default_member_permissions;
  return bits == null ? command : { ...command, default_member_permissions: Number(bits) };
}
