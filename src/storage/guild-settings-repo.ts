// Per-guild settings: allowance overrides, the prompt blocklist, the safety level and the mod-log channel.
import type { Db } from "./database.ts";

export interface GuildSettings {
  guildId: string;
  dailyImagesPerUser: number | null;
  dailyImagesPerGuild: number | null;
  dailyVideosPerUser: number | null;
  dailyVideosPerGuild: number | null;
  blocklist: string[];
  safetyFilterLevel: string | null;
  modLogChannelId: string | null;
}

type Raw = Omit<GuildSettings, "blocklist"> & { blocklist: string };

const COLUMNS = `guild_id AS guildId, daily_images_per_user AS dailyImagesPerUser,
  daily_images_per_guild AS dailyImagesPerGuild, daily_videos_per_user AS dailyVideosPerUser,
  daily_videos_per_guild AS dailyVideosPerGuild, blocklist, safety_filter_level AS safetyFilterLevel,
  mod_log_channel_id AS modLogChannelId`;

export class GuildSettingsRepo {
  private readonly getStmt;
  private readonly upsertStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], Raw>(`SELECT ${COLUMNS} FROM guild_settings WHERE guild_id = ?`);
    this.upsertStmt =
      db.prepare(`INSERT INTO guild_settings (guild_id, daily_images_per_user, daily_images_per_guild,
      daily_videos_per_user, daily_videos_per_guild, blocklist, safety_filter_level, mod_log_channel_id, updated_at,
      updated_by) VALUES (@guildId, @dailyImagesPerUser, @dailyImagesPerGuild, @dailyVideosPerUser,
      @dailyVideosPerGuild, @blocklist, @safetyFilterLevel, @modLogChannelId, @updatedAt, @updatedBy)
      ON CONFLICT (guild_id) DO UPDATE SET daily_images_per_user = excluded.daily_images_per_user,
      daily_images_per_guild = excluded.daily_images_per_guild, daily_videos_per_user = excluded.daily_videos_per_user,
      daily_videos_per_guild = excluded.daily_videos_per_guild, blocklist = excluded.blocklist,
      safety_filter_level = excluded.safety_filter_level, mod_log_channel_id = excluded.mod_log_channel_id,
      updated_at = excluded.updated_at, updated_by = excluded.updated_by`);
  }

  /** The guild's settings; a guild that never changed any has every override unset. */
  get(guildId: string): GuildSettings {
    const raw = this.getStmt.get(guildId);
    if (!raw) {
      return {
        guildId,
        dailyImagesPerUser: null,
        dailyImagesPerGuild: null,
        dailyVideosPerUser: null,
        dailyVideosPerGuild: null,
        blocklist: [],
        safetyFilterLevel: null,
        modLogChannelId: null,
      };
    }
    return { ...raw, blocklist: JSON.parse(raw.blocklist) as string[] };
  }

  save(settings: GuildSettings, updatedBy: string, updatedAt: number): void {
    this.upsertStmt.run({ ...settings, blocklist: JSON.stringify(settings.blocklist), updatedAt, updatedBy });
  }
}
