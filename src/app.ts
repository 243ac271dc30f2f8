// Composition root: builds the AppContext every handler and test receives. No module-level singletons.

import sharp from "sharp";
import { type Clock, systemClock } from "./domain/clock.ts";
import type { Logger } from "./domain/logger.ts";
import { AdmissionService } from "./services/admission.ts";
import type { Config } from "./services/config.ts";
import type { AppContext } from "./services/context.ts";
import { GenerationService } from "./services/generation.ts";
import { GuildSettingsService } from "./services/guild-settings.ts";
import { Limiter } from "./services/limiter.ts";
import { ModerationService } from "./services/moderation.ts";
import {
  MOCK_MODEL,
  MOCK_VIDEO_MODEL,
  MockImageProvider,
  MockVideoProvider,
} from "./services/providers/mock.ts";
import { ReplicateImageProvider } from "./services/providers/replicate.ts";
import { ReplicateVideoProvider } from "./services/providers/replicate-video.ts";
import type { ImageProvider, VideoProvider } from "./services/providers/types.ts";
import { QuotaService } from "./services/quota.ts";
import { ReferenceService } from "./services/references.ts";
import { VideoService } from "./services/video.ts";
import { AuditRepo } from "./storage/audit-repo.ts";
import { databaseFile, openDatabase } from "./storage/database.ts";
import { FileStore } from "./storage/file-store.ts";
import { GenerationsRepo } from "./storage/generations-repo.ts";
import { GuildSettingsRepo } from "./storage/guild-settings-repo.ts";
import { ImagesRepo } from "./storage/images-repo.ts";
import { MetaRepo } from "./storage/meta-repo.ts";
import { openObjectStore } from "./storage/open-object-store.ts";
import { PendingDeletionsRepo } from "./storage/pending-deletions-repo.ts";
import { PendingMessageEditsRepo } from "./storage/pending-message-edits-repo.ts";
import { SelectionsRepo } from "./storage/selections-repo.ts";
import { UsageRepo } from "./storage/usage-repo.ts";
import { VideosRepo } from "./storage/videos-repo.ts";

export interface AppOptions {
  clock?: Clock;
}

export function createAppContext(config: Config, logger: Logger, options: AppOptions = {}): AppContext {
  // sharp's operation cache only helps repeated work on the same files, which the bot never does; it holds
  // up to 50 MB for nothing.
  sharp.cache(false);
  const clock = options.clock ?? systemClock;
  const db = openDatabase(databaseFile(config.dataDir));
  const repos = {
    generations: new GenerationsRepo(db),
    images: new ImagesRepo(db),
    selections: new SelectionsRepo(db),
    videos: new VideosRepo(db),
    usage: new UsageRepo(db),
    guildSettings: new GuildSettingsRepo(db),
    audit: new AuditRepo(db),
    meta: new MetaRepo(db),
    pendingDeletions: new PendingDeletionsRepo(db),
    pendingMessageEdits: new PendingMessageEditsRepo(db),
  };
  const quota = new QuotaService({
    db,
    usage: repos.usage,
    settings: repos.guildSettings,
    defaults: config.allowances,
    userCap: config.userDailyCap,
    prices: config.prices,
    clock,
  });
  const admission = new AdmissionService({
    quota,
    settings: repos.guildSettings,
    audit: repos.audit,
    runningJobs: (userId) => repos.generations.runningCount(userId) + repos.videos.runningCount(userId),
    maxRunningPerUser: config.maxRunningPerUser,
    clock,
  });
  const guildSettings = new GuildSettingsService({
    db,
    settings: repos.guildSettings,
    audit: repos.audit,
    clock,
  });
  // Images and videos: files under DATA_DIR, or S3 with STORAGE_URL. Its start-up recovery (deletions a
  // crash interrupted, orphan and temp files) is awaited by startBot before any job can write.
  const files = new FileStore(openObjectStore(config.storage, config.dataDir));
  const { image: imageProvider, video: videoProvider } = createProviders(config, logger, clock);
  const limiter = new Limiter(config.maxConcurrentPredictions);
  const references = new ReferenceService({ ...repos, files, clock, logger });
  const moderation = new ModerationService({ db, references, audit: repos.audit, clock });
  const generation = new GenerationService({
    db,
    ...repos,
    files,
    provider: imageProvider,
    safetyLevel: (guildId) => guildSettings.safetyLevel(guildId),
    model: () => (imageProvider instanceof ReplicateImageProvider ? imageProvider.model : MOCK_MODEL),
    limiter,
    clock,
    logger,
    pollMs: config.predictionPollMs,
    timeoutMs: config.predictionTimeoutMs,
    // A failed image costs nothing: its reservation goes back when the generation settles.
    onFinished: (g, images) =>
      quota.refund(g.id, "image", images.filter((i) => i.status === "failed").length),
  });
  const video = new VideoService({
    db,
    videos: repos.videos,
    references,
    files,
    provider: videoProvider,
    model: config.imageProvider === "mock" ? MOCK_VIDEO_MODEL : config.videoModel,
    limiter,
    clock,
    logger,
    pollMs: config.predictionPollMs,
    timeoutMs: config.videoTimeoutMs,
    onFailed: (v) => quota.refund(v.id, "video", 1),
  });
  return {
    config,
    logger,
    clock,
    db,
    repos,
    files,
    imageProvider,
    videoProvider,
    limiter,
    generation,
    references,
    moderation,
    video,
    quota,
    admission,
    guildSettings,
    close() {
      generation.stop();
      video.stop();
      if (db.open) db.close();
      files.close();
    },
  };
}

/**
 * The image and video providers. The mock setting covers video too: a sandbox never spends money on either.
 * With Replicate, both share its token, API address and allowed output origins.
 */
function createProviders(
  config: Config,
  logger: Logger,
  clock: Clock,
): { image: ImageProvider; video: VideoProvider } {
  if (config.imageProvider === "mock") {
    const mock = { latencyMs: config.mock.latencyMs, failureRate: config.mock.failureRate, clock };
    return { image: new MockImageProvider(mock), video: new MockVideoProvider(mock) };
  }
  const { token, apiUrl, outputOrigins } = config.replicate;
  return {
    image: new ReplicateImageProvider({
      token,
      apiUrl,
      outputOrigins,
      model: config.imageModel,
      fallbackModel: config.imageFallbackModel,
      logger: logger.child({ provider: "replicate" }),
    }),
    video: new ReplicateVideoProvider({
      token,
      apiUrl,
      outputOrigins,
      model: config.videoModel,
      logger: logger.child({ provider: "replicate-video" }),
    }),
  };
}
