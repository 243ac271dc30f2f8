// What the bot keeps and for how long: interaction tokens for their 15 minutes, prompts of failed and blocked
// requests and deletion tombstones for RETENTION_DAYS, images for IMAGE_RETENTION_DAYS when set, and a server's
// data for GUILD_DATA_GRACE_DAYS after the bot was removed from it. One process of the fleet sweeps at a time.
import type { DataStore } from "../../db/data-store.ts";
import type { Clock, Timer } from "../../kit/clock.ts";
import type { Logger } from "../../kit/logger.ts";
import type { ReferenceService, Removal, ScheduledDeletion } from "../references/reference-service.ts";

const MINUTE_MS = 60_000;
export const DAY_MS = 24 * 60 * MINUTE_MS;
/** Discord's own lifetime of an interaction token: after it the token edits nothing, so it is not kept. */
export const TOKEN_LIFETIME_MS = 15 * MINUTE_MS;
/** How often each process tries to sweep: tokens each time, the rest once a day fleet-wide. */
export const SWEEP_INTERVAL_MS = MINUTE_MS;
/** Who deleted an image IMAGE_RETENTION_DAYS took: neither its owner nor a moderator. */
export const RETENTION_ACTOR = "retention";
/** The advisory lock's name: one sweeper in the fleet at a time. */
const SWEEP_LOCK = "retention-sweep";
/** When the daily part last ran (epoch ms), fleet-wide: a day later it runs again, in whichever process. */
const LAST_DAILY_KEY = "retention_last_daily_sweep";
/** Server ids cancelled in one statement. */
const PRESENT_SLICE = 500;
/** Images expired in one transaction. */
const EXPIRY_BATCH = 50;
/** Batches of expired images one sweep goes through at most; the next day's sweep takes the rest. */
const EXPIRY_BATCHES = 40;

export interface RetentionSettings {
  days: number;
  imageDays: number | undefined;
  guildGraceDays: number;
}

/** What one sweep did; `ran` false: another process was sweeping. */
export interface SweepReport {
  ran: boolean;
  tokens: number;
  /** Present when the daily part ran in this sweep. */
  daily?: DailyReport;
}

export interface DailyReport {
  prompts: number;
  auditPrompts: number;
  tombstones: number;
  expiredImages: number;
  guildsPurged: number;
}

export interface RetentionServiceDeps {
  data: DataStore;
  references: ReferenceService;
  settings: RetentionSettings;
  clock: Clock;
  logger: Logger;
}

/** Shows what an expiry removed (the Discord layer edits the messages that showed the images). */
export type RemovalsShown = (removals: readonly Removal[]) => Promise<void>;

export class RetentionService {
  private timer: Timer | undefined;
  private stopped = false;
  private showRemovals: RemovalsShown = async () => {};

  constructor(private readonly deps: RetentionServiceDeps) {}

