// /moderation purge user: remove every reference a member made in this server, after a confirmation button.
// /moderation log: the server's latest moderator actions and blocked prompts, from the audit log.
import {
  ButtonStyle,
  type ChatInputCommandInteraction,
  ComponentType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
} from "discord.js";
import type { AppContext } from "../../features/context.ts";
import type { Command } from "../kit/command.ts";
import { encodeCustomId } from "../kit/custom-id.ts";
import { requireModerator } from "../kit/guards.ts";
import { NO_PINGS } from "../views/message.ts";
import { renderAuditLog } from "../views/moderation.ts";

const LOG_DEFAULT = 10;
const LOG_MAX = 25;

export const moderation: Command = {
  data: new SlashCommandBuilder()
    .setName("moderation")
    .setDescription("Moderator tools")
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageMessages)
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName("purge")
        .setDescription("Delete every reference a member made in this server (asks to confirm)")
        .addUserOption((o) => o.setName("user").setDescription("Whose references").setRequired(true)),
    )
    .addSubcommand((s) =>
      s
        .setName("log")
        .setDescription("The latest moderator actions and blocked prompts in this server")
        .addIntegerOption((o) =>
          o
            .setName("count")
            .setDescription(`How many, newest first (default ${LOG_DEFAULT})`)
            .setMinValue(1)
            .setMaxValue(LOG_MAX),
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
        content: `<@${target.id}> has no references in this server.`,
        allowedMentions: NO_PINGS,
      });
      return;
    }
    await interaction.editReply({
      content: `Delete all ${total} references of <@${target.id}> in this server? Their files are removed; this cannot be undone.`,
      allowedMentions: NO_PINGS,
      components: [
        {
          type: ComponentType.ActionRow,
          components: [
            {
              type: ComponentType.Button,
              style: ButtonStyle.Danger,
              label: `Delete ${total} references`,
              custom_id: encodeCustomId({ handler: "mod", action: "purge", userId: target.id }),
            },
            {
              type: ComponentType.Button,
              style: ButtonStyle.Secondary,
              label: "Cancel",
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
  const count = Math.min(LOG_MAX, Math.max(1, interaction.options.getInteger("count") ?? LOG_DEFAULT));
  await interaction.editReply({
    content: renderAuditLog(await ctx.moderation.recentActions(guildId, count)),
    allowedMentions: NO_PINGS,
  });
}
