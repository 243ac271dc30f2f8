// /privacy export: the member's data as a ZIP, answered only to them: attached when it fits the interaction's
// upload limit, else a download link (PUBLIC_URL), else why neither. Works in servers and DMs alike.
import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { t } from "../../kit/i18n.ts";
import { perImageBudget } from "../replies/attachments.ts";
import { linkButtonRow, NO_PINGS } from "../views/message.ts";
import { renderExportAnswer } from "../views/privacy.ts";

/** The file name members see for their export. */
export const EXPORT_FILE_NAME = "my-data.zip";

export async function runPrivacyExport(
  interaction: ChatInputCommandInteraction,
  ctx: AppContext,
): Promise<void> {
  // Ephemeral from the start: an export is the member's own, and building one takes a while.
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  // The upload limit less room for the request's JSON and framing, as for one image.
  const limit = perImageBudget(interaction.attachmentSizeLimit, 1);
  await ctx.privacyExports.run(interaction.user.id, limit, async (outcome) => {
    const content = renderExportAnswer(outcome);
    if (outcome.kind === "attachment") {
      // Read into memory by discord.js: it fits the upload limit.
      await interaction.editReply({
        content,
        files: [{ attachment: outcome.path, name: EXPORT_FILE_NAME }],
        allowedMentions: NO_PINGS,
      });
    } else if (outcome.kind === "link") {
      await interaction.editReply({
        content,
        components: [linkButtonRow(t("privacy:export.downloadLabel"), outcome.url)],
        allowedMentions: NO_PINGS,
      });
    } else {
      await interaction.editReply({ content, allowedMentions: NO_PINGS });
    }
  });
}
