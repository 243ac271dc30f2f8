// /settings: a server's allowances, prompt blocklist, safety level and mod-log channel (Manage Server).
import {
  ChannelType,
  type ChatInputCommandInteraction,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
} from "discord.js";
import type { GuildSettings } from "../../db/repositories/guild-settings-repo.ts";
import type { AppContext } from "../../features/context.ts";
import { MAX_ENTRY_LENGTH, MAX_ENTRY_WILDCARDS } from "../../features/limits/prompt-policy.ts";
import { describeSettingsChange, type SettingsChange } from "../../features/settings/guild-settings.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t, tPublic } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { safetyFilterKind } from "../../providers/image-models.ts";
import { MOCK_MODEL } from "../../providers/mock/image-provider.ts";
import { ReplicateImageProvider } from "../../providers/replicate/image-provider.ts";
import {
  asSafetyFilterLevel,
  DEFAULT_SAFETY_FILTER_LEVEL,
  SAFETY_FILTER_LEVELS,
  type SafetyFilterLevel,
} from "../../providers/types.ts";
import { postToModLog } from "../flows/moderation-log.ts";
import type { Command } from "../kit/command.ts";
import { requireModerator } from "../kit/guards.ts";
import { NO_PINGS } from "../views/message.ts";
import {
  BLOCKLIST_PAGE_SIZE,
  renderBlocklistPage,
  renderSettings,
  renderSettingsSaved,
  type SafetyInForce,
  type SettingsSnapshot,
} from "../views/settings.ts";

/** Everything /settings view shows, read for the server. */
async function snapshot(ctx: AppContext, settings: GuildSettings): Promise<SettingsSnapshot> {
  return {
    settings,
    allowances: await ctx.quota.allowances(settings.guildId),
    cap: ctx.quota.userCap,
    safety: safetyInForce(ctx, settings),
  };
}

/** The server's safety level and what each image model that can serve it really does with it. */
function safetyInForce(ctx: AppContext, settings: GuildSettings): SafetyInForce {
  const chosen = asSafetyFilterLevel(settings.safetyFilterLevel);
  const level = chosen ?? DEFAULT_SAFETY_FILTER_LEVEL;
  return {
    level,
    isDefault: !chosen,
    models: safetyModels(ctx).map((m) => ({ ...m, effect: modelSafetyEffect(m.model, level) })),
  };
}

/** What a model does with a safety level, in the member's words. */
function modelSafetyEffect(model: string, level: SafetyFilterLevel): string {
  switch (safetyFilterKind(model)) {
    case "adjustable":
      return t("settings:safety.applies", { level });
    case "fixed":
      return t("settings:safety.fixed", { level });
    case "none":
      return t("settings:safety.none");
  }
}

/**
 * The image models that can serve the server's safety level: the model in use and, while it is still
 * configured, the fallback that takes over when Replicate retires the first.
 */
function safetyModels(ctx: AppContext): Array<{ model: string; role: string }> {
  const inUse = t("settings:safety.inUse");
  if (!(ctx.imageProvider instanceof ReplicateImageProvider)) return [{ model: MOCK_MODEL, role: inUse }];
  const active = ctx.imageProvider.model;
  const models = [{ model: active, role: inUse }];
  const fallback = ctx.config.imageFallbackModel;
  if (fallback && fallback !== active)
    models.push({ model: fallback, role: t("settings:safety.fallback", { model: active }) });
  return models;
}

