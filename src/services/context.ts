// What every handler receives: the configuration, the services and the storage the app was built with
// (src/app.ts builds it). A type only, so the layers that use it do not depend on the composition root.
import type { Clock } from "../domain/clock.ts";
import type { Logger } from "../domain/logger.ts";
import type { DataStore } from "../storage/data-store.ts";
import type { FileStore } from "../storage/file-store.ts";
import type { Repos } from "../storage/repos.ts";
import type { AdmissionService } from "./admission.ts";
import type { Config } from "./config.ts";
import type { GenerationService } from "./generation.ts";
import type { GuildSettingsService } from "./guild-settings.ts";
import type { SharedJobQueue } from "./job-queue.ts";
import type { LibraryService } from "./library.ts";
import type { Limiter } from "./limiter.ts";
import type { LinkSigner } from "./links.ts";
import type { Metrics } from "./metrics.ts";
import type { ModerationService } from "./moderation.ts";
import type { PredictionEvents } from "./prediction-events.ts";
import type { ImageProvider, VideoProvider } from "./providers/types.ts";
import type { QuotaService } from "./quota.ts";
import type { ReferenceService } from "./references.ts";
import type { VideoService } from "./video.ts";

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
  moderation: ModerationService;
  video: VideoService;
  quota: QuotaService;
  admission: AdmissionService;
  guildSettings: GuildSettingsService;
  /** The servers' libraries of named references. */
  library: LibraryService;
  /** This context's Prometheus metrics (its own registry), served at GET /metrics. */
  metrics: Metrics;
  /** Signed links to stored files, served by the operations HTTP server; none without PUBLIC_URL. */
  links: LinkSigner;
  /** Completions announced by Replicate's webhooks, which wake the jobs waiting on them in this process. */
  predictionEvents: PredictionEvents;
  /**
   * The fleet's shared job queue (REDIS_URL): requests are enqueued there and run by whichever worker takes
   * them. Undefined: this process runs its requests itself, under its own limiter.
   */
  jobs: SharedJobQueue | undefined;
  /** Stops waiting on predictions (their rows stay resumable) and closes the database. */
  close(): Promise<void>;
}
