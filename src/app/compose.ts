// Composition root: builds the AppContext every handler and test receives. No module-level singletons.

import sharp from "sharp";
import type { Config } from "../config/load.ts";
import { type DataStore, openDataStore } from "../db/data-store.ts";
import { databaseSettings } from "../db/database.ts";
import type { Repos } from "../db/repos.ts";
import type { AppContext } from "../features/context.ts";
import { GenerationService, type GenerationServiceDeps } from "../features/generation/generation-service.ts";
import { LibraryService } from "../features/library/library-service.ts";
import { AdmissionService } from "../features/limits/admission.ts";
import { Pseudonyms } from "../features/limits/pseudonyms.ts";
import { QuotaService } from "../features/limits/quota.ts";
import { ModerationService } from "../features/moderation/moderation-service.ts";
import { ErasureService } from "../features/privacy/erasure-service.ts";
import { PrivacyExportService } from "../features/privacy/export.ts";
import { LateResults } from "../features/references/late-results.ts";
import { ReferenceService } from "../features/references/reference-service.ts";
import { RetentionService } from "../features/retention/retention-service.ts";
import { GuildSettingsService } from "../features/settings/guild-settings.ts";
import { VideoService } from "../features/video/video-service.ts";
import { FileStore } from "../files/file-store.ts";
import { openObjectStore } from "../files/open-object-store.ts";
import { LinkSigner } from "../files/signed-links.ts";
import { type Clock, systemClock } from "../kit/clock.ts";
import { Cooldown } from "../kit/cooldown.ts";
import { ExpiringCache } from "../kit/expiring-cache.ts";
import { Limiter } from "../kit/limiter.ts";
import type { Logger } from "../kit/logger.ts";
import { Metrics } from "../observability/metrics.ts";
import { PredictionEvents, safetyNetPollMs } from "../predictions/completions.ts";
import { PollTicks } from "../predictions/poll-ticks.ts";
import { imageModel } from "../providers/image-models.ts";
import { MOCK_MODEL, MOCK_REFERENCE_MODEL } from "../providers/mock/image-provider.ts";
import { MOCK_VIDEO_MODEL } from "../providers/mock/video-provider.ts";
import { ReplicateImageProvider } from "../providers/replicate/image-provider.ts";
import { DELIVERY_MEMORY_MS, type DeliveryLog } from "../providers/replicate/webhooks.ts";
import type { SharedJobQueue } from "../queue/job-queue.ts";
import { createProviders, type Providers, webhookUrl } from "./providers.ts";
import { upscaling } from "./upscaling.ts";

/** How long a server's roles read over REST are trusted before they are read again. */
const SERVER_ROLES_TTL_MS = 60_000;
/** The least time between two pages of a list a member turns to. */
const PAGER_COOLDOWN_MS = 1000;

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

/** What every part of the context is built from: the settings, the log, the clock, the database, the queue. */
interface ContextCore {
  config: Config;
  logger: Logger;
  clock: Clock;
  data: DataStore;
  repos: Repos;
  jobs: SharedJobQueue | undefined;
}

