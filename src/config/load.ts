// Environment → typed Config. Called once from the entry points; nothing reads process.env at import time.
import type { StorageSettings } from "../files/open-object-store.ts";
import type { S3Encryption } from "../files/s3-object-store.ts";
import { type IMAGE_MODEL_IDS, IMAGE_MODEL_PRICES_USD } from "../providers/image-models.ts";
import { type UPSCALE_MODEL_IDS, UPSCALE_MODEL_PRICES_USD } from "../providers/upscale-models.ts";
import { type VIDEO_MODEL_IDS, VIDEO_MODEL_PRICES_USD } from "../providers/video-models.ts";
import { type Env, envSchema, type LOG_LEVELS, type Role } from "./schema.ts";

/** Rules across variables; checked on the raw values so they are reported alongside every other problem. */
function crossChecks(env: Record<string, string | undefined>): string[] {
  const problems: string[] = shardProblems(env.SHARD_COUNT?.trim(), env.SHARD_IDS?.trim());
  const provider = env.IMAGE_PROVIDER || "replicate";
  if (provider === "replicate" && !env.REPLICATE_API_TOKEN?.trim()) {
    problems.push(
      "REPLICATE_API_TOKEN is required when IMAGE_PROVIDER=replicate (or set IMAGE_PROVIDER=mock for the free offline provider)",
    );
  }
  if (env.IMAGE_FALLBACK_MODEL && env.IMAGE_FALLBACK_MODEL === (env.IMAGE_MODEL || "google/imagen-4")) {
    problems.push(
      "IMAGE_FALLBACK_MODEL must differ from IMAGE_MODEL (leave it empty to disable the fallback)",
    );
  }
  const role = env.ROLE?.trim() || "all";
  const fleet = role === "gateway" || role === "worker";
  // Their jobs cross processes: the queue lives in Redis, the rows in a database every process reaches.
  if (fleet && !env.REDIS_URL?.trim()) {
    problems.push(
      `ROLE=${role} needs REDIS_URL (the shared job queue): set REDIS_URL=redis://host:6379, or use ROLE=all for one process`,
    );
  }
  if ((fleet || env.REDIS_URL?.trim()) && !env.DATABASE_URL?.trim()) {
    problems.push(
      `${fleet ? `ROLE=${role}` : "REDIS_URL"} needs DATABASE_URL (PostgreSQL that every process shares): SQLite under DATA_DIR belongs to one process, and the queue's jobs name rows every process must find`,
    );
  }
  problems.push(...listenerProblems(env, role));
  if (env.INTERACTIONS_MODE?.trim() === "http" && !env.DISCORD_PUBLIC_KEY?.trim() && role !== "worker") {
    problems.push(
      "INTERACTIONS_MODE=http needs DISCORD_PUBLIC_KEY (the application's public key from the Developer Portal) to verify each interaction's signature",
    );
  }
  if (env.INTERACTIONS_MODE?.trim() === "http" && env.HTTP_PORT?.trim() === "0" && role !== "worker") {
    problems.push(
      "INTERACTIONS_MODE=http receives interactions on the HTTP server, but HTTP_PORT=0 turns it off: set HTTP_PORT",
    );
  }
  problems.push(...encryptionProblems(env));
  if (!env.STORAGE_URL?.trim()) {
    for (const name of ["S3_ENDPOINT", "S3_REGION", "S3_FORCE_PATH_STYLE", "S3_SSE", "S3_SSE_KMS_KEY_ID"]) {
      if (env[name]?.trim()) {
        problems.push(
          `${name} is set but STORAGE_URL is not: set STORAGE_URL=s3://bucket/prefix, or unset ${name}`,
        );
      }
    }
  }
  return problems;
}

/** S3_SSE=aws:kms names its key in S3_SSE_KMS_KEY_ID, and only aws:kms takes one. */
function encryptionProblems(env: Record<string, string | undefined>): string[] {
  const sse = env.S3_SSE?.trim();
  const key = env.S3_SSE_KMS_KEY_ID?.trim();
  if (sse === "aws:kms" && !key) {
    return ["S3_SSE=aws:kms needs S3_SSE_KMS_KEY_ID (the KMS key id, alias or ARN to encrypt with)"];
  }
  if (key && sse !== "aws:kms") {
    return [
      "S3_SSE_KMS_KEY_ID is set but S3_SSE is not aws:kms: set S3_SSE=aws:kms, or unset S3_SSE_KMS_KEY_ID",
    ];
  }
  return [];
}

/**
 * PUBLIC_URL promises Replicate and members a server: a process that serves requests (ROLE=all, gateway) must
 * run it. A worker may name the fleet's PUBLIC_URL (its predictions' webhooks, its links) that another process
 * serves. Two listeners on one port cannot both bind it.
 */
