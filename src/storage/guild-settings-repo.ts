// Per-guild settings: allowance overrides, the prompt blocklist, the safety level and the mod-log channel.
import type { Executor } from "./database.ts";

export interface GuildSettings {
  guildId: string;
  dailyImagesPerUser: number | null;
  dailyImagesPerGuild: number | null;
  dailyVideosPerUser: number | null;
  dailyVideosPerGuild: number | null;
  blocklist: string[];
  safetyFilterLevel: string | null;
  modLogChannelId: string | null;
  /** Members with this role may curate the library (as members with Manage Messages may). */
  curatorRoleId: string | null;
}

export class GuildSettingsRepo {
  constructor(private readonly db: Executor) {}

  /** The guild's settings; a guild that never changed any has every override unset. */
  async get(guildId: string): Promise<GuildSettings> {
    const raw = await this.db
      .selectFrom("guildSettings")
      .select([
        "guildId",
        "dailyImagesPerUser",
        "dailyImagesPerGuild",
        "dailyVideosPerUser",
        "dailyVideosPerGuild",
        "blocklist",
        "safetyFilterLevel",
        "modLogChannelId",
        "curatorRoleId",
      ])
      .where("guildId", "=", guildId)
      .executeTakeFirst();
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
        curatorRoleId: null,
      };
    }
    return { ...raw, blocklist: JSON.parse(raw.blocklist) as string[] };
  }

  async save(settings: GuildSettings, updatedBy: string, updatedAt: number): Promise<void> {
    const changes = {
      dailyImagesPerUser: settings.dailyImagesPerUser,
      dailyImagesPerGuild: settings.dailyImagesPerGuild,
      dailyVideosPerUser: settings.dailyVideosPerUser,
      dailyVideosPerGuild: settings.dailyVideosPerGuild,
      blocklist: JSON.stringify(settings.blocklist),
      safetyFilterLevel: settings.safetyFilterLevel,
      modLogChannelId: settings.modLogChannelId,
      curatorRoleId: settings.curatorRoleId,
      updatedAt,
      updatedBy,
    };
    const row = { guildId: settings.guildId, ...changes };
    await this.db
      .insertInto("guildSettings")
      .values(row)
      .onConflict((oc) => oc.column("guildId").doUpdateSet(changes))
      .execute();
  }
}
