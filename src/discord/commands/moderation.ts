// /moderation purge user: remove every reference a member made in this server, after a confirmation button.
// /moderation log [action] [member]: the server's moderator actions and blocked prompts, from the audit log,
// ten a page with ◀ ▶.
import {
  ButtonStyle,
  type ChatInputCommandInteraction,
  ComponentType,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
} from "discord.js";
import type { AppContext } from "../../features/context.ts";
import {
  AUDIT_ACTION_FILTERS,
  type AuditActionFilter,
} from "../../features/moderation/moderation-service.ts";
import { t } from "../../kit/i18n.ts";
import { auditLogPage } from "../flows/moderation-log.ts";
import type { Command } from "../kit/command.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import { requireModerator } from "../kit/guards.ts";
import { NO_PINGS } from "../views/message.ts";

/** How each action filter reads in Discord's option picker. */
const ACTION_CHOICES: Record<AuditActionFilter, string> = {
  prompt_blocked: "Blocked prompts",
  purge: "Purges",
  reference_delete: "Deleted references",
  library_add: "Library additions",
  library_remove: "Library removals",
  settings: "Settings changes",
};

export const moderation: Command = {
  data: new SlashCommandBuilder()
    .setName("moderation")
    .setDescription("Moderator tools")
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageMessages)
    .addSubcommand((s) =>
      s
        .setName("purge")
        .setDescription("Delete every reference a member made in this server (asks to confirm)")
        .addUserOption((o) => o.setName("user").setDescription("Whose references").setRequired(true)),
    )
    .addSubcommand((s) =>
      s
        .setName("log")
        .setDescription("Moderator actions and blocked prompts in this server, newest first, 10 a page")
        .addStringOption((o) =>
          o
            .setName("action")
            .setDescription("Only this kind of entry")
            .addChoices(AUDIT_ACTION_FILTERS.map((value) => ({ name: ACTION_CHOICES[value], value }))),
        )
        .addUserOption((o) =>
          o.setName("member").setDescription("Only entries made by or about this member"),
        ),
    )
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext) {
    const sub = interaction.options.getSubcommand(true);
    await requireModerator(interaction, ctx, PermissionFlagsBits.ManageMessages, `/moderation ${sub}`);
    // Acknowledged before the database is read: it may be across a network, and Discord allows 3 s.
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    if (sub === "log") return showLog(interaction, ctx);
    const target = interaction.options.getUser("user", true);
    const { total } = await ctx.references.listImages(target.id, interaction.guildId, 1, 1);
    if (total === 0) {
      await interaction.editReply({
        content: t("moderation:purge.nothing", { userId: target.id }),
        allowedMentions: NO_PINGS,
      });
      return;
    }
    await interaction.editReply({
      content: t("moderation:purge.confirm", { count: total, userId: target.id }),
      allowedMentions: NO_PINGS,
      components: [
        {
          type: ComponentType.ActionRow,
          components: [
            {
              type: ComponentType.Button,
              style: ButtonStyle.Danger,
              label: t("moderation:purge.confirmLabel", { count: total }),
              custom_id: encodeCustomId({ handler: "mod", action: "purge", userId: target.id }),
            },
            {
              type: ComponentType.Button,
              style: ButtonStyle.Secondary,
              label: t("moderation:purge.cancelLabel"),
              custom_id: encodeCustomId({ handler: "mod", action: "cancel", userId: target.id }),
            },
          ],
        },
      ],
    });
  },
};

async function showLog(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const guildId = interaction.guildId;
  if (!guildId) return;
  const action = interaction.options.getString("action");
  const filter = (AUDIT_ACTION_FILTERS as readonly string[]).includes(action ?? "")
    ? (action as AuditActionFilter)
    : null;
  const memberId = interaction.options.getUser("member")?.id ?? null;
  const page = await auditLogPage(ctx, guildId, { filter, memberId, offset: 0 });
  await interaction.editReply({ ...page, allowedMentions: NO_PINGS });
}
