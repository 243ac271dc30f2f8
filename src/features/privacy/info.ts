// What /privacy info tells a member: what the bot keeps, for how long, and who processes it, from this
// install's settings. The retention settings (RETENTION_DAYS, IMAGE_RETENTION_DAYS, GUILD_DATA_GRACE_DAYS) are
// read by name where the configuration has them, with their documented defaults where it does not.
import type { Config } from "../../config/load.ts";
import { EXPORT_COOLDOWN_MS, EXPORT_LINK_TTL_MS } from "./export.ts";

/** Discord's interaction tokens are valid 15 minutes; the bot forgets them after (README: Buttons keep working). */
export const INTERACTION_TOKEN_MINUTES = 15;
export const DEFAULT_RETENTION_DAYS = 30;
export const DEFAULT_GUILD_DATA_GRACE_DAYS = 30;

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

type RetentionSettings = Partial<
  Record<"RETENTION_DAYS" | "IMAGE_RETENTION_DAYS" | "GUILD_DATA_GRACE_DAYS", unknown> &
    Record<"retention", Partial<Record<"promptDays" | "imageDays" | "guildGraceDays", unknown>>>
>;

const days = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;

export function privacyFacts(config: Config, linkTtlMs = config.http.linkTtlMs): PrivacyFacts {
  const settings = config as Config & RetentionSettings;
  return {
    promptRetentionDays:
      days(settings.retention?.promptDays ?? settings.RETENTION_DAYS) ?? DEFAULT_RETENTION_DAYS,
    imageRetentionDays: days(settings.retention?.imageDays ?? settings.IMAGE_RETENTION_DAYS),
    guildGraceDays:
      days(settings.retention?.guildGraceDays ?? settings.GUILD_DATA_GRACE_DAYS) ??
      DEFAULT_GUILD_DATA_GRACE_DAYS,
    interactionTokenMinutes: INTERACTION_TOKEN_MINUTES,
    exportCooldownMinutes: EXPORT_COOLDOWN_MS / 60_000,
    exportLinkHours: Math.min(EXPORT_LINK_TTL_MS, linkTtlMs) / 3_600_000,
    usesReplicate: config.imageProvider === "replicate",
    objectStorage: config.storage.kind === "s3",
    privacyPolicyUrl: config.privacyPolicyUrl,
  };
}
