// The usage ledger: reservations and refunds of images and videos, counted per UTC day.
import type { Executor } from "../database.ts";

export type UsageKind = "image" | "video";

export interface LedgerEntry {
  day: string;
  guildId: string | null;
  userId: string;
  kind: UsageKind;
  units: number;
  jobId: string;
  model: string;
  /** A video's length in seconds (absent for images): what its cost is counted in. */
  seconds?: number | null | undefined;
  createdAt: number;
}

const sumOf = (row: { n: number | string | null } | undefined) => Number(row?.n ?? 0);

/** What a member and a server used of one kind on one day (see usedFor). */
export interface UsageSums {
  byUser: number;
  everywhere: number;
  byGuild: number;
}

/**
 * The query behind usedFor: one row of three sums (null where no entry counts), to run or to select from.
 * `userIds`: the member's id and their pseudonym (rows an erasure kept for today's allowances carry it).
 */
export function usageSums(
  db: Executor,
  day: string,
  userIds: readonly string[],
  guildId: string | null,
  kind: UsageKind,
) {
  return db
    .selectFrom("usageLedger")
    .select((eb) => [
      eb.fn
        .sum<number | string | null>("units")
        .filterWhere((f) =>
          f.and([f("userId", "in", userIds), f("guildId", "is not distinct from", guildId)]),
        )
        .as("byUser"),
      eb.fn.sum<number | string | null>("units").filterWhere("userId", "in", userIds).as("everywhere"),
      eb.fn.sum<number | string | null>("units").filterWhere("guildId", "=", guildId).as("byGuild"),
    ])
    .where("day", "=", day)
    .where("kind", "=", kind)
    .where((w) => w.or([w("userId", "in", userIds), w("guildId", "=", guildId)]));
}

/** The sums of a usageSums row, as numbers; the guild's is 0 in DMs. */
export function usageSumsOf(
  row:
    | { byUser: number | string | null; everywhere: number | string | null; byGuild: number | string | null }
    | undefined,
  guildId: string | null,
): UsageSums {
  return {
    byUser: sumOf(row && { n: row.byUser }),
    everywhere: sumOf(row && { n: row.everywhere }),
    byGuild: guildId ? sumOf(row && { n: row.byGuild }) : 0,
  };
}

export class UsageRepo {
  constructor(private readonly db: Executor) {}

  async add(entry: LedgerEntry): Promise<void> {
    // Named one by one: callers pass wider objects (an admission request), and only these are columns.
    const { day, guildId, userId, kind, units, jobId, model, createdAt } = entry;
    const seconds = entry.seconds ?? null;
    await this.db
      .insertInto("usageLedger")
      .values({ day, guildId, userId, kind, units, jobId, model, seconds, createdAt })
      .execute();
  }

  /**
   * The three sums an admission checks, in one statement: the user's use in this guild (or in DMs when guildId
   * is null), the user's use everywhere, and the guild's (0 in DMs), on a day, for one kind.
   */
  async usedFor(
    day: string,
    userIds: readonly string[],
    guildId: string | null,
    kind: UsageKind,
  ): Promise<UsageSums> {
    return usageSumsOf(await usageSums(this.db, day, userIds, guildId, kind).executeTakeFirst(), guildId);
  }

  /** A user's use in one guild (or in DMs when guildId is null) on a day. */
  async usedByUser(
    day: string,
    userIds: readonly string[],
    guildId: string | null,
    kind: UsageKind,
  ): Promise<number> {
    const row = await this.db
      .selectFrom("usageLedger")
      .select((eb) => eb.fn.sum<number>("units").as("n"))
      .where("day", "=", day)
      .where("userId", "in", userIds)
      .where("guildId", "is not distinct from", guildId)
      .where("kind", "=", kind)
      .executeTakeFirst();
    return sumOf(row);
  }

  /** A user's use on a day in every guild and in DMs together (the bot-wide cap). */
  async usedByUserEverywhere(day: string, userIds: readonly string[], kind: UsageKind): Promise<number> {
    const row = await this.db
      .selectFrom("usageLedger")
      .select((eb) => eb.fn.sum<number>("units").as("n"))
      .where("day", "=", day)
      .where("userId", "in", userIds)
      .where("kind", "=", kind)
      .executeTakeFirst();
    return sumOf(row);
  }

  async usedByGuild(day: string, guildId: string, kind: UsageKind): Promise<number> {
    const row = await this.db
      .selectFrom("usageLedger")
      .select((eb) => eb.fn.sum<number>("units").as("n"))
      .where("day", "=", day)
      .where("guildId", "=", guildId)
      .where("kind", "=", kind)
      .executeTakeFirst();
    return sumOf(row);
  }

  /** The row that reserved a job's units: its day, owner and model are its refunds' too. */
  async reservation(jobId: string, kind: UsageKind): Promise<LedgerEntry | undefined> {
    return this.db
      .selectFrom("usageLedger")
      .select(["day", "guildId", "userId", "kind", "units", "jobId", "model", "seconds", "createdAt"])
      .where("jobId", "=", jobId)
      .where("kind", "=", kind)
      .where("units", ">", 0)
      .orderBy("id")
      .limit(1)
      .executeTakeFirst();
  }

  /** What a job holds now: its reservation less its refunds. */
  async heldByJob(jobId: string, kind: UsageKind): Promise<number> {
    const row = await this.db
      .selectFrom("usageLedger")
      .select((eb) => eb.fn.sum<number>("units").as("n"))
      .where("jobId", "=", jobId)
      .where("kind", "=", kind)
      .executeTakeFirst();
    return sumOf(row);
  }

  /**
   * Units per model (and per video length) on a day: one user's in a guild (or DMs), or the whole guild's.
   * `seconds` is null for images and for videos recorded before lengths were.
   */
  async unitsByModel(
    day: string,
    scope: { userIds: readonly string[]; guildId: string | null } | { guildId: string },
  ): Promise<Array<{ model: string; seconds: number | null; units: number }>> {
    let query = this.db
      .selectFrom("usageLedger")
      .select((eb) => ["model", "seconds", eb.fn.sum<number>("units").as("units")])
      .where("day", "=", day)
      .groupBy(["model", "seconds"]);
    query =
      "userIds" in scope
        ? query.where("userId", "in", scope.userIds).where("guildId", "is not distinct from", scope.guildId)
        : query.where("guildId", "=", scope.guildId);
    const rows = await query.execute();
    return rows.map((r) => ({
      model: r.model,
      seconds: r.seconds === null ? null : Number(r.seconds),
      units: Number(r.units),
    }));
  }
}
