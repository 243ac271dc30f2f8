import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import type { Logger } from "../domain/logger.ts";
import type { AppContext } from "../services/context.ts";

/** One slash command: its registration data and its handler. */
export interface Command {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, ctx: AppContext, log: Logger): Promise<void>;
}
