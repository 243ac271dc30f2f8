// The shape of a slash command module: its registration data, its handler and (optionally) its autocomplete.
import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import type { AppContext } from "../../features/context.ts";
import type { Logger } from "../../kit/logger.ts";

/** One slash command: its registration data and its handler. */
export interface Command {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, ctx: AppContext, log: Logger): Promise<void>;
}