function listenerProblems(env: Record<string, string | undefined>, role: string): string[] {
  const problems: string[] = [];
  const port = env.HTTP_PORT?.trim() || "8080";
  if (env.PUBLIC_URL?.trim() && Number(port) === 0 && role !== "worker") {
    problems.push(
      "PUBLIC_URL is set but HTTP_PORT=0 turns the HTTP server off, so Replicate's webhooks and signed links to PUBLIC_URL would go unanswered: set HTTP_PORT (default 8080) to the port PUBLIC_URL reaches, or unset PUBLIC_URL",
    );
  }
  const ops = env.OPS_PORT?.trim() || "9464";
  if (Number(port) !== 0 && Number(port) === Number(ops)) {
    problems.push(
      `OPS_PORT and HTTP_PORT are both ${port}: the operations listener (/readyz, /metrics) needs a port of its own, or OPS_PORT=0 to turn it off`,
    );
  }
  return problems;
}

/** SHARD_IDS names shards of a whole: it needs SHARD_COUNT, and every id must be below it. */
function shardProblems(count: string | undefined, ids: string | undefined): string[] {
  if (!ids) return [];
  if (!count) {
    return [
      "SHARD_IDS is set but SHARD_COUNT is not: set SHARD_COUNT to the total number of shards across every process (e.g. SHARD_COUNT=2 SHARD_IDS=0), or unset SHARD_IDS",
    ];
  }
  const total = Number(count);
  const over = ids.split(",").filter((id) => Number.isInteger(total) && Number(id) >= total);
  return over.length > 0
    ? [`SHARD_IDS ${over.map((id) => id.trim()).join(",")} must be below SHARD_COUNT (ids 0 to ${total - 1})`]
    : [];
}

interface ReplicateSettings {
  apiUrl: string;
  /** Where prediction outputs may be downloaded from, besides the API's own origin. */
  outputOrigins: string[];
}

/**
 * The whole configuration. Which image provider runs decides what is certain: with `replicate`, the token is
 * there (checked once, when the environment is read).
 */
export type Config = CommonConfig &
  (
    | { imageProvider: "replicate"; replicate: ReplicateSettings & { token: string } }
    | { imageProvider: "mock"; replicate: ReplicateSettings & { token: string | undefined } }
  );

/** A configuration that can log in to Discord: the token is there. */
export type BotConfig = Config & { discord: { token: string } };

