// Daily allowances (UTC days): a request reserves its units before any prediction starts, failed slots are
// refunded, and /usage reports what is used and left, with an approximate cost. On top of every server's
// allowances, a member has one bot-wide cap, so being in more servers does not multiply what they can spend.

import type { Repos } from "../../db/repos.ts";
import type { GuildSettingsRepo } from "../../db/repositories/guild-settings-repo.ts";
import type { LedgerEntry, UsageKind, UsageRepo, UsageSums } from "../../db/repositories/usage-repo.ts";
import type { Clock } from "../../kit/clock.ts";
import { defaultVideoSeconds } from "../../providers/video-models.ts";
import type { Pseudonyms } from "./pseudonyms.ts";

export interface Allowances {
  imagesPerUser: number;
  imagesPerGuild: number;
  videosPerUser: number;
  videosPerGuild: number;
}

/**
 * One member's images and videos per UTC day across every server and DM together. Counted apart: a video
 * costs ten to thirty images, so one shared unit would make either limit meaningless.
 */
export interface UserCap {
  images: number;
  videos: number;
}

export type Reservation =
  | { ok: true }
  | {
      ok: false;
      /** `user`: the member in this server (or DMs); `everywhere`: the bot-wide cap; `guild`: the server. */
      scope: "user" | "everywhere" | "guild";
      kind: UsageKind;
      used: number;
      limit: number;
      resetsAt: number;
    };

export interface UsageLine {
  used: number;
  limit: number;
  remaining: number;
}

export interface UsageReport {
  day: string;
  resetsAt: number;
  user: { images: UsageLine; videos: UsageLine; estimatedUsd: number };
  /** The member across every server and DM: the bot-wide cap. */
  everywhere: { images: UsageLine; videos: UsageLine };
  guild: { images: UsageLine; videos: UsageLine; estimatedUsd: number } | undefined;
}

export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const nextUtcMidnight = (ms: number) =>
  Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), new Date(ms).getUTCDate() + 1);

export class QuotaService {
  constructor(
    private readonly deps: {
      /** Outside any transaction: /usage and /settings view. */
      usage: UsageRepo;
      settings: GuildSettingsRepo;
      defaults: Allowances;
      /** The bot-wide cap per member (USER_DAILY_CAP, USER_DAILY_VIDEO_CAP). */
      userCap: UserCap;
      /** US dollars per image, or per second of video, by model, for estimates. */
      prices: Record<string, number>;
      clock: Clock;
      /** A member's ledger rows are theirs under their id or, kept by an erasure, under their pseudonym. */
      pseudonyms: Pseudonyms;
    },
  ) {}

  get userCap(): UserCap {
    return this.deps.userCap;
  }

  /** The guild's allowances: its overrides where it set them, the configured defaults elsewhere. DMs: defaults. */
  allowances(guildId: string | null): Promise<Allowances> {
    return this.allowancesIn(guildId, this.deps.settings);
  }

  private async allowancesIn(guildId: string | null, settings: GuildSettingsRepo): Promise<Allowances> {
    const { defaults } = this.deps;
    if (!guildId) return defaults;
    const s = await settings.get(guildId);
    return {
      imagesPerUser: s.dailyImagesPerUser ?? defaults.imagesPerUser,
      imagesPerGuild: s.dailyImagesPerGuild ?? defaults.imagesPerGuild,
      videosPerUser: s.dailyVideosPerUser ?? defaults.videosPerUser,
      videosPerGuild: s.dailyVideosPerGuild ?? defaults.videosPerGuild,
    };
  }

