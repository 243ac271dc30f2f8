// The environment's shape: every variable the bot reads, its default, and the small parsers that check it.
import { z } from "zod";
import { REPLICATE_DELIVERY_ORIGINS } from "../providers/download.ts";
import { IMAGE_MODEL_IDS, REFERENCE_MODEL_IDS } from "../providers/image-models.ts";
import { signingKey } from "../providers/replicate/webhooks.ts";
import { UPSCALE_MODEL_IDS } from "../providers/upscale-models.ts";
import { VIDEO_MODEL_IDS } from "../providers/video-models.ts";
import { defaultBlocklistSchema } from "./default-blocklist.ts";

/** Where bot.sqlite, images/ and videos/ live when DATA_DIR is not set. */
export const DEFAULT_DATA_DIR = "./data";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

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

export const envSchema = z.object({
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
  /** `gateway` (the default) or `http`: interactions as signed POSTs to /interactions, no gateway connection. */
  INTERACTIONS_MODE: orDefault("gateway", z.enum(["gateway", "http"], { error: "must be gateway or http" })),
  /** The application's Ed25519 public key (the Developer Portal's "Public Key", 64 hex digits). */
  DISCORD_PUBLIC_KEY: orDefault(
    undefined,
    z
      .string()
      .trim()
      .regex(/^[0-9a-fA-F]{64}$/, "must be the application's public key: 64 hex digits")
      .optional(),
  ),
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
  UPSCALE_MODEL: orDefault(
    "nightmareai/real-esrgan",
    z.enum(UPSCALE_MODEL_IDS, { error: `must be one of ${UPSCALE_MODEL_IDS.join(", ")}` }),
  ),
  UPSCALE_SCALE: int(2, 1, 4),
  UPSCALE_FACE_ENHANCE: flag(false),
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
  // Encryption at rest asked of S3 on every write; S3_SSE_KMS_KEY_ID only with aws:kms (load.ts cross-checks).
  S3_SSE: orDefault(
    undefined,
    z.enum(["AES256", "aws:kms"], { error: "must be AES256 or aws:kms" }).optional(),
  ),
  S3_SSE_KMS_KEY_ID: orDefault(
    undefined,
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9:/_-]{1,2048}$/, "must be a KMS key id, alias or ARN")
      .optional(),
  ),
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
  DEFAULT_BLOCKLIST: defaultBlocklistSchema,
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
        message:
          'must be a JSON object of model → US dollars (an image, or a second of video), e.g. {"google/imagen-4":0.04}',
      });
      return z.NEVER;
    }),
  ),
  REPLY_EDIT_INTERVAL_MS: int(1000, 10, 60_000),
  QUEUE_EDIT_INTERVAL_MS: int(5000, 10, 300_000),
  VIDEO_PROGRESS_INTERVAL_MS: int(5000, 10, 300_000),
  MOCK_LATENCY_MS: int(1500, 0, 600_000),
  MOCK_FAILURE_RATE: orDefault(0, z.coerce.number({ error: "must be a number from 0 to 1" }).min(0).max(1)),
  /** How many reference images the mock's reference model takes (nano-banana-2's 14 by default). */
  MOCK_MAX_IMAGE_INPUTS: int(14, 1, 14),
  HTTP_PORT: int(8080, 0, 65_535),
  HTTP_HOST: orDefault("127.0.0.1", z.string().trim().min(1)),
  HTTP_MAX_CONNECTIONS: int(512, 1, 100_000),
  OPS_PORT: int(9464, 0, 65_535),
  OPS_HOST: orDefault("127.0.0.1", z.string().trim().min(1)),
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
  /** The operator's privacy policy, linked from /privacy info. */
  PRIVACY_POLICY_URL: orDefault(
    undefined,
    z.url({ protocol: /^https?$/, error: "must be an http(s) URL of your privacy policy" }).optional(),
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
  JOB_LOCK_SECONDS: int(8, 2, 600),
  QUEUE_RECONCILE_SECONDS: int(30, 2, 3600),
  REPLICATE_CREATES_PER_MINUTE: int(600, 1, 100_000),
  REPLICATE_STATUS_CHECKS_PER_MINUTE: int(2700, 60, 1_000_000),
  DISCORD_GLOBAL_REQUESTS_PER_SECOND: int(50, 1, 10_000),
  RETENTION_DAYS: int(30, 1, 3650),
  // 0: images are kept until their owner (or a moderator) deletes them.
  IMAGE_RETENTION_DAYS: int(0, 0, 3650),
  GUILD_DATA_GRACE_DAYS: int(30, 0, 3650),
});

/** The environment once parsed: every variable with its default applied. */
export type Env = z.infer<typeof envSchema>;