export const settings: Command = {
  data: new SlashCommandBuilder()
    .setName("settings")
    .setDescription("This server's limits, blocklist, safety level, mod-log channel and curator role")
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .addSubcommand((s) => s.setName("view").setDescription("Show the settings"))
    .addSubcommand((s) =>
      s
        .setName("blocklist")
        .setDescription(`List the prompt blocklist, ${BLOCKLIST_PAGE_SIZE} entries a page`)
        .addIntegerOption((o) =>
          o
            .setName("page")
            .setDescription("Which page (default: the first)")
            .setMinValue(1)
            .setMaxValue(1000),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName("allowance")
        .setDescription("Set a daily allowance (leave per_day empty to go back to the default)")
        .addStringOption((o) =>
          o
            .setName("kind")
            .setDescription("Images or videos")
            .setRequired(true)
            .addChoices({ name: "images", value: "images" }, { name: "videos", value: "videos" }),
        )
        .addStringOption((o) =>
          o
            .setName("scope")
            .setDescription("Per member, or for the whole server")
            .setRequired(true)
            .addChoices({ name: "per member", value: "member" }, { name: "whole server", value: "server" }),
        )
        .addIntegerOption((o) =>
          o.setName("per_day").setDescription("How many per UTC day").setMinValue(0).setMaxValue(1_000_000),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName("blocklist-add")
        .setDescription(
          `Block a word or phrase in prompts (* for any letters, at most ${MAX_ENTRY_WILDCARDS})`,
        )
        .addStringOption((o) =>
          o
            .setName("entry")
            .setDescription("Word, phrase or pattern")
            .setRequired(true)
            .setMaxLength(MAX_ENTRY_LENGTH),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName("blocklist-remove")
        .setDescription("Remove a blocklist entry")
        .addStringOption((o) =>
          o
            .setName("entry")
            .setDescription("The entry as listed")
            .setRequired(true)
            .setMaxLength(MAX_ENTRY_LENGTH),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName("safety")
        .setDescription("The image model's safety filter level (leave level empty to go back to the default)")
        .addStringOption((o) =>
          o
            .setName("level")
            .setDescription("Stricter blocks more; /settings view shows which models can apply it")
            .addChoices(...SAFETY_FILTER_LEVELS.map((l) => ({ name: l, value: l }))),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName("modlog")
        .setDescription("Where moderator actions and blocked prompts are posted (empty: nowhere)")
        .addChannelOption((o) =>
          o.setName("channel").setDescription("A text channel").addChannelTypes(ChannelType.GuildText),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName("curator")
        .setDescription("The role whose members may curate /library besides moderators (empty: none)")
        .addRoleOption((o) => o.setName("role").setDescription("The curator role")),
    )
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger) {
    await requireModerator(interaction, ctx, PermissionFlagsBits.ManageGuild, "/settings");
    const guildId = interaction.guildId;
    if (!guildId) throw new UserFacingError(t("settings:errors.serverOnly"));
    const sub = interaction.options.getSubcommand(true);
    const reads = sub === "view" || sub === "blocklist";
    const parse = reads ? undefined : CHANGES[sub];
    if (!reads && !parse) throw new UserFacingError(t("settings:errors.unknownSubcommand", { sub }));
    // A change is parsed (and a bad option refused) before the defer; nothing is read before it: the
    // database may be across a network, and Discord allows 3 s.
    const change = parse?.(interaction);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    if (!change) {
      const current = await ctx.guildSettings.get(guildId);
      const content =
        sub === "blocklist"
          ? renderBlocklistPage(current.blocklist, interaction.options.getInteger("page") ?? 1)
          : renderSettings(await snapshot(ctx, current));
      await interaction.editReply({ content, allowedMentions: NO_PINGS });
      return;
    }
    const { settings: saved } = await ctx.guildSettings.change(guildId, interaction.user.id, change);
    // The server's channel reads the change in the server's language, the member in theirs.
    const summary = describeSettingsChange(change, tPublic);
    const userId = interaction.user.id;
    const logLine = tPublic("settings:modLog.changed", { userId, summary });
    await postToModLog(ctx, interaction.client.rest, guildId, logLine, log);
    // The change alone: the whole view grows with the blocklist, and /settings view shows it.
    const content = renderSettingsSaved(describeSettingsChange(change, t), {
      entry: change.kind === "blocklist-add" || change.kind === "blocklist-remove" ? change.entry : undefined,
      safety: change.kind === "safety" ? safetyInForce(ctx, saved) : undefined,
    });
    await interaction.editReply({ content, allowedMentions: NO_PINGS });
  },
};

/** Each subcommand that changes something, as the change it asks for. */
const CHANGES: Record<string, (interaction: ChatInputCommandInteraction) => SettingsChange> = {
  allowance: (i) => ({
    kind: "allowance",
    what: oneOf(i.options.getString("kind", true), ["images", "videos"] as const, "kind"),
    scope: oneOf(i.options.getString("scope", true), ["member", "server"] as const, "scope"),
    perDay: i.options.getInteger("per_day"),
  }),
  "blocklist-add": (i) => ({ kind: "blocklist-add", entry: i.options.getString("entry", true).trim() }),
  "blocklist-remove": (i) => ({ kind: "blocklist-remove", entry: i.options.getString("entry", true).trim() }),
  safety: (i) => {
    const raw = i.options.getString("level");
    return { kind: "safety", level: raw === null ? null : oneOf(raw, SAFETY_FILTER_LEVELS, "level") };
  },
  modlog: (i) => ({ kind: "modlog", channelId: i.options.getChannel("channel")?.id ?? null }),
  curator: (i) => {
    const roleId = i.options.getRole("role")?.id ?? null;
    // @everyone's role id is the server's: it would make every member a curator on some paths and none on others.
    if (roleId !== null && roleId === i.guildId) {
      throw new UserFacingError(t("settings:errors.everyoneCurator"));
    }
    return { kind: "curator", roleId };
  },
};

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  const found = allowed.find((a) => a === value);
  if (!found) throw new UserFacingError(t("settings:errors.notOneOf", { name, allowed: allowed.join(", ") }));
  return found;
}
