// Environment → typed Config. Called once from the entry points; nothing reads process.env at import time.
import { z } from "zod";
import { SECRET_PARAMS } from "../db/database.ts";
import type { StorageSettings } from "../files/open-object-store.ts";
import { REPLICATE_DELIVERY_ORIGINS } from "../providers/download.ts";
import { IMAGE_MODEL_IDS, IMAGE_MODEL_PRICES_USD, REFERENCE_MODEL_IDS } from "../providers/image-models.ts";
import { signingKey } from "../providers/replicate/webhooks.ts";
import { VIDEO_MODEL_IDS, VIDEO_MODEL_PRICES_USD } from "../providers/video-models.ts";

/** Where bot.sqlite, images/ and videos/ live when DATA_DIR is not set. */
export const DEFAULT_DATA_DIR = "./data";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * What a process does: `all` is the whole bot in one process; `gateway` owns Discord gateway shards and
 * acknowledges, admits and enqueues; `worker` has no gateway connection and runs the queued jobs.
 */
export const ROLES = ["all", "gateway", "worker"] as const;
export type Role = (typeof ROLES)[number];

/** An empty string in an .env file means "not set", as a user would expect: the value is `fallback`. */
const orDefault = <T extends z.ZodType>(fallback: unknown, schema: T) =>
  z.preprocess((v) => (v === "" || v === undefined ? fallback : v), schema);

const optionalString = orDefault(undefined, z.string().trim().min(1).optional());
const snowflake = orDefault(
  undefined,
  z
    .string()
    .regex(/^\d{17,20}$/, "must be a Discord id (17–20 digits)")
    .optional(),
);
const url = (fallback: string) =>
  orDefault(
    fallback,
    z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).transform((u) => u.replace(/\/+$/, "")),
  );
const int = (fallback: number, min: number, max: number) =>
  orDefault(
    fallback,
    z.coerce
      .number({ error: "must be a whole number" })
      .int("must be a whole number")
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );
/** A comma-separated list of origins, `https://host[:port]` or `https://*.host` for its subdomains. */
const origins = (fallback: readonly string[]) =>
  orDefault(
    fallback.join(","),
    z.string().transform((text, ctx) => {
      const entries = text
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean);
      const normalised: string[] = [];
      for (const entry of entries) {
        const match = /^(https?:\/\/)(\*\.)?([^/?#*@]+)$/.exec(entry);
        let origin: string | undefined;
        try {
          origin = match ? new URL(`${match[1]}${match[3]}`).origin : undefined;
        } catch {
          origin = undefined;
        }
        if (!match || !origin) {
          ctx.addIssue({
            code: "custom",
            message: `"${entry}" is not an origin like https://replicate.delivery or https://*.replicate.delivery`,
          });
          return z.NEVER;
        }
        normalised.push(match[2] ? origin.replace("://", "://*.") : origin);
      }
      return normalised;
    }),
  );
/** `s3://bucket` or `s3://bucket/prefix`: where images and videos are kept instead of files under DATA_DIR. */
const storageUrl = orDefault(
  undefined,
  z
    .string()
    .trim()
    .transform((text, ctx) => {
      const problem = (why: string) => {
        ctx.addIssue({ code: "custom", message: `must be s3://bucket or s3://bucket/prefix: ${why}` });
        return z.NEVER;
      };
      let parsed: URL;
      try {
        parsed = new URL(text);
      } catch {
        // The value is not repeated: a mistyped one may hold a credential.
        return problem("it is not a URL");
      }
      if (parsed.protocol !== "s3:") return problem(`the scheme is ${parsed.protocol.slice(0, 20)}, not s3:`);
      if (parsed.username || parsed.password || parsed.port || parsed.search || parsed.hash) {
        return problem("no credentials, port, query or fragment (credentials come from AWS_* variables)");
      }
      // As written: URL parsing lower-cases a host, and a bucket named in capitals is another bucket.
      const bucket = /^s3:\/\/([^/]*)/i.exec(text)?.[1] ?? "";
      if (!bucket) return problem("no bucket is named");
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
        return problem("the bucket name must be 3–63 lower-case letters, digits, . and -");
      }
      const prefix = parsed.pathname.replace(/^\/+|\/+$/g, "");
      if (prefix && !/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(prefix)) {
        return problem(
          `the prefix "${prefix.slice(0, 80)}" may hold only letters, digits, . _ - and single slashes`,
        );
      }
      return { bucket, prefix };
    })
    .optional(),
);
const flag = (fallback: boolean) =>
  orDefault(
    String(fallback),
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
      .transform((v) => v === "true" || v === "1" || v === "yes"),
  );