interface CommonConfig {
  discord: {
    token: string | undefined;
    applicationId: string | undefined;
    guildId: string | undefined;
    apiUrl: string;
    /** The gateway shards this process owns (SHARD_COUNT, SHARD_IDS; ids unset: all of them); unset: discord.js decides. */
    shards: { count: number; ids: number[] | undefined } | undefined;
    /** How interactions arrive: over the gateway, or as signed POSTs to /interactions (no gateway at all). */
    interactionsMode: "gateway" | "http";
    /** The application's Ed25519 public key, hex; set with interactionsMode http. */
    publicKey: string | undefined;
  };
  imageModel: (typeof IMAGE_MODEL_IDS)[number];
  imageFallbackModel: (typeof IMAGE_MODEL_IDS)[number] | undefined;
  /** Draws variations and /character reference: images, whatever imageModel is: it takes `image_input`. */
  imageReferenceModel: (typeof IMAGE_MODEL_IDS)[number];
  videoModel: (typeof VIDEO_MODEL_IDS)[number];
  /** The image panel's Upscale: the model, its factor and whether it retouches faces. */
  upscale: { model: (typeof UPSCALE_MODEL_IDS)[number]; scale: number; faceEnhance: boolean };
  dataDir: string;
  /** PostgreSQL (DATABASE_URL); unset: SQLite at DATA_DIR/bot.sqlite. */
  databaseUrl: string | undefined;
  /** Where images and videos are kept: files under dataDir, or an S3-compatible bucket (STORAGE_URL). */
  storage: StorageSettings;
  /** The AWS credential values in the environment (the SDK reads them itself), scrubbed from every log line. */
  awsSecrets: string[];
  logLevel: (typeof LOG_LEVELS)[number];
  maxConcurrentPredictions: number;
  predictionTimeoutMs: number;
  predictionPollMs: number;
  videoTimeoutMs: number;
  /** Daily defaults (UTC days); a guild can override them. */
  allowances: {
    imagesPerUser: number;
    imagesPerGuild: number;
    videosPerUser: number;
    videosPerGuild: number;
  };
  /** One member's images and videos per UTC day across every server and DM, on top of the allowances. */
  userDailyCap: { images: number; videos: number };
  maxRunningPerUser: number;
  /** DEFAULT_BLOCKLIST: the prompt blocklist outside servers and where a server has no settings. */
  defaultBlocklist: string[];
  /**
   * What is kept how long: prompts of failed and blocked requests, audit prompts and deletion tombstones for
   * `days`; images for `imageDays` when set; a server's data for `guildGraceDays` after the bot left it.
   */
  retention: { days: number; imageDays: number | undefined; guildGraceDays: number };
  /** Approximate US dollars per image or video, by model: the built-in table with MODEL_PRICES_USD over it. */
  prices: Record<string, number>;
  /** How often a reply is edited at most: progress as images land, a waiting request's place, a video's time. */
  replies: { editIntervalMs: number; queueIntervalMs: number; videoProgressIntervalMs: number };
  /** `maxImageInputs`: how many reference images the mock's reference model takes. */
  mock: { latencyMs: number; failureRate: number; maxImageInputs: number };
  /**
   * The operations HTTP server: health, metrics, Replicate webhooks and signed file links. `port` 0 turns it
   * off. `publicUrl` is where Discord users and Replicate reach it (webhooks and links need it).
   */
  http: {
    port: number;
    host: string;
    /** Connections the public listener holds at once; one more is closed as soon as it opens. */
    maxConnections: number;
    /** The operations listener (/healthz, /readyz, /metrics), private by default; `port` 0 turns it off. */
    ops: { port: number; host: string };
    publicUrl: string | undefined;
    webhookSecret: string | undefined;
    /** HMAC key of signed links; unset: a random key kept in the database (links survive restarts). */
    linkSecret: string | undefined;
    linkTtlMs: number;
  };
  /** The operator's privacy policy (PRIVACY_POLICY_URL), linked from /privacy info. */
  privacyPolicyUrl: string | undefined;
  /** What this process does; see ROLES. */
  role: Role;
  /**
   * The shared job queue (BullMQ on Redis) when REDIS_URL is set: jobs then run in whichever process takes
   * them. Unset: an in-process queue, for ROLE=all only.
   */
  queue:
    | {
        redisUrl: string;
        prefix: string;
        /** How long a worker's hold on a job lasts without renewal: a killed worker's jobs return after it. */
        lockMs: number;
        /** How often the rows are compared with the queue, to put back jobs a Redis lost. */
        reconcileMs: number;
      }
    | undefined;
  /** Replicate's prediction-create rate, fleet-wide with the shared queue. */
  createsPerMinute: number;
  /** Replicate status checks and lists (polling), fleet-wide with REDIS_URL: under its 3,000 a minute. */
  statusChecksPerMinute: number;
  /** Discord's global limit on bot-token requests, fleet-wide with REDIS_URL (interaction tokens are exempt). */
  discordGlobalPerSecond: number;
}

/** One error naming every variable that is missing or invalid, each with a hint. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}\nSee .env.example and the README.`,
    );
    this.name = "ConfigError";
  }
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  const problems = [
    ...(parsed.error?.issues.map((i) => `${i.path.join(".") || "environment"} ${i.message}`) ?? []),
    ...crossChecks(env),
  ];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return toConfig(parsed.data);
}

function toConfig(e: Env): Config {
  const replicate = { apiUrl: e.REPLICATE_API_URL, outputOrigins: e.REPLICATE_OUTPUT_ORIGINS };
  const common = commonConfig(e);
  if (e.IMAGE_PROVIDER === "mock") {
    return { ...common, imageProvider: "mock", replicate: { ...replicate, token: e.REPLICATE_API_TOKEN } };
  }
  // crossChecks reported a missing token with every other problem; this only tells the type system.
  if (!e.REPLICATE_API_TOKEN) throw new ConfigError(["REPLICATE_API_TOKEN is required"]);
  return { ...common, imageProvider: "replicate", replicate: { ...replicate, token: e.REPLICATE_API_TOKEN } };
}

/** Everything but the provider's settings, which decide what the rest of the type can promise. */
/** The model tables' approximate prices, which MODEL_PRICES_USD overrides model by model. */
const BUILT_IN_PRICES_USD: Readonly<Record<string, number>> = {
  ...IMAGE_MODEL_PRICES_USD,
  ...UPSCALE_MODEL_PRICES_USD,
  ...VIDEO_MODEL_PRICES_USD,
};

