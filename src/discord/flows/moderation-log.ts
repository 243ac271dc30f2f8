// Posts moderator actions and blocked prompts to a guild's mod-log channel, when it set one, and reads a page of
// the audit log back for /moderation log. The services write the audit row in the action's own transaction;
// posting is best effort: the row is the record.
import { type REST, Routes } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import { describeRefusal, type Refusal } from "../../features/limits/admission.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { tPublic } from "../../kit/i18n.ts";
import type { Logger } from "../../kit/logger.ts";
import { NO_PINGS, type RenderedMessage } from "../views/message.ts";
import { AUDIT_PAGE_SIZE, type AuditLogQuery, renderAuditLog } from "../views/moderation.ts";

/** A page of the guild's audit log as /moderation log and its ◀ ▶ buttons show it. */
export async function auditLogPage(
  ctx: AppContext,
  guildId: string,
  query: AuditLogQuery,
): Promise<RenderedMessage> {
  const page = await ctx.moderation.actionLog(
    guildId,
    {
      ...(query.filter ? { action: query.filter } : {}),
      ...(query.memberId ? { memberId: query.memberId } : {}),
    },
    query.offset,
    AUDIT_PAGE_SIZE,
  );
  return renderAuditLog(page, query);
}

/** Posts a line to the guild's mod-log channel, if it set one: `summary` is in the server's language (tPublic). */
export async function postToModLog(
  ctx: AppContext,
  rest: REST,
  guildId: string | null,
  summary: string,
  log: Logger,
): Promise<void> {
  const channelId = await ctx.guildSettings.modLogChannel(guildId);
  if (!channelId) return;
  try {
    await rest.post(Routes.channelMessages(channelId), {
      body: { content: `🛡️ ${summary}`.slice(0, 2000), allowed_mentions: NO_PINGS },
    });
  } catch (err) {
    log.warn({ err, channelId }, "could not post to the mod-log channel");
  }
}

/**
 * The error that tells a member their request was refused; a blocked prompt is also posted to the mod-log
 * channel (without its text: the audit row has that), once a minute per member: the repeats are counted on the
 * audit row (/moderation log shows ×N), and the post is not edited (an edit per repeat would be a flood of
 * its own against Discord's rate limits).
 */
export async function refusalError(
  ctx: AppContext,
  interaction: { client: { rest: REST }; guildId: string | null; user: { id: string } },
  refusal: Refusal,
  command: "/character description" | "/video prompt",
  log: Logger,
): Promise<UserFacingError> {
  ctx.metrics.refused(command.startsWith("/video") ? "video" : "image", refusal);
  // The bot-wide list's refusals (outside servers that added the bot) have no server's mod log to go to.
  if (refusal.reason === "blocked" && !refusal.repeat && !refusal.botWide) {
    await postToModLog(
      ctx,
      interaction.client.rest,
      interaction.guildId,
      tPublic("moderation:promptBlockedModLog", { command, userId: interaction.user.id }),
      log,
    );
  }
  return new UserFacingError(describeRefusal(refusal, command.startsWith("/video") ? "video" : "image"));
}
