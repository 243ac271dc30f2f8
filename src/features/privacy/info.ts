// What /privacy info tells a member: what the bot keeps, for how long, and who processes it, from this
// install's settings (RETENTION_DAYS, IMAGE_RETENTION_DAYS, GUILD_DATA_GRACE_DAYS, PRIVACY_POLICY_URL).
import type { Config } from "../../config/load.ts";
import { EXPORT_COOLDOWN_MS, EXPORT_LINK_TTL_MS } from "./export.ts";

/** Discord's interaction tokens are valid 15 minutes; the bot forgets them after (README: Buttons keep working). */
export const INTERACTION_TOKEN_MINUTES = 15;

export interface PrivacyFacts {
  /** Failed or blocked prompts and the audit log's prompt text (RETENTION_DAYS). */
  promptRetentionDays: number;
  /** Images and videos (IMAGE_RETENTION_DAYS); undefined: kept until deleted. */
  imageRetentionDays: number | undefined;
  /** A server's data after the bot is removed from it (GUILD_DATA_GRACE_DAYS). */
  guildGraceDays: number;
  interactionTokenMinutes: number;
  exportCooldownMinutes: number;
  exportLinkHours: number;
  /** Replicate draws the images, or (IMAGE_PROVIDER=mock) nothing leaves the bot. */
  usesReplicate: boolean;
  /** S3-compatible storage (STORAGE_URL) rather than the bot's own disk. */
  objectStorage: boolean;
  privacyPolicyUrl: string | undefined;
}

export function privacyFacts(config: Config, linkTtlMs = config.http.linkTtlMs): PrivacyFacts {
  const { retention } = config;
  return {
    promptRetentionDays: retention.days,
    imageRetentionDays: retention.imageDays,
    guildGraceDays: retention.guildGraceDays,
    interactionTokenMinutes: INTERACTION_TOKEN_MINUTES,
    exportCooldownMinutes: EXPORT_COOLDOWN_MS / 60_000,
    exportLinkHours: Math.min(EXPORT_LINK_TTL_MS, linkTtlMs) / 3_600_000,
    usesReplicate: config.imageProvider === "replicate",
    objectStorage: config.storage.kind === "s3",
    privacyPolicyUrl: config.privacyPolicyUrl,
  };
}
