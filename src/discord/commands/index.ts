// Every slash command, listed explicitly: a missing import fails the type check.

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

/** What is registered with Discord: each command's JSON with its names and descriptions in every locale. */
export const commandData = () => localizeCommands(commands.map((c) => c.data));
