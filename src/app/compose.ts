// Composition root: builds the AppContext every handler and test receives. No module-level singletons.

import sharp from "sharp";
import type { Config } from "../config/config.ts";
import { type DataStore, openDataStore } from "../db/data-store.ts";
import { databaseSettings } from "../db/database.ts";
import type { AppContext } from "../features/context.ts";
import { GenerationService } from "../features/generation/generation-service.ts";
import { LibraryService } from "../features/library/library-service.ts";
import { AdmissionService } from "../features/limits/admission.ts";
import { QuotaService } from "../features/limits/quota.ts";
import { ModerationService } from "../features/moderation/moderation-service.ts";
import { ReferenceService } from "../features/references/reference-service.ts";
import { GuildSettingsService } from "../features/settings/guild-settings.ts";
import { VideoService } from "../features/video/video-service.ts";
import { FileStore } from "../files/file-store.ts";
import { openObjectStore } from "../files/open-object-store.ts";
import { LinkSigner } from "../files/signed-links.ts";
import { type Clock, systemClock } from "../kit/clock.ts";
import { Limiter } from "../kit/limiter.ts";
import type { Logger } from "../kit/logger.ts";
import { localBudget, type RequestBudget, redisBudget } from "../kit/request-budget.ts";
import { Metrics } from "../observability/metrics.ts";
import { PredictionEvents, safetyNetPollMs } from "../predictions/completions.ts";
import { PollTicks } from "../predictions/poll-ticks.ts";
import {
  MOCK_MODEL,
  MOCK_REFERENCE_MODEL,
  MOCK_VIDEO_MODEL,
  MockImageProvider,
  MockVideoProvider,
} from "../providers/mock/mock-providers.ts";
import { ReplicateImageProvider } from "../providers/replicate/image-provider.ts";
import { ReplicateVideoProvider } from "../providers/replicate/video-provider.ts";
import type { ImageProvider, VideoProvider } from "../providers/types.ts";
import type { SharedJobQueue } from "../queue/job-queue.ts";

export interface AppOptions {
  clock?: Clock;
  /**
   * A database already opened and migrated (npm start opens it through dataStoreOrExit, so an unreachable
   * DATABASE_URL is one clear message). The context owns it from here: `close()` closes it.
   */
  data?: DataStore;
  /** The shared job queue, already connected (REDIS_URL); the context owns it from here, as it does `data`. */
  jobs?: SharedJobQueue;
}

export async function createAppContext(
  config: Config,
  logger: Logger,
  options: AppOptions = {},
): Promise<AppContext> {
  // sharp's operation cache only helps repeated work on the same files, which the bot never does; it holds
  // up to 50 MB for nothing.
  sharp.cache(false);
  const clock = options.clock ?? systemClock;
  // SQLite under DATA_DIR, or PostgreSQL with DATABASE_URL; its schema is brought up to date here.
  const data = options.data ?? (await openDataStore(databaseSettings(config)));
  try {
    return assemble(config, logger, clock, data, options.jobs);
  } catch (err) {
    // Nothing else holds the database yet: close it so a failed start leaves no pool open.
    await data.close().catch(() => undefined);
    await options.jobs?.close().catch(() => undefined);
    throw err;
  }
}