/** SHARD_IDS: the gateway shards this process owns, a comma list of ids (checked against SHARD_COUNT below). */
const shardIds = orDefault(
  undefined,
  z
    .string()
    .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, "must be a comma list of shard ids, like 0,1")
    .transform((text) => [...new Set(text.split(",").map(Number))])
    .optional(),
);
const imageModel = z.enum(IMAGE_MODEL_IDS, { error: `must be one of ${IMAGE_MODEL_IDS.join(", ")}` });

const schema = z.object({
  DISCORD_TOKEN: optionalString,
  DISCORD_APPLICATION_ID: snowflake,
  DISCORD_GUILD_ID: snowflake,
  DISCORD_API_URL: url("https://discord.com/api"),
  SHARD_COUNT: orDefault(
    undefined,
    z.coerce
      .number({ error: "must be a whole number" })
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .optional(),
  ),
  SHARD_IDS: shardIds,
  REPLICATE_API_TOKEN: optionalString,
  REPLICATE_API_URL: url("https://api.replicate.com/v1"),
  REPLICATE_OUTPUT_ORIGINS: origins(REPLICATE_DELIVERY_ORIGINS),
  IMAGE_PROVIDER: orDefault(
    "replicate",
    z.enum(["replicate", "mock"], { error: "must be replicate or mock" }),
  ),
  IMAGE_MODEL: orDefault("google/imagen-4", imageModel),
  IMAGE_FALLBACK_MODEL: z
    .union([z.literal(""), imageModel], {
      error: `must be empty (no fallback) or one of ${IMAGE_MODEL_IDS.join(", ")}`,
    })
    .default("google/nano-banana-2"),
  IMAGE_REFERENCE_MODEL: orDefault(
    "google/nano-banana-2",
    z.enum(REFERENCE_MODEL_IDS, {
      error: `must be a model that draws from a reference image: ${REFERENCE_MODEL_IDS.join(", ")}`,
    }),
  ),
  VIDEO_MODEL: orDefault(
    "minimax/video-01",
    z.enum(VIDEO_MODEL_IDS, { error: `must be one of ${VIDEO_MODEL_IDS.join(", ")}` }),
  ),
  DATA_DIR: orDefault(DEFAULT_DATA_DIR, z.string()),
  DATABASE_URL: orDefault(
    undefined,
    z
      .url({
        protocol: /^postgres(ql)?$/,
        error: "must be a postgres:// URL (leave it unset for SQLite under DATA_DIR)",
        // Not a URL at all: the host check below would throw on it, and say nothing more useful.
        abort: true,
      })
      .refine((u) => new URL(u).hostname !== "", {
        error: "must name a host, as in postgres://user:password@host:5432/db",
      })
      .optional(),
  ),
  STORAGE_URL: storageUrl,
  S3_ENDPOINT: orDefault(
    undefined,
    z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .refine((u) => !new URL(u).username && !new URL(u).password, {
        error: "must not hold credentials (they come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
      })
      .transform((u) => u.replace(/\/+$/, ""))
      .optional(),
  ),
  S3_REGION: optionalString,
  AWS_REGION: optionalString,
  // Read by the AWS SDK itself; listed here only so their values are scrubbed from every log line.
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
  S3_FORCE_PATH_STYLE: flag(false),
  LOG_LEVEL: orDefault("info", z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` })),
  MAX_CONCURRENT_PREDICTIONS: int(8, 1, 256),
  PREDICTION_TIMEOUT_SECONDS: int(300, 5, 3600),
  PREDICTION_POLL_MS: int(1000, 10, 60_000),
  VIDEO_TIMEOUT_SECONDS: int(900, 5, 7200),
  DAILY_IMAGES_PER_USER: int(40, 0, 100_000),
  DAILY_IMAGES_PER_GUILD: int(400, 0, 1_000_000),
  DAILY_VIDEOS_PER_USER: int(5, 0, 100_000),
  DAILY_VIDEOS_PER_GUILD: int(50, 0, 1_000_000),
  USER_DAILY_CAP: int(80, 0, 1_000_000),
  USER_DAILY_VIDEO_CAP: int(10, 0, 100_000),
  MAX_RUNNING_PER_USER: int(1, 1, 100),
  MODEL_PRICES_USD: orDefault(
    "{}",
    z.string().transform((text, ctx) => {
      const prices = z.record(z.string(), z.number().min(0)).safeParse(
        (() => {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            return undefined;
          }
        })(),
      );
      if (prices.success) return prices.data;
      ctx.addIssue({
        code: "custom",
        message: 'must be a JSON object of model → US dollars, e.g. {"google/imagen-4":0.04}',
      });
      return z.NEVER;
    }),
  ),
  REPLY_EDIT_INTERVAL_MS: int(1000, 10, 60_000),
  QUEUE_EDIT_INTERVAL_MS: int(5000, 10, 300_000),
  VIDEO_PROGRESS_INTERVAL_MS: int(5000, 10, 300_000),
  MOCK_LATENCY_MS: int(1500, 0, 600_000),
  MOCK_FAILURE_RATE: orDefault(0, z.coerce.number({ error: "must be a number from 0 to 1" }).min(0).max(1)),
  HTTP_PORT: int(8080, 0, 65_535),
  HTTP_HOST: orDefault("127.0.0.1", z.string().trim().min(1)),
  PUBLIC_URL: orDefault(
    undefined,
    z
      .url({
        protocol: /^https?$/,
        error: "must be an http(s) URL where this bot's HTTP server is reachable",
      })
      .transform((u) => u.replace(/\/+$/, ""))
      .optional(),
  ),
  REPLICATE_WEBHOOK_SECRET: orDefault(
    undefined,
    z
      .string()
      .trim()
      .refine((v) => signingKey(v) !== undefined, {
        error: "must be Replicate's signing secret: whsec_ and the base64 of at least 24 bytes",
      })
      .optional(),
  ),
  LINK_SECRET: orDefault(undefined, z.string().min(32, "must be at least 32 characters").optional()),
  LINK_TTL_SECONDS: int(7 * 24 * 3600, 60, 365 * 24 * 3600),
  ROLE: orDefault("all", z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` })),
  REDIS_URL: orDefault(
    undefined,
    z
      .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL", abort: true })
      .refine((u) => new URL(u).hostname !== "", { error: "must name a host, as in redis://host:6379" })
      .optional(),
  ),
  QUEUE_PREFIX: orDefault(
    "crbot",
    z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, "must be 1–40 letters, digits, _ and -"),
  ),
  JOB_LOCK_SECONDS: int(30, 2, 600),
  REPLICATE_CREATES_PER_MINUTE: int(600, 1, 100_000),
  REPLICATE_STATUS_CHECKS_PER_MINUTE: int(2700, 60, 1_000_000),
  DISCORD_GLOBAL_REQUESTS_PER_SECOND: int(50, 1, 10_000),
});

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
  if (!env.STORAGE_URL?.trim()) {
    for (const name of ["S3_ENDPOINT", "S3_REGION", "S3_FORCE_PATH_STYLE"]) {
      if (env[name]?.trim()) {
        problems.push(
          `${name} is set but STORAGE_URL is not: set STORAGE_URL=s3://bucket/prefix, or unset ${name}`,
        );
      }
    }
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

type Env = z.infer<typeof schema>;

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
  };
  imageModel: (typeof IMAGE_MODEL_IDS)[number];
  imageFallbackModel: (typeof IMAGE_MODEL_IDS)[number] | undefined;
  /** Draws variations and /character reference: images, whatever imageModel is: it takes `image_input`. */
  imageReferenceModel: (typeof IMAGE_MODEL_IDS)[number];
  videoModel: (typeof VIDEO_MODEL_IDS)[number];
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
  /** Approximate US dollars per image or video, by model: the built-in table with MODEL_PRICES_USD over it. */
  prices: Record<string, number>;
  /** How often a reply is edited at most: progress as images land, a waiting request's place, a video's time. */
  replies: { editIntervalMs: number; queueIntervalMs: number; videoProgressIntervalMs: number };
  mock: { latencyMs: number; failureRate: number };
  /**
   * The operations HTTP server: health, metrics, Replicate webhooks and signed file links. `port` 0 turns it
   * off. `publicUrl` is where Discord users and Replicate reach it (webhooks and links need it).
   */
  http: {
    port: number;
    host: string;
    publicUrl: string | undefined;
    webhookSecret: string | undefined;
    /** HMAC key of signed links; unset: a random key kept in the database (links survive restarts). */
    linkSecret: string | undefined;
    linkTtlMs: number;
  };
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
  const parsed = schema.safeParse(env);
  const problems = [
    ...(parsed.error?.issues.map((i) => `${i.path.join(".") || "environment"} ${i.message}`) ?? []),
    ...crossChecks(env),
  ];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return toConfig(parsed.data);
}