function commonConfig(e: Env): CommonConfig {
  return {
    discord: discordSettings(e),
    imageModel: e.IMAGE_MODEL,
    imageFallbackModel: e.IMAGE_FALLBACK_MODEL || undefined,
    imageReferenceModel: e.IMAGE_REFERENCE_MODEL,
    videoModel: e.VIDEO_MODEL,
    upscale: { model: e.UPSCALE_MODEL, scale: e.UPSCALE_SCALE, faceEnhance: e.UPSCALE_FACE_ENHANCE },
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    awsSecrets: [e.AWS_ACCESS_KEY_ID, e.AWS_SECRET_ACCESS_KEY, e.AWS_SESSION_TOKEN].filter(
      (v): v is string => !!v,
    ),
    storage: storageSettings(e),
    logLevel: e.LOG_LEVEL,
    maxConcurrentPredictions: e.MAX_CONCURRENT_PREDICTIONS,
    predictionTimeoutMs: e.PREDICTION_TIMEOUT_SECONDS * 1000,
    predictionPollMs: e.PREDICTION_POLL_MS,
    videoTimeoutMs: e.VIDEO_TIMEOUT_SECONDS * 1000,
    allowances: {
      imagesPerUser: e.DAILY_IMAGES_PER_USER,
      imagesPerGuild: e.DAILY_IMAGES_PER_GUILD,
      videosPerUser: e.DAILY_VIDEOS_PER_USER,
      videosPerGuild: e.DAILY_VIDEOS_PER_GUILD,
    },
    userDailyCap: { images: e.USER_DAILY_CAP, videos: e.USER_DAILY_VIDEO_CAP },
    maxRunningPerUser: e.MAX_RUNNING_PER_USER,
    defaultBlocklist: e.DEFAULT_BLOCKLIST,
    retention: {
      days: e.RETENTION_DAYS,
      imageDays: e.IMAGE_RETENTION_DAYS > 0 ? e.IMAGE_RETENTION_DAYS : undefined,
      guildGraceDays: e.GUILD_DATA_GRACE_DAYS,
    },
    prices: { ...BUILT_IN_PRICES_USD, ...e.MODEL_PRICES_USD },
    replies: {
      editIntervalMs: e.REPLY_EDIT_INTERVAL_MS,
      queueIntervalMs: e.QUEUE_EDIT_INTERVAL_MS,
      videoProgressIntervalMs: e.VIDEO_PROGRESS_INTERVAL_MS,
    },
    mock: {
      latencyMs: e.MOCK_LATENCY_MS,
      failureRate: e.MOCK_FAILURE_RATE,
      maxImageInputs: e.MOCK_MAX_IMAGE_INPUTS,
    },
    http: httpSettings(e),
    privacyPolicyUrl: e.PRIVACY_POLICY_URL,
    role: e.ROLE,
    queue: e.REDIS_URL
      ? {
          redisUrl: e.REDIS_URL,
          prefix: e.QUEUE_PREFIX,
          lockMs: e.JOB_LOCK_SECONDS * 1000,
          reconcileMs: e.QUEUE_RECONCILE_SECONDS * 1000,
        }
      : undefined,
    createsPerMinute: e.REPLICATE_CREATES_PER_MINUTE,
    statusChecksPerMinute: e.REPLICATE_STATUS_CHECKS_PER_MINUTE,
    discordGlobalPerSecond: e.DISCORD_GLOBAL_REQUESTS_PER_SECOND,
  };
}

function discordSettings(e: Env): CommonConfig["discord"] {
  return {
    token: e.DISCORD_TOKEN,
    applicationId: e.DISCORD_APPLICATION_ID,
    guildId: e.DISCORD_GUILD_ID,
    apiUrl: e.DISCORD_API_URL,
    shards: e.SHARD_COUNT ? { count: e.SHARD_COUNT, ids: e.SHARD_IDS } : undefined,
    interactionsMode: e.INTERACTIONS_MODE,
    publicKey: e.DISCORD_PUBLIC_KEY,
  };
}

function storageSettings(e: Env): StorageSettings {
  return e.STORAGE_URL
    ? {
        kind: "s3",
        ...e.STORAGE_URL,
        endpoint: e.S3_ENDPOINT,
        // Without either the SDK would refuse to start; us-east-1 is AWS's and MinIO's default and R2 takes
        // it as "auto". Garage wants its own s3_region (README).
        region: e.S3_REGION ?? e.AWS_REGION ?? "us-east-1",
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        sse: encryption(e),
      }
    : { kind: "local" };
}

function encryption(e: Env): S3Encryption | undefined {
  if (e.S3_SSE === "aws:kms" && e.S3_SSE_KMS_KEY_ID)
    return { mode: "aws:kms", kmsKeyId: e.S3_SSE_KMS_KEY_ID };
  return e.S3_SSE === "AES256" ? { mode: "AES256" } : undefined;
}

function httpSettings(e: Env): CommonConfig["http"] {
  return {
    port: e.HTTP_PORT,
    host: e.HTTP_HOST,
    maxConnections: e.HTTP_MAX_CONNECTIONS,
    ops: { port: e.OPS_PORT, host: e.OPS_HOST },
    publicUrl: e.PUBLIC_URL,
    webhookSecret: e.REPLICATE_WEBHOOK_SECRET,
    linkSecret: e.LINK_SECRET,
    linkTtlMs: e.LINK_TTL_SECONDS * 1000,
  };
}