/** Each part of the context comes from its own function below; this only puts them together. */
function assemble(
  config: Config,
  logger: Logger,
  clock: Clock,
  data: DataStore,
  jobs: SharedJobQueue | undefined,
): AppContext {
  const core: ContextCore = { config, logger, clock, data, repos: data.repos, jobs };
  // A place counts the jobs a worker took whose prediction is not yet made: they start before any still waiting.
  jobs?.places.countTakenBy({ image: data.repos.images.jobs, video: data.repos.videos.jobs });
  const limits = createLimits(core);
  // Images and videos: files under DATA_DIR, or S3 with STORAGE_URL. Its start-up recovery (deletions a
  // crash interrupted, orphan and temp files) is awaited by startBot before any job can write.
  const files = new FileStore(openObjectStore(config.storage, config.dataDir));
  const providers = createProviders(core);
  const waits = createPredictionWaits(core);
  const links = createLinkSigner(core);
  const curation = createCuration(core, files);
  const services = createPredictionServices(core, {
    ...limits,
    ...waits,
    files,
    links,
    providers,
    references: curation.references,
  });
  const { privacy, retention } = createPrivacy(core, curation, limits, providers);
  return {
    ...core,
    files,
    privacy,
    imageProvider: providers.image,
    videoProvider: providers.video,
    ...waits,
    ...services,
    ...curation,
    ...limits,
    links,
    retention,
    lateResults: new LateResults({ repos: data.repos, clock }),
    privacyExports: new PrivacyExportService({ data, files, links, clock, logger }),
    webhookDeliveries: createDeliveryLog(core),
    acknowledging: { count: 0 },
    // Who may act server-wide is checked against the server's roles; without a gateway cache they are read
    // over REST, and a minute's staleness is what a role change costs.
    serverRoles: new ExpiringCache(clock, SERVER_ROLES_TTL_MS),
    pagerCooldown: new Cooldown(clock, PAGER_COOLDOWN_MS),
    close: () => {
      retention.stop();
      return closeContext(core, files, services);
    },
  };
}

/** Erasures (/privacy delete) and the retention sweep (started with a role, which shows what expired). */
function createPrivacy(
  core: ContextCore,
  curation: Pick<AppContext, "references">,
  limits: Pick<AppContext, "quota" | "pseudonyms">,
  providers: Providers,
): Pick<AppContext, "privacy" | "retention"> {
  const { data, config, clock, logger } = core;
  return {
    privacy: new ErasureService({
      ...core,
      references: curation.references,
      quota: limits.quota,
      pseudonyms: limits.pseudonyms,
      predictions: providers.image,
    }),
    retention: new RetentionService({
      data,
      references: curation.references,
      settings: config.retention,
      clock,
      logger,
    }),
  };
}

/**
 * The daily allowances and caps, admission (which checks them and each member's running requests), and each
 * server's own settings.
 */
function createLimits(
  core: ContextCore,
): Pick<AppContext, "quota" | "admission" | "guildSettings" | "pseudonyms"> {
  const { config, repos, clock, data } = core;
  const pseudonyms = new Pseudonyms(repos.meta);
  const quota = new QuotaService({
    usage: repos.usage,
    settings: repos.guildSettings,
    defaults: config.allowances,
    userCap: config.userDailyCap,
    prices: config.prices,
    clock,
    pseudonyms,
  });
  const admission = new AdmissionService({
    quota,
    maxRunningPerUser: config.maxRunningPerUser,
    defaultBlocklist: config.defaultBlocklist,
    clock,
    pseudonyms,
  });
  const guildSettings = new GuildSettingsService({ data, settings: repos.guildSettings, clock });
  return { quota, admission, guildSettings, pseudonyms };
}

/** How predictions wait: for a place under MAX_CONCURRENT_PREDICTIONS, and for Replicate's completions. */
function createPredictionWaits(
  core: ContextCore,
): Pick<AppContext, "metrics" | "limiter" | "predictionEvents"> {
  const { config, logger, jobs } = core;
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
  return { metrics, limiter, predictionEvents };
}

/**
 * The webhook deliveries already handled: in Redis with the shared queue, so every process of the fleet knows a
 * delivery any of them handled; else in the database, so a restarted process still knows them.
 */
function createDeliveryLog({ jobs, repos, clock }: ContextCore): DeliveryLog {
  if (jobs) return { firstTime: (id) => jobs.firstDelivery(id, DELIVERY_MEMORY_MS) };
  return { firstTime: (id) => repos.webhookDeliveries.firstTime(id, clock.now(), DELIVERY_MEMORY_MS) };
}

function createLinkSigner({ config, repos }: ContextCore): LinkSigner {
  return new LinkSigner({
    publicUrl: config.http.publicUrl,
    secret: config.http.linkSecret,
    ttlMs: config.http.linkTtlMs,
    meta: repos.meta,
  });
}

