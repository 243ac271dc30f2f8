// Routes every interaction to its handler with a child logger, and turns failures into replies: a
// UserFacingError's text ephemerally, anything else logged with a reference the user can quote.
import {
  type ChatInputCommandInteraction,
  type Interaction,
  MessageFlags,
  type RepliableInteraction,
  ShardClientUtil,
} from "discord.js";
import type { AppContext } from "../features/context.ts";
import { within } from "../kit/clock.ts";
import { StorageUnavailableError, UserFacingError } from "../kit/errors.ts";
import { inLocales, localeScope, t } from "../kit/i18n.ts";
import type { Logger } from "../kit/logger.ts";
import { trace } from "../kit/trace.ts";
import type { InteractionLabels, InteractionOutcome } from "../observability/metrics.ts";
import { handleGenerationButton } from "./buttons/generation-buttons.ts";
import { handleImagePanelButton } from "./buttons/image-panel-buttons.ts";
import { handleLibraryButton } from "./buttons/library-buttons.ts";
import { handleModerationButton } from "./buttons/moderation-buttons.ts";
import { handleReferenceButton } from "./buttons/reference-buttons.ts";
import { handleRemixSubmit } from "./buttons/remix-modal.ts";
import { tellLateResults } from "./flows/late-notice.ts";
import { handlePrivacyButton } from "./flows/privacy-delete.ts";
import type { Command } from "./kit/command.ts";
import { parseCustomId } from "./kit/custom-id.ts";
import { settingsGuildOf } from "./kit/delivery.ts";

/** Commands about a server the bot is in: refused outside one (a member's own install, a DM). */
const SERVER_ONLY = new Set(["library", "settings", "moderation"]);

export class InteractionRouter {
  private draining = false;
  private readonly inflight = new Set<Promise<void>>();
  private readonly byName: Map<string, Command>;

  constructor(
    private readonly ctx: AppContext,
    commands: readonly Command[],
  ) {
    this.byName = new Map(commands.map((c) => [c.data.name, c]));
  }

  get pending(): number {
    return this.inflight.size;
  }