  /**
   * Reserves `units` for a job if the user's allowance (in this guild, or in DMs), their bot-wide cap and the
   * guild's allowance all allow it; checked and written in the caller's transaction `tx` (opened with the
   * member's and the guild's locks), so two requests, in the same server or in two, in one process or in two,
   * cannot both take the last unit.
   */
  async reserve(
    request: Omit<LedgerEntry, "day" | "createdAt">,
    tx: Repos,
    /** A day's sums the caller read in `tx` already, under its locks (AdmissionReads); read again for another day. */
    known?: { day: string; used: UsageSums },
  ): Promise<Reservation> {
    const { clock, pseudonyms } = this.deps;
    const now = clock.now();
    const day = utcDay(now);
    const allowances = await this.allowancesIn(request.guildId, tx.guildSettings);
    const userLimit = request.kind === "image" ? allowances.imagesPerUser : allowances.videosPerUser;
    const guildLimit = request.kind === "image" ? allowances.imagesPerGuild : allowances.videosPerGuild;
    const used =
      known?.day === day
        ? known.used
        : await tx.usage.usedFor(
            day,
            await pseudonyms.idsOf(request.userId, tx.meta),
            request.guildId,
            request.kind,
          );
    const usedByUser = used.byUser;
    if (usedByUser + request.units > userLimit) {
      return {
        ok: false,
        scope: "user",
        kind: request.kind,
        used: usedByUser,
        limit: userLimit,
        resetsAt: nextUtcMidnight(now),
      };
    }
    const cap = request.kind === "image" ? this.deps.userCap.images : this.deps.userCap.videos;
    const usedEverywhere = used.everywhere;
    if (usedEverywhere + request.units > cap) {
      return {
        ok: false,
        scope: "everywhere",
        kind: request.kind,
        used: usedEverywhere,
        limit: cap,
        resetsAt: nextUtcMidnight(now),
      };
    }
    if (request.guildId) {
      const usedByGuild = used.byGuild;
      if (usedByGuild + request.units > guildLimit) {
        return {
          ok: false,
          scope: "guild",
          kind: request.kind,
          used: usedByGuild,
          limit: guildLimit,
          resetsAt: nextUtcMidnight(now),
        };
      }
    }
    await tx.usage.add({ day, ...request, createdAt: now });
    return { ok: true };
  }

  /**
   * Gives back up to `units` of what a job reserved (never more than it holds), on the day, and for the member,
   * server and model, of its reservation: the ledger's own row says which, so a refund after midnight or after
   * a model switch lands where the reservation did. Written in the caller's transaction `tx` under the job's
   * lock, so two processes refunding the same job refund it once.
   */
  async refund(jobId: string, kind: UsageKind, units: number, tx: Repos): Promise<void> {
    // Nothing to give back (every slot made its image): no lock and no reads, which a grid would wait on.
    if (units <= 0) return;
    await tx.locks.take([`job:${jobId}`]);
    const reservation = await tx.usage.reservation(jobId, kind);
    const back = Math.min(units, await tx.usage.heldByJob(jobId, kind));
    if (!reservation || back <= 0) return;
    await tx.usage.add({ ...reservation, units: -back, createdAt: this.deps.clock.now() });
  }

  async report(userId: string, guildId: string | null): Promise<UsageReport> {
    const now = this.deps.clock.now();
    const day = utcDay(now);
    const allowances = await this.allowances(guildId);
    const line = (used: number, limit: number): UsageLine => ({
      used,
      limit,
      remaining: Math.max(0, limit - used),
    });
    const cost = (rows: Array<{ model: string; seconds: number | null; units: number }>) =>
      rows.reduce((sum, r) => sum + costOf(r, this.deps.prices), 0);
    const { usage } = this.deps;
    const userIds = await this.deps.pseudonyms.idsOf(userId);
    return {
      day,
      resetsAt: nextUtcMidnight(now),
      user: {
        images: line(await usage.usedByUser(day, userIds, guildId, "image"), allowances.imagesPerUser),
        videos: line(await usage.usedByUser(day, userIds, guildId, "video"), allowances.videosPerUser),
        estimatedUsd: cost(await usage.unitsByModel(day, { userIds, guildId })),
      },
      everywhere: {
        images: line(await usage.usedByUserEverywhere(day, userIds, "image"), this.deps.userCap.images),
        videos: line(await usage.usedByUserEverywhere(day, userIds, "video"), this.deps.userCap.videos),
      },
      guild: guildId
        ? {
            images: line(await usage.usedByGuild(day, guildId, "image"), allowances.imagesPerGuild),
            videos: line(await usage.usedByGuild(day, guildId, "video"), allowances.videosPerGuild),
            estimatedUsd: cost(await usage.unitsByModel(day, { guildId })),
          }
        : undefined,
    };
  }
}

/**
 * What ledger units cost: an image its model's price; a video its model's price per second times its length
 * (a video reserved before lengths were recorded: its model's one length then).
 */
export function costOf(
  row: { model: string; seconds: number | null; units: number },
  prices: Record<string, number>,
): number {
  const perUnit = prices[row.model] ?? 0;
  const seconds = row.seconds ?? defaultVideoSeconds(row.model) ?? 1;
  return perUnit * seconds * row.units;
}
