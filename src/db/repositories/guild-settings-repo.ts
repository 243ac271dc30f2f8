// Per-guild settings: allowance overrides, the prompt blocklist, the safety level and the mod-log channel.
import type { Executor } from "../database.ts";

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

/** The columns a GuildSettings is read from. */
export const SETTINGS_COLUMNS = [
  "guildId",
  "dailyImagesPerUser",
  "dailyImagesPerGuild",
  "dailyVideosPerUser",
  "dailyVideosPerGuild",
  "blocklist",
  "safetyFilterLevel",
  "modLogChannelId",
  "curatorRoleId",
] as const;

type RawSettings = Omit<GuildSettings, "blocklist"> & { blocklist: string };

/** The guild's settings from its row, or every override unset when it never changed any (no row). */
export function settingsOf(guildId: string, raw: RawSettings | undefined): GuildSettings {
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

export class GuildSettingsRepo {
  /** Settings read in this repository's transaction (see the constructor), by guild. */
  private readonly read = new Map<string, GuildSettings>();

  /**
   * `inTransaction`: the repository is one transaction's, and a guild's settings read once are kept for the rest
   * of it (an admission reads them for the blocklist, the allowances and the safety level: one round trip
   * instead of three on PostgreSQL). Its own `save` replaces what it kept; nothing else writes them within it.
   */
  constructor(
    private readonly db: Executor,
    private readonly inTransaction = false,
  ) {}

  /** The guild's settings; a guild that never changed any has every override unset. */
  async get(guildId: string): Promise<GuildSettings> {
    const kept = this.read.get(guildId);
    if (kept) return copyOf(kept);
    const settings = await this.fetch(guildId);
    if (this.inTransaction) this.read.set(guildId, copyOf(settings));
    return settings;
  }

  /**
   * Keeps settings the transaction read in another statement (an admission reads them beside its counts), as
   * if `get` had read them. Outside a transaction it keeps nothing.
   */
  keep(settings: GuildSettings): void {
    if (this.inTransaction) this.read.set(settings.guildId, copyOf(settings));
  }

  private async fetch(guildId: string): Promise<GuildSettings> {
    const raw = await this.db
      .selectFrom("guildSettings")
      .select(SETTINGS_COLUMNS)
      .where("guildId", "=", guildId)
      .executeTakeFirst();
    return settingsOf(guildId, raw);
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
    if (this.inTransaction) this.read.set(settings.guildId, copyOf(settings));
    await this.db
      .insertInto("guildSettings")
      .values(row)
      .onConflict((oc) => oc.column("guildId").doUpdateSet(changes))
      .execute();
  }
}

/** A copy a caller may change (a settings change edits what it read, then saves it). */
function copyOf(settings: GuildSettings): GuildSettings {
  return { ...settings, blocklist: [...settings.blocklist] };
}