function toConfig(e: Env): Config {
  const replicate = { apiUrl: e.REPLICATE_API_URL, outputOrigins: e.REPLICATE_OUTPUT_ORIGINS };
  const common: CommonConfig = {
    discord: {
      token: e.DISCORD_TOKEN,
      applicationId: e.DISCORD_APPLICATION_ID,
      guildId: e.DISCORD_GUILD_ID,
      apiUrl: e.DISCORD_API_URL,
      shards: e.SHARD_COUNT ? { count: e.SHARD_COUNT, ids: e.SHARD_IDS } : undefined,
    },
    imageModel: e.IMAGE_MODEL,
    imageFallbackModel: e.IMAGE_FALLBACK_MODEL || undefined,
    imageReferenceModel: e.IMAGE_REFERENCE_MODEL,
    videoModel: e.VIDEO_MODEL,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    awsSecrets: [e.AWS_ACCESS_KEY_ID, e.AWS_SECRET_ACCESS_KEY, e.AWS_SESSION_TOKEN].filter(
      (v): v is string => !!v,
    ),
    storage: e.STORAGE_URL
      ? {
          kind: "s3",
          ...e.STORAGE_URL,
          endpoint: e.S3_ENDPOINT,
          // Without either the SDK would refuse to start; us-east-1 is AWS's and MinIO's default and R2 takes
          // it as "auto". Garage wants its own s3_region (README).
          region: e.S3_REGION ?? e.AWS_REGION ?? "us-east-1",
          forcePathStyle: e.S3_FORCE_PATH_STYLE,
        }
      : { kind: "local" },
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
    prices: { ...IMAGE_MODEL_PRICES_USD, ...VIDEO_MODEL_PRICES_USD, ...e.MODEL_PRICES_USD },
    replies: {
      editIntervalMs: e.REPLY_EDIT_INTERVAL_MS,
      queueIntervalMs: e.QUEUE_EDIT_INTERVAL_MS,
      videoProgressIntervalMs: e.VIDEO_PROGRESS_INTERVAL_MS,
    },
    mock: { latencyMs: e.MOCK_LATENCY_MS, failureRate: e.MOCK_FAILURE_RATE },
    http: {
      port: e.HTTP_PORT,
      host: e.HTTP_HOST,
      publicUrl: e.PUBLIC_URL,
      webhookSecret: e.REPLICATE_WEBHOOK_SECRET,
      linkSecret: e.LINK_SECRET,
      linkTtlMs: e.LINK_TTL_SECONDS * 1000,
    },
    role: e.ROLE,
    queue: e.REDIS_URL
      ? { redisUrl: e.REDIS_URL, prefix: e.QUEUE_PREFIX, lockMs: e.JOB_LOCK_SECONDS * 1000 }
      : undefined,
    createsPerMinute: e.REPLICATE_CREATES_PER_MINUTE,
    statusChecksPerMinute: e.REPLICATE_STATUS_CHECKS_PER_MINUTE,
    discordGlobalPerSecond: e.DISCORD_GLOBAL_REQUESTS_PER_SECOND,
  };
  if (e.IMAGE_PROVIDER === "mock") {
    return { ...common, imageProvider: "mock", replicate: { ...replicate, token: e.REPLICATE_API_TOKEN } };
  }
  // crossChecks reported a missing token with every other problem; this only tells the type system.
  if (!e.REPLICATE_API_TOKEN) throw new ConfigError(["REPLICATE_API_TOKEN is required"]);
  return { ...common, imageProvider: "replicate", replicate: { ...replicate, token: e.REPLICATE_API_TOKEN } };
}

/** The secret values a config holds, for the logger's redaction. */
export function configSecrets(config: Config): string[] {
  return [
    config.discord.token,
    config.replicate.token,
    ...config.awsSecrets,
    ...urlSecrets(config.databaseUrl),
    config.http.webhookSecret,
    config.http.linkSecret,
    ...urlSecrets(config.queue?.redisUrl),
  ].filter((s): s is string => !!s);
}

/**
 * A database or Redis URL's password (in the URL, or as a `?password=`-like parameter `pg` also reads), raw
 * and as written in the URL (percent-encoded), for the logger to scrub.
 */
function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  const u = new URL(url);
  const params = [...u.searchParams].filter(([name]) => SECRET_PARAMS.test(name)).map(([, v]) => v);
  return [u.password, ...params].flatMap((value) => {
    if (!value) return [];
    try {
      return [value, decodeURIComponent(value)];
    } catch {
      return [value]; // a stray % that is not an escape: the value is used as written
    }
  });
}