  /** Work not tied to an interaction (resumed jobs) that a graceful stop should wait for too. */
  track(task: Promise<void>): void {
    const tracked = task.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  handle(interaction: Interaction): void {
    // Replies in the member's language, what the channel sees in the server's.
    const locales = localeScope(interaction.locale, interaction.guildLocale);
    const task = inLocales(locales, () => this.dispatch(interaction)).finally(() =>
      this.inflight.delete(task),
    );
    this.inflight.add(task);
  }

  /** Takes no new work and waits (up to `timeoutMs`) for handlers under way. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    await within(Promise.allSettled([...this.inflight]), timeoutMs);
  }

  private async dispatch(interaction: Interaction): Promise<void> {
    trace("interaction.received", { interactionId: interaction.id });
    const log = this.loggerFor(interaction);
    log.debug("interaction received");
    let outcome: InteractionOutcome = "ok";
    try {
      await this.route(interaction, log);
    } catch (err) {
      outcome = outcomeOf(err);
      if (err instanceof StorageUnavailableError) this.ctx.metrics.storageError(err.variable);
      if (interaction.isRepliable()) await this.tellUser(interaction, err, log);
      else log.error({ err }, "interaction failed");
    } finally {
      this.ctx.metrics.interaction(this.labelsOf(interaction), outcome);
    }
  }

  /** The interaction's own logger: every line it logs says which interaction, guild, shard, member and command. */
  private loggerFor(interaction: Interaction): Logger {
    return this.ctx.logger.child({
      interactionId: interaction.id,
      guildId: interaction.guildId,
      // The gateway shard it came on: its guild's, as Discord computes it; direct messages arrive on shard 0.
      shardId: interaction.guildId
        ? ShardClientUtil.shardIdForGuildId(interaction.guildId, interaction.client.options.shardCount ?? 1)
        : 0,
      userId: interaction.user.id,
      ...(interaction.isCommand() || interaction.isAutocomplete()
        ? { command: interaction.commandName }
        : {}),
      ...(interaction.isMessageComponent() || interaction.isModalSubmit()
        ? { customId: interaction.customId }
        : {}),
    });
  }

  /** Hands the interaction to its command, autocomplete or button handler. */
  private async route(interaction: Interaction, log: Logger): Promise<void> {
    const receivedAt = this.ctx.clock.now();
    if (interaction.isAutocomplete()) {
      const command = this.byName.get(interaction.commandName);
      await (command?.autocomplete
        ? command.autocomplete(interaction, this.ctx, log)
        : interaction.respond([]));
      return;
    }
    if (this.draining) throw new UserFacingError(t("errors:restarting"));
    if (interaction.isChatInputCommand()) {
      await this.runCommand(interaction, log);
    } else if (interaction.isButton()) {
      const id = parseCustomId(interaction.customId);
      if (id.handler === "gen") await handleGenerationButton(interaction, id, this.ctx, log);
      else if (id.handler === "img") await handleImagePanelButton(interaction, id, this.ctx, log);
      else if (id.handler === "ref") await handleReferenceButton(interaction, id, this.ctx);
      else if (id.handler === "lib") await handleLibraryButton(interaction, id, this.ctx);
      else if (id.handler === "priv") await handlePrivacyButton(interaction, id, this.ctx, log);
      else if (id.handler === "mod") await handleModerationButton(interaction, id, this.ctx, log);
      else throw unrecognisedButton();
    } else if (interaction.isModalSubmit()) {
      const id = parseCustomId(interaction.customId);
      if (id.handler !== "modal") throw unrecognisedButton();
      await handleRemixSubmit(interaction, id, this.ctx, log);
    }
    if (interaction.isRepliable()) await tellLateResults(interaction, this.ctx, log, receivedAt);
  }

  /** A slash command; those about a server refuse outside one that added the bot. */
  private async runCommand(interaction: ChatInputCommandInteraction, log: Logger): Promise<void> {
    const command = this.byName.get(interaction.commandName);
    if (!command) throw new UserFacingError(t("errors:unknownCommand"));
    if (SERVER_ONLY.has(command.data.name) && settingsGuildOf(interaction) === null) {
      throw new UserFacingError(t("common:serverOnly", { command: command.data.name }));
    }
    await command.execute(interaction, this.ctx, log);
  }

  /** Metric labels from what the bot registers only (a name it does not know is "unknown"): bounded. */
  private labelsOf(interaction: Interaction): InteractionLabels {
    if (interaction.isChatInputCommand() || interaction.isAutocomplete()) {
      const known = this.byName.has(interaction.commandName);
      return {
        type: interaction.isAutocomplete() ? "autocomplete" : "command",
        command: known ? interaction.commandName : "unknown",
      };
    }
    if (interaction.isButton() || interaction.isModalSubmit()) {
      let handler = "unknown";
      try {
        handler = parseCustomId(interaction.customId).handler;
      } catch {
        // A button the bot does not recognise (its refusal was the answer).
      }
      return { type: interaction.isButton() ? "button" : "modal", command: handler };
    }
    return { type: "other", command: "unknown" };
  }

  private async tellUser(interaction: RepliableInteraction, err: unknown, log: Logger): Promise<void> {
    let content: string;
    if (err instanceof UserFacingError) {
      content = `⚠️ ${err.message}`;
      log.info({ reason: err.message }, "request refused");
    } else if (err instanceof StorageUnavailableError) {
      content = `⚠️ ${t("errors:storageUnavailable", { ref: interaction.id })}`;
      log.error({ err, variable: err.variable }, "storage unavailable");
    } else {
      content = t("errors:unexpected", { ref: interaction.id });
      log.error({ err }, "interaction failed");
    }
    try {
      if (!interaction.deferred && !interaction.replied) {
        await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
      } else if (interaction.isChatInputCommand() && !interaction.replied) {
        // The deferred reply is the only place the user is looking.
        await interaction.editReply({
          content,
          components: [],
          files: [],
          attachments: [],
          allowedMentions: { parse: [] },
        });
      } else {
        await interaction.followUp({
          content,
          flags: MessageFlags.Ephemeral,
          allowedMentions: { parse: [] },
        });
      }
    } catch (replyErr) {
      log.warn({ err: replyErr }, "could not tell the user about the failure");
    }
  }
}

/** A modal's custom_id on a button, or a button's on a modal: forged or from another bot version. */
const unrecognisedButton = () => new UserFacingError(t("errors:unrecognised"));

function outcomeOf(err: unknown): InteractionOutcome {
  if (err instanceof UserFacingError) return "refused";
  if (err instanceof StorageUnavailableError) return "storage_unavailable";
  return "error";
}
