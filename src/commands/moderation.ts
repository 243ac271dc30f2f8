// /moderation purge user: remove every reference a member made in this server, after a confirmation button.
import {
  ButtonStyle,
  type ChatInputCommandInteraction,
  ComponentType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
} from "discord.js";
import type { Command } from "../discord/command.ts";
import { encodeCustomId } from "../discord/custom-id.ts";
import { requireModerator } from "../discord/guards.ts";
import { NO_PINGS } from "../discord/render.ts";
import type { AppContext } from "../services/context.ts";

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
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext) {
    requireModerator(interaction, PermissionFlagsBits.ManageMessages, "/moderation purge");
    const target = interaction.options.getUser("user", true);
    const { total } = ctx.references.listImages(target.id, interaction.guildId, 1, 1);
    if (total === 0) {
      await interaction.reply({
        content: `<@${target.id}> has no references in this server.`,
        flags: MessageFlags.Ephemeral,
        allowedMentions: NO_PINGS,
      });
      return;
    }
    await interaction.reply({
      content: `Delete all ${total} references of <@${target.id}> in this server? Their files are removed; this cannot be undone.`,
      flags: MessageFlags.Ephemeral,
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