  /** Sweeps every SWEEP_INTERVAL_MS until stopped; `show` edits the messages of images that expired. */
  start(show: RemovalsShown): void {
    this.showRemovals = show;
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.sweep()
        .catch((err: unknown) => this.deps.logger.warn({ err }, "retention sweep failed; tried again soon"))
        .finally(() => this.schedule());
    }, SWEEP_INTERVAL_MS);
  }

  /** When an image goes under IMAGE_RETENTION_DAYS; undefined when images are kept. */
  expiresAt(image: { finishedAt: number | null; createdAt: number }): number | undefined {
    const { imageDays } = this.deps.settings;
    return imageDays === undefined ? undefined : (image.finishedAt ?? image.createdAt) + imageDays * DAY_MS;
  }

  /** The bot was removed from a server: its data goes after GUILD_DATA_GRACE_DAYS unless it comes back. */
  async guildLeft(guildId: string): Promise<void> {
    const now = this.deps.clock.now();
    const purgeAt = now + this.deps.settings.guildGraceDays * DAY_MS;
    await this.deps.data.repos.retention.departed(guildId, now, purgeAt);
    this.deps.logger.info({ guildId, purgeAt: new Date(purgeAt).toISOString() }, "removed from a server");
  }

  /** The bot is in these servers (added back, or seen at connect): their scheduled removals are cancelled. */
  async guildsPresent(guildIds: readonly string[]): Promise<void> {
    let cancelled = 0;
    // In slices: a process with thousands of servers would pass too many parameters in one statement.
    for (let i = 0; i < guildIds.length; i += PRESENT_SLICE) {
      cancelled += await this.deps.data.repos.retention.returned(guildIds.slice(i, i + PRESENT_SLICE));
    }
    if (cancelled > 0) this.deps.logger.info({ cancelled }, "back in a server: its data stays");
  }

  /** When a server's data is due to go, if the bot left it. */
  async departure(guildId: string): Promise<{ leftAt: number; purgeAt: number } | undefined> {
    return this.deps.data.repos.retention.departure(guildId);
  }

  /**
   * One sweep, if no other process is sweeping: tokens older than their lifetime, and once a day (fleet-wide)
   * the prompts, tombstones, expired images and departed servers.
   */
  async sweep(): Promise<SweepReport> {
    const { data } = this.deps;
    const done = await data.exclusively(SWEEP_LOCK, async () => {
      const now = this.deps.clock.now();
      const tokens = await data.repos.retention.clearTokens(now - TOKEN_LIFETIME_MS);
      // Claimed by compare-and-set, not only under the lock: a pooler that does not keep sessions (PgBouncer
      // in transaction mode) voids session locks, and the daily part must still run once.
      if (!(await data.repos.meta.claimEvery(LAST_DAILY_KEY, now, DAY_MS))) return { ran: true, tokens };
      const daily = await this.daily(now);
      this.deps.logger.info({ tokens, ...daily }, "retention sweep");
      return { ran: true, tokens, daily };
    });
    return done?.value ?? { ran: false, tokens: 0 };
  }

  private async daily(now: number): Promise<DailyReport> {
    const { retention } = this.deps.data.repos;
    const before = now - this.deps.settings.days * DAY_MS;
    const prompts = await retention.forgetFailedPrompts(before);
    const auditPrompts = await this.forgetAuditPrompts(before);
    const tombstones = await retention.purgeTombstones(before);
    const expiredImages = await this.expireImages(now);
    const guildsPurged = await this.purgeDepartedGuilds(now);
    return { prompts, auditPrompts, tombstones, expiredImages, guildsPurged };
  }

  /** Takes the prompt out of old audit rows (blocked requests'), keeping the row and the rest of it. */
  private async forgetAuditPrompts(before: number): Promise<number> {
    const { retention } = this.deps.data.repos;
    let forgotten = 0;
    for (let afterId = 0; ; ) {
      const rows = await retention.auditRowsWithPrompts(before, afterId);
      if (rows.length === 0) return forgotten;
      for (const row of rows) {
        afterId = row.id;
        const details = JSON.parse(row.details) as Record<string, unknown>;
        if (!("prompt" in details)) continue;
        const { prompt: _prompt, ...rest } = details;
        await retention.setAuditDetails(row.id, JSON.stringify({ ...rest, promptExpired: true }));
        forgotten++;
      }
    }
  }

  /** IMAGE_RETENTION_DAYS: deletes older images as a deletion does (durably), then shows it in their messages. */
  private async expireImages(now: number): Promise<number> {
    const { imageDays } = this.deps.settings;
    if (imageDays === undefined) return 0;
    const { data, references } = this.deps;
    let expired = 0;
    for (let batch = 0; batch < EXPIRY_BATCHES; batch++) {
      const ids = await data.repos.retention.imagesFinishedBefore(now - imageDays * DAY_MS, EXPIRY_BATCH);
      if (ids.length === 0) break;
      const scheduled = await data.transaction(async (tx) => {
        const done: ScheduledDeletion[] = [];
        for (const id of ids) {
          const image = await tx.images.get(id);
          const deletion = image && (await references.scheduleDeletion(image, RETENTION_ACTOR, tx));
          if (deletion) done.push(deletion);
        }
        return done;
      });
      await references.removeScheduled(scheduled.flatMap((d) => d.fileNames));
      expired += scheduled.length;
      await this.showRemovals(scheduled.map((d) => d.removal)).catch((err: unknown) =>
        this.deps.logger.warn({ err }, "could not edit the messages of expired images"),
      );
    }
    return expired;
  }

  /** Servers left more than GUILD_DATA_GRACE_DAYS ago: their settings, library and audit go. */
  private async purgeDepartedGuilds(now: number): Promise<number> {
    const { data, references, logger } = this.deps;
    let purged = 0;
    for (const guildId of await data.repos.retention.departuresDue(now)) {
      const purge = await data.transaction((tx) => tx.retention.purgeGuild(guildId, now), {
        locks: [`guild:${guildId}`],
      });
      if (!purge) continue;
      purged++;
      await references.removeScheduled(purge.thumbnailFiles);
      logger.info(
        {
          guildId,
          settings: purge.settings,
          libraryEntries: purge.libraryEntries,
          auditRows: purge.auditRows,
        },
        "removed the data of a server the bot left",
      );
    }
    return purged;
  }
}