/** What moderators and members curate: the stored references, the servers' libraries, deletions. */
function createCuration(
  { repos, clock, logger, data }: ContextCore,
  files: FileStore,
): Pick<AppContext, "references" | "library" | "moderation"> {
  const references = new ReferenceService({ ...repos, files, clock, logger });
  const library = new LibraryService({
    data,
    library: repos.library,
    settings: repos.guildSettings,
    pendingDeletions: repos.pendingDeletions,
    files,
    clock,
    logger,
  });
  const moderation = new ModerationService({ data, references, audit: repos.audit, clock });
  return { references, library, moderation };
}

/** What the image and the video service take from the rest of the context. */
type ServiceParts = Pick<
  AppContext,
  "quota" | "guildSettings" | "metrics" | "limiter" | "predictionEvents" | "files" | "links" | "references"
> & { providers: Providers };

/** What both prediction services run with: one limiter, one clock, one way to notice a prediction's end. */
type PredictionRunning = Pick<
  GenerationServiceDeps,
  "data" | "files" | "limiter" | "clock" | "logger" | "metrics" | "pollMs" | "webhooks" | "ticks"
>;

function createPredictionServices(
  core: ContextCore,
  parts: ServiceParts,
): Pick<AppContext, "generation" | "video"> {
  const { config, data, clock, logger } = core;
  const { files, limiter, metrics, predictionEvents } = parts;
  // With webhooks, a completion wakes the wait and polling slows to a safety net.
  const webhooks = webhookUrl(config)
    ? { webhooks: { events: predictionEvents, pollMs: safetyNetPollMs(config.predictionPollMs) } }
    : {};
  const running: PredictionRunning = {
    data,
    files,
    limiter,
    clock,
    logger,
    metrics,
    pollMs: config.predictionPollMs,
    ...webhooks,
    // This context's waits share their fast-poll ticks, and no other context's (tests and the sandbox run several).
    ticks: new PollTicks(),
  };
  return {
    generation: createGenerationService(core, running, parts),
    video: createVideoService(core, running, parts),
  };
}

function createGenerationService(
  { config, repos }: ContextCore,
  running: PredictionRunning,
  { providers, guildSettings, quota, links }: ServiceParts,
): GenerationService {
  const { image, reference, upscale } = providers;
  return new GenerationService({
    ...running,
    ...repos,
    provider: image,
    safetyLevel: (guildId, settings) => guildSettings.safetyLevel(guildId, settings),
    model: () => (image instanceof ReplicateImageProvider ? image.model : MOCK_MODEL),
    // Variations and /character reference: go to IMAGE_REFERENCE_MODEL, whatever IMAGE_MODEL is.
    reference: {
      provider: reference,
      model: () => (reference instanceof ReplicateImageProvider ? reference.model : MOCK_REFERENCE_MODEL),
      maxInputs: () =>
        reference instanceof ReplicateImageProvider
          ? imageModel(reference.model).maxImageInputs
          : config.mock.maxImageInputs,
      links,
    },
    // The image panel's Upscale goes to UPSCALE_MODEL, with the factor and face retouching configured.
    upscale: upscaling(config, upscale),
    timeoutMs: config.predictionTimeoutMs,
    // A failed image costs nothing: its reservation goes back when the generation settles.
    onFinished: (g, images, tx) =>
      quota.refund(g.id, "image", images.filter((i) => i.status === "failed").length, tx),
  });
}

function createVideoService(
  { config, repos }: ContextCore,
  running: PredictionRunning,
  { providers, references, quota, links }: ServiceParts,
): VideoService {
  return new VideoService({
    ...running,
    videos: repos.videos,
    references,
    links,
    provider: providers.video,
    defaultModel: config.videoModel,
    runsAs: config.imageProvider === "mock" ? MOCK_VIDEO_MODEL : undefined,
    timeoutMs: config.videoTimeoutMs,
    onFailed: (v, tx) => quota.refund(v.id, "video", 1, tx),
  });
}

/** The context's close: no new prediction waits, then the queue, then the database and the object store. */
async function closeContext(
  { jobs, data, logger }: ContextCore,
  files: FileStore,
  { generation, video }: Pick<AppContext, "generation" | "video">,
): Promise<void> {
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
}