function assemble(
  config: Config,
  logger: Logger,
  clock: Clock,
  data: DataStore,
  jobs: SharedJobQueue | undefined,
): AppContext {
  const repos = data.repos;
  const quota = new QuotaService({
    usage: repos.usage,
    settings: repos.guildSettings,
    defaults: config.allowances,
    userCap: config.userDailyCap,
    prices: config.prices,
    clock,
  });
  const admission = new AdmissionService({
    quota,
    maxRunningPerUser: config.maxRunningPerUser,
    clock,
  });
  const guildSettings = new GuildSettingsService({ data, settings: repos.guildSettings, clock });
  // Images and videos: files under DATA_DIR, or S3 with STORAGE_URL. Its start-up recovery (deletions a
  // crash interrupted, orphan and temp files) is awaited by startBot before any job can write.
  const files = new FileStore(openObjectStore(config.storage, config.dataDir));
  const {
    image: imageProvider,
    reference: referenceProvider,
    video: videoProvider,
  } = createProviders(config, logger, clock, statusBudget(config, jobs));
  // Its own registry, served at GET /metrics; the places that know a fact report it here.
  const metrics = new Metrics();
  const limiter = new Limiter(config.maxConcurrentPredictions, {
    queued: (waiting) => metrics.queueDepth(waiting),
    started: (ms) => metrics.queueWaited(ms / 1000),
  });
  // Replicate's webhook deliveries (POST /webhooks/replicate) wake the jobs waiting on those predictions.
  const predictionEvents = new PredictionEvents();
  // Fleet mode: a delivery heard by one process wakes the job in whichever process runs it.
  jobs?.relayCompletions(predictionEvents).catch((err: unknown) => {
    logger.warn({ err }, "could not relay prediction completions; jobs fall back to their safety-net poll");
  });
  const webhooks = webhookUrl(config)
    ? { webhooks: { events: predictionEvents, pollMs: safetyNetPollMs(config.predictionPollMs) } }
    : {};
  // This context's waits share their fast-poll ticks, and no other context's (tests and the sandbox run several).
  const ticks = new PollTicks();
  const links = new LinkSigner({
    publicUrl: config.http.publicUrl,
    secret: config.http.linkSecret,
    ttlMs: config.http.linkTtlMs,
    meta: repos.meta,
  });
  const references = new ReferenceService({ ...repos, files, clock, logger });
  const library = new LibraryService({ data, library: repos.library, settings: repos.guildSettings, clock });
  const moderation = new ModerationService({ data, references, audit: repos.audit, clock });
  const generation = new GenerationService({
    data,
    ...repos,
    files,
    provider: imageProvider,
    safetyLevel: (guildId, settings) => guildSettings.safetyLevel(guildId, settings),
    model: () => (imageProvider instanceof ReplicateImageProvider ? imageProvider.model : MOCK_MODEL),
    // Variations and /character reference: go to IMAGE_REFERENCE_MODEL, whatever IMAGE_MODEL is.
    reference: {
      provider: referenceProvider,
      model: () =>
        referenceProvider instanceof ReplicateImageProvider ? referenceProvider.model : MOCK_REFERENCE_MODEL,
      links,
    },
    limiter,
    clock,
    logger,
    pollMs: config.predictionPollMs,
    ...webhooks,
    ticks,
    metrics,
    timeoutMs: config.predictionTimeoutMs,
    // A failed image costs nothing: its reservation goes back when the generation settles.
    onFinished: (g, images, tx) =>
      quota.refund(g.id, "image", images.filter((i) => i.status === "failed").length, tx),
  });
  const video = new VideoService({
    data,
    videos: repos.videos,
    references,
    files,
    links,
    provider: videoProvider,
    model: config.imageProvider === "mock" ? MOCK_VIDEO_MODEL : config.videoModel,
    limiter,
    clock,
    logger,
    pollMs: config.predictionPollMs,
    ...webhooks,
    ticks,
    metrics,
    timeoutMs: config.videoTimeoutMs,
    onFailed: (v, tx) => quota.refund(v.id, "video", 1, tx),
  });
  return {
    config,
    logger,
    clock,
    data,
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
    library,
    metrics,
    links,
    predictionEvents,
    jobs,
    async close() {
      generation.stop();
      video.stop();
      try {
        await jobs?.close();
      } catch (err) {
        logger.warn({ err }, "could not close the job queue cleanly");
      }
      try {
        await data.close();
      } finally {
        files.close();
      }
    },
  };
}

/**
 * The image providers (IMAGE_MODEL, and IMAGE_REFERENCE_MODEL for images drawn from a reference) and the video
 * provider. The mock setting covers them all: a sandbox never spends money.
 * With Replicate, both share its token, API address and allowed output origins.
 */
function createProviders(
  config: Config,
  logger: Logger,
  clock: Clock,
  statusBudget: RequestBudget,
): { image: ImageProvider; reference: ImageProvider; video: VideoProvider } {
  if (config.imageProvider === "mock") {
    const mock = { latencyMs: config.mock.latencyMs, failureRate: config.mock.failureRate, clock };
    const image = new MockImageProvider(mock);
    return { image, reference: image, video: new MockVideoProvider(mock) };
  }
  const { token, apiUrl, outputOrigins } = config.replicate;
  const webhook = webhookUrl(config);
  return {
    image: new ReplicateImageProvider({
      token,
      apiUrl,
      outputOrigins,
      model: config.imageModel,
      fallbackModel: config.imageFallbackModel,
      logger: logger.child({ provider: "replicate" }),
      webhookUrl: webhook,
      statusBudget,
    }),
    // Its own model and no fallback: a model that cannot take the reference would draw someone else.
    reference: new ReplicateImageProvider({
      token,
      apiUrl,
      outputOrigins,
      model: config.imageReferenceModel,
      logger: logger.child({ provider: "replicate-reference" }),
      webhookUrl: webhook,
      statusBudget,
    }),
    video: new ReplicateVideoProvider({
      token,
      apiUrl,
      outputOrigins,
      model: config.videoModel,
      logger: logger.child({ provider: "replicate-video" }),
      webhookUrl: webhook,
      statusBudget,
    }),
  };
}

/**
 * What every status check and list request to Replicate takes from, shared by the three providers (one
 * account, one token): REPLICATE_STATUS_CHECKS_PER_MINUTE in counting seconds of a sixtieth each, in this
 * process, or fleet-wide in Redis with the shared queue. A rolling minute spans at most 61 counting seconds,
 * so the default 2,700 stays under Replicate's 3,000 non-create requests a minute with room for the rest.
 */
function statusBudget(config: Config, jobs: SharedJobQueue | undefined): RequestBudget {
  const points = Math.max(1, Math.floor(config.statusChecksPerMinute / 60));
  return jobs && config.queue
    ? redisBudget(jobs.redis, `${config.queue.prefix}:replicate-status`, points)
    : localBudget(points);
}

/**
 * Where Replicate posts completions: `${PUBLIC_URL}/webhooks/replicate` when PUBLIC_URL is set and predictions
 * run on Replicate (the mock provider has no webhooks, so it keeps its normal polling).
 */
function webhookUrl(config: Config): string | undefined {
  const { publicUrl } = config.http;
  return publicUrl && config.imageProvider === "replicate" ? `${publicUrl}/webhooks/replicate` : undefined;
}
