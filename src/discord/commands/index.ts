// Every slash command, listed explicitly: a missing import fails the type check.

import { ApplicationIntegrationType, InteractionContextType } from "discord.js";
import type { Command } from "../kit/command.ts";
import { character } from "./character.ts";
import { library } from "./library.ts";
import { localizeCommands } from "./localizations.ts";
import { moderation } from "./moderation.ts";
import { privacy } from "./privacy.ts";
import { reference } from "./reference.ts";
import { settings } from "./settings.ts";
import { usage } from "./usage.ts";
import { video } from "./video.ts";

export const commands: readonly Command[] = [
  character,
  reference,
  video,
  usage,
  moderation,
  settings,
  library,
  privacy,
];

/**
 * Every command may be installed by a server or by a member for themselves, and used in servers, in the bot's
 * DMs and in other DMs and group DMs. Where the bot is not a member, it answers through the interaction only;
 * the commands about a server (/library, /settings, /moderation) refuse outside one that added the bot.
 */
const EVERYWHERE = {
  integration_types: [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall],
  contexts: [
    InteractionContextType.Guild,
    InteractionContextType.BotDM,
    InteractionContextType.PrivateChannel,
  ],
};

/** What is registered with Discord: each command's JSON, usable everywhere, with its names and descriptions in every locale. */
export const commandData = () => localizeCommands(commands.map((c) => ({ ...c.data, ...EVERYWHERE })));
