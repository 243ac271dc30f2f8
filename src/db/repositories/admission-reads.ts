// What an admission decides on, read in one statement once its locks are held: the server's settings, the
// member's running jobs and the day's three usage sums. On PostgreSQL each statement of the admission is a
// round trip its locks are held over (three reads were three round trips).
import type { Executor } from "../database.ts";
import {
  type GuildSettings,
  type GuildSettingsRepo,
  SETTINGS_COLUMNS,
  settingsOf,
} from "./guild-settings-repo.ts";
import { type UsageKind, type UsageSums, usageSums, usageSumsOf } from "./usage-repo.ts";
import { runningJobCounts, runningJobsOf } from "./videos-repo.ts";

export interface AdmissionFacts {
  /** The server's settings; undefined in DMs. */
  settings: GuildSettings | undefined;
  /** The member's jobs still running, images and videos together. */
  running: number;
  used: UsageSums;
}

export class AdmissionReads {
  constructor(
    private readonly db: Executor,
    /** The transaction's settings repository: it keeps the settings read here for the reads after. */
    private readonly settings: GuildSettingsRepo,
  ) {}

  /**
   * What `guildSettings.get` and `usage.usedFor` return, and the member's running jobs, in one statement.
   * `ledgerIds`: the member's id and pseudonym, as usageSums takes them.
   */
  async read(
    userId: string,
    ledgerIds: readonly string[],
    guildId: string | null,
    day: string,
    kind: UsageKind,
  ): Promise<AdmissionFacts> {
    const base = this.db
      .selectFrom(usageSums(this.db, day, ledgerIds, guildId, kind).as("used"))
      .selectAll("used")
      .select(runningJobCounts(this.db, userId));
    if (!guildId) {
      const row = await base.executeTakeFirst();
      return { settings: undefined, running: runningJobsOf(row), used: usageSumsOf(row, null) };
    }
    // One row always: the sums are an aggregate, and the server's row is left-joined to it.
    const row = await base
      .leftJoin("guildSettings as gs", (join) => join.on("gs.guildId", "=", guildId))
      .select(SETTINGS_COLUMNS.map((c) => `gs.${c}` as const))
      .executeTakeFirstOrThrow();
    const { byUser, everywhere, byGuild, runningImages, runningVideos, ...stored } = row;
    // Columns of a row that is not there read null; a server that never changed a setting has none.
    const { guildId: storedId, blocklist } = stored;
    const settings = settingsOf(
      guildId,
      storedId === null || blocklist === null ? undefined : { ...stored, guildId: storedId, blocklist },
    );
    this.settings.keep(settings);
    return {
      settings,
      running: runningJobsOf({ runningImages, runningVideos }),
      used: usageSumsOf({ byUser, everywhere, byGuild }, guildId),
    };
  }
}
