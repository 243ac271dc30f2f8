// What every handler receives: the configuration, the services and the storage the app was built with
// (src/app/compose.ts builds it). A type only, so the layers that use it do not depend on the composition root.

import type { Config } from "../config/load.ts";
import type { DataStore } from "../db/data-store.ts";
import type { Repos } from "../db/repos.ts";
import type { FileStore } from "../files/file-store.ts";
import type { LinkSigner } from "../files/signed-links.ts";
import type { Clock } from "../kit/clock.ts";
import type { Cooldown } from "../kit/cooldown.ts";
import type { ExpiringCache } from "../kit/expiring-cache.ts";
import type { Limiter } from "../kit/limiter.ts";
import type { Logger } from "../kit/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { PredictionEvents } from "../predictions/completions.ts";
import type { DeliveryLog } from "../providers/replicate/webhooks.ts";
import type { ImageProvider, VideoProvider } from "../providers/types.ts";
import type { SharedJobQueue } from "../queue/job-queue.ts";
import type { GenerationService } from "./generation/generation-service.ts";
import type { LibraryService } from "./library/library-service.ts";
import type { AdmissionService } from "./limits/admission.ts";
import type { Pseudonyms } from "./limits/pseudonyms.ts";
import type { QuotaService } from "./limits/quota.ts";
import type { ModerationService } from "./moderation/moderation-service.ts";
import type { ErasureService } from "./privacy/erasure-service.ts";
import type { PrivacyExportService } from "./privacy/export.ts";
import type { LateResults } from "./references/late-results.ts";
import type { ReferenceService } from "./references/reference-service.ts";
import type { RetentionService } from "./retention/retention-service.ts";
import type { GuildSettingsService } from "./settings/guild-settings.ts";
import type { VideoService } from "./video/video-service.ts";

export interface AppContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** The database (SQLite or PostgreSQL) and its transactions. */
  data: DataStore;
  /** `data.repos`: the repositories outside any transaction. */
  repos: Repos;
  files: FileStore;
  imageProvider: ImageProvider;
  videoProvider: VideoProvider;
  limiter: Limiter;
  generation: GenerationService;
  references: ReferenceService;
  /** Results that finished after their interaction expired where the bot may not post: told on next use. */
  lateResults: LateResults;
  moderation: ModerationService;
  video: VideoService;
  quota: QuotaService;
  admission: AdmissionService;
  guildSettings: GuildSettingsService;
  /** Members' pseudonyms: what an erasure leaves in the ledger and the audit log. */
  pseudonyms: Pseudonyms;
  /** /privacy delete: a member's erasure, journalled. */
  privacy: ErasureService;
  /** The servers' libraries of named references. */
  library: LibraryService;
  /** What is kept how long, the sweep that removes the rest, and servers the bot was removed from. */
  retention: RetentionService;
  /** This context's Prometheus metrics (its own registry), served at GET /metrics. */
  metrics: Metrics;
  /** Members' data exports (/privacy export), their once-per-window limit and the sweep of expired ones. */
  privacyExports: PrivacyExportService;
  /** Signed links to stored files, served by the operations HTTP server; none without PUBLIC_URL. */
  links: LinkSigner;
  /** Completions announced by Replicate's webhooks, which wake the jobs waiting on them in this process. */
  predictionEvents: PredictionEvents;
  /**
   * Replicate webhook deliveries already handled, fleet-wide (Redis with REDIS_URL, else the database): a
   * repeat is recognised by whichever process hears it, and after a restart.
   */
  webhookDeliveries: DeliveryLog;
  /**
   * The fleet's shared job queue (REDIS_URL): requests are enqueued there and run by whichever worker takes
   * them. Undefined: this process runs its requests itself, under its own limiter.
   */
  jobs: SharedJobQueue | undefined;
  /**
   * The /character defers (its buttons' too) this context sent and Discord has not answered yet: while several
   * are on their way, the admissions wait for theirs, so a burst's acknowledgements go first.
   */
  acknowledging: { count: number };
  /**
   * Servers' roles (and owners) read over REST, by server id, for a short while: server-wide actions need a
   * member's permissions in the server, which an interaction without a cached server does not carry.
   */
  serverRoles: ExpiringCache<ServerRoles | undefined>;
  /**
   * Presses of list pagers (/library list, /reference list) by member: at most one page a second each, since
   * every page of the library sends four previews.
   */
  pagerCooldown: Cooldown;
  /** Stops waiting on predictions (their rows stay resumable) and closes the database. */
  close(): Promise<void>;
}

/** A server's owner and what each of its roles permits (the @everyone role's id is the server's own). */
export interface ServerRoles {
  ownerId: string;
  /** Role id → permission bits. */
  roles: ReadonlyMap<string, bigint>;
}
