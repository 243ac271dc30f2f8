// What every handler receives: the configuration, the services and the storage the app was built with
// (src/app.ts builds it). A type only, so the layers that use it do not depend on the composition root.
import type { Clock } from "../domain/clock.ts";
import type { Logger } from "../domain/logger.ts";
import type { AuditRepo } from "../storage/audit-repo.ts";
import type { Db } from "../storage/database.ts";
import type { FileStore } from "../storage/file-store.ts";
import type { GenerationsRepo } from "../storage/generations-repo.ts";
import type { GuildSettingsRepo } from "../storage/guild-settings-repo.ts";
import type { ImagesRepo } from "../storage/images-repo.ts";
import type { MetaRepo } from "../storage/meta-repo.ts";
import type { PendingDeletionsRepo } from "../storage/pending-deletions-repo.ts";
import type { PendingMessageEditsRepo } from "../storage/pending-message-edits-repo.ts";
import type { SelectionsRepo } from "../storage/selections-repo.ts";
import type { UsageRepo } from "../storage/usage-repo.ts";
import type { VideosRepo } from "../storage/videos-repo.ts";
import type { AdmissionService } from "./admission.ts";
import type { Config } from "./config.ts";
import type { GenerationService } from "./generation.ts";
import type { GuildSettingsService } from "./guild-settings.ts";
import type { Limiter } from "./limiter.ts";
import type { ModerationService } from "./moderation.ts";
import type { ImageProvider, VideoProvider } from "./providers/types.ts";
import type { QuotaService } from "./quota.ts";
import type { ReferenceService } from "./references.ts";
import type { VideoService } from "./video.ts";

export interface AppContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Db;
  repos: {
    generations: GenerationsRepo;
    images: ImagesRepo;
    selections: SelectionsRepo;
    videos: VideosRepo;
    usage: UsageRepo;
    guildSettings: GuildSettingsRepo;
    audit: AuditRepo;
    meta: MetaRepo;
    pendingDeletions: PendingDeletionsRepo;
    pendingMessageEdits: PendingMessageEditsRepo;
  };
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
  /** Stops waiting on predictions (their rows stay resumable) and closes the database. */
  close(): void;
}
