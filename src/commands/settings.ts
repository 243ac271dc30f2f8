// /settings: a server's allowances, prompt blocklist, safety level and mod-log channel (Manage Server).
import {
  ChannelType,
  type ChatInputCommandInteraction,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
} from "discord.js";
import type { AppContext } from "../app.ts";
import { recordModeration } from "../discord/moderation-log.ts";
import { NO_PINGS } from "../discord/render.ts";
import { UserFacingError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import {
  entryProblem,
  MAX_BLOCKLIST_ENTRIES,
  MAX_ENTRY_LENGTH,
  MAX_ENTRY_WILDCARDS,
} from "../services/prompt-policy.ts";
import {
  asSafetyFilterLevel,
  DEFAULT_SAFETY_FILTER_LEVEL,
  describeModelSafety,
  SAFETY_FILTER_LEVELS,
} from "../services/providers/image-models.ts";
import { MOCK_MODEL } from "../services/providers/mock.ts";
import { ReplicateImageProvider } from "../services/providers/replicate.ts";
import type { GuildSettings } from "../storage/guild-settings-repo.ts";
import { requireModerator } from "./moderation.ts";
import type { Command } from "./types.ts";

const ALLOWANCE_FIELDS = {
  "images:member": "dailyImagesPerUser",
  "images:server": "dailyImagesPerGuild",
  "videos:member": "dailyVideosPerUser",
  "videos:server": "dailyVideosPerGuild",
} as const;

function describe(ctx: AppContext, s: GuildSettings): string {
  const a = ctx.quota.allowances(s.guildId);
  const cap = ctx.quota.userCap;
  const mark = (v: number | null) => (v === null ? " (default)" : "");
  return [
    "**Settings for this server**",
    `Images per day: ${a.imagesPerUser} per member${mark(s.dailyImagesPerUser)}, ${a.imagesPerGuild} for the server${mark(s.dailyImagesPerGuild)}`,
    `Videos per day: ${a.videosPerUser} per member${mark(s.dailyVideosPerUser)}, ${a.videosPerGuild} for the server${mark(s.dailyVideosPerGuild)}`,
    `Every member's bot-wide limit, across all servers and DMs: ${cap.images} images and ${cap.videos} videos a day (set by the bot's operator)`,
    ...describeSafety(ctx, s),
    `Mod-log channel: ${s.modLogChannelId ? `<#${s.modLogChannelId}>` : "none"}`,
    `Blocklist (${s.blocklist.length}): ${s.blocklist.length ? s.blocklist.map((e) => `\`${e.replace(/`/g, "'")}\``).join(", ") : "empty"}`,
  ].join("\n");
}

/**
 * The server's safety level and what each image model that can serve it really does with it: the model in
 * use and, while it is still configured, the fallback that takes over when Replicate retires the first.
 */
function describeSafety(ctx: AppContext, s: GuildSettings): string[] {
  const chosen = asSafetyFilterLevel(s.safetyFilterLevel);
  const level = chosen ?? DEFAULT_SAFETY_FILTER_LEVEL;
  const models: Array<{ model: string; role: string }> = [];
  if (ctx.imageProvider instanceof ReplicateImageProvider) {
    const active = ctx.imageProvider.model;
    models.push({ model: active, role: "in use" });
    const fallback = ctx.config.imageFallbackModel;
    if (fallback && fallback !== active)
      models.push({ model: fallback, role: `used if Replicate retires ${active}` });
  } else {
    models.push({ model: MOCK_MODEL, role: "in use" });
  }
  return [
    `Safety filter: ${level}${chosen ? "" : " (default)"}`,
    ...models.map(({ model, role }) => `• ${model} (${role}): ${describeModelSafety(model, level)}`),
  ];
}

export const settings: Command = {
  data: new SlashCommandBuilder()
    .setName("settings")
    .setDescription("This server's limits, blocklist, safety level and mod-log channel")
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) => s.setName("view").setDescription("Show the settings"))
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
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext, log: Logger) {
    requireModerator(interaction, PermissionFlagsBits.ManageGuild, "/settings");
    const guildId = interaction.guildId as string;
    const sub = interaction.options.getSubcommand(true);
    const current = ctx.repos.guildSettings.get(guildId);
    if (sub === "view") {
      await interaction.reply({
        content: describe(ctx, current),
        flags: MessageFlags.Ephemeral,
        allowedMentions: NO_PINGS,
      });
      return;
    }
    const next: GuildSettings = { ...current, blocklist: [...current.blocklist] };
    let change: string;
    if (sub === "allowance") {
      const key =
        `${interaction.options.getString("kind", true)}:${interaction.options.getString("scope", true)}` as keyof typeof ALLOWANCE_FIELDS;
      const field = ALLOWANCE_FIELDS[key];
      if (!field) throw new UserFacingError("Unknown allowance.");
      next[field] = interaction.options.getInteger("per_day");
      change = `${key.replace(":", " per ")} allowance ${next[field] === null ? "back to the default" : `set to ${next[field]} a day`}`;
    } else if (sub === "blocklist-add") {
      const entry = interaction.options.getString("entry", true).trim();
      const problem = entryProblem(entry);
      if (problem) throw new UserFacingError(problem);
      if (next.blocklist.includes(entry))
        throw new UserFacingError(`\`${entry}\` is already on the blocklist.`);
      if (next.blocklist.length >= MAX_BLOCKLIST_ENTRIES) {
        throw new UserFacingError(
          `The blocklist holds at most ${MAX_BLOCKLIST_ENTRIES} entries; remove some first.`,
        );
      }
      next.blocklist.push(entry);
      change = "blocklist entry added";
    } else if (sub === "blocklist-remove") {
      const entry = interaction.options.getString("entry", true).trim();
      if (!next.blocklist.includes(entry)) throw new UserFacingError(`\`${entry}\` is not on the blocklist.`);
      next.blocklist = next.blocklist.filter((e) => e !== entry);
      change = "blocklist entry removed";
    } else if (sub === "safety") {
      next.safetyFilterLevel = interaction.options.getString("level");
      change = next.safetyFilterLevel
        ? `safety filter set to ${next.safetyFilterLevel}`
        : `safety filter back to the default (${DEFAULT_SAFETY_FILTER_LEVEL})`;
    } else {
      next.modLogChannelId = interaction.options.getChannel("channel")?.id ?? null;
      change = next.modLogChannelId
        ? `mod-log channel set to <#${next.modLogChannelId}>`
        : "mod-log channel cleared";
    }
    ctx.repos.guildSettings.save(next, interaction.user.id, ctx.clock.now());
    await recordModeration(
      ctx,
      interaction.client.rest,
      {
        guildId,
        actorId: interaction.user.id,
        action: `settings_${sub}`,
        targetUserId: null,
        targetId: null,
        details: { change },
      },
      `<@${interaction.user.id}> changed the settings: ${change}.`,
      log,
    );
    await interaction.reply({
      content: `Saved: ${change}.\n\n${describe(ctx, next)}`,
      flags: MessageFlags.Ephemeral,
      allowedMentions: NO_PINGS,
    });
  },
};
