import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { configSecrets } from "../../src/config/secrets.ts";
import { redactUrl } from "../../src/db/database.ts";
import { captureLogger } from "../support/env.ts";

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const config = loadConfig({ REPLICATE_API_TOKEN: "r8_x" });
    expect(config.discord.apiUrl).toBe("https://discord.com/api");
    expect(config.replicate.apiUrl).toBe("https://api.replicate.com/v1");
    expect(config.imageProvider).toBe("replicate");
    expect(config.imageModel).toBe("google/imagen-4");
    expect(config.imageFallbackModel).toBe("google/nano-banana-2");
    expect(config.videoModel).toBe("minimax/video-01");
    expect(config.dataDir).toBe("./data");
    expect(config.logLevel).toBe("info");
    expect(config.maxConcurrentPredictions).toBe(8);
  });

  it("treats empty values as unset, and an empty fallback model as disabled", () => {
    const config = loadConfig({ IMAGE_PROVIDER: "mock", DISCORD_GUILD_ID: "", IMAGE_FALLBACK_MODEL: "" });
    expect(config.discord.guildId).toBeUndefined();
    expect(config.imageFallbackModel).toBeUndefined();
  });

  it("lists every invalid or missing variable in one error, each with a hint", () => {
    let error: unknown;
    try {
      loadConfig({
        MAX_CONCURRENT_PREDICTIONS: "zero",
        IMAGE_MODEL: "stability/sdxl",
        DISCORD_API_URL: "not a url",
        DISCORD_GUILD_ID: "abc",
        LOG_LEVEL: "loud",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    for (const name of [
      "MAX_CONCURRENT_PREDICTIONS",
      "IMAGE_MODEL",
      "DISCORD_API_URL",
      "DISCORD_GUILD_ID",
      "LOG_LEVEL",
      "REPLICATE_API_TOKEN is required when IMAGE_PROVIDER=replicate",
    ]) {
      expect(problems).toContain(name);
    }
    expect((error as Error).message).toContain(".env.example");
  });

  it("does not require a Replicate token for the mock provider", () => {
    expect(loadConfig({ IMAGE_PROVIDER: "mock" }).replicate.token).toBeUndefined();
  });

  it("strips a trailing slash from API URLs", () => {
    const config = loadConfig({ IMAGE_PROVIDER: "mock", DISCORD_API_URL: "http://127.0.0.1:9/api/" });
    expect(config.discord.apiUrl).toBe("http://127.0.0.1:9/api");
  });

  it("takes the gateway shards this process owns from SHARD_COUNT and SHARD_IDS; unset, discord.js decides", () => {
    const shards = (env: Record<string, string>) =>
      loadConfig({ IMAGE_PROVIDER: "mock", ...env }).discord.shards;
    expect(shards({})).toBeUndefined();
    expect(shards({ SHARD_COUNT: "", SHARD_IDS: "" })).toBeUndefined();
    expect(shards({ SHARD_COUNT: "4" })).toEqual({ count: 4, ids: undefined });
    expect(shards({ SHARD_COUNT: "2", SHARD_IDS: "1" })).toEqual({ count: 2, ids: [1] });
    expect(shards({ SHARD_COUNT: "4", SHARD_IDS: " 3, 0,3" })).toEqual({ count: 4, ids: [3, 0] });
  });

  it("refuses SHARD_IDS without SHARD_COUNT, ids at or above it, and counts or lists that are not numbers", () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ IMAGE_PROVIDER: "mock", ...env });
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      return [];
    };
    expect(problems({ SHARD_IDS: "0" })).toEqual([
      expect.stringMatching(/^SHARD_IDS is set but SHARD_COUNT is not: set SHARD_COUNT to the total number/),
    ]);
    expect(problems({ SHARD_COUNT: "2", SHARD_IDS: "0,2,5" })).toEqual([
      "SHARD_IDS 2,5 must be below SHARD_COUNT (ids 0 to 1)",
    ]);
    expect(problems({ SHARD_COUNT: "0" })).toEqual(["SHARD_COUNT must be at least 1"]);
    expect(problems({ SHARD_COUNT: "two" })).toEqual(["SHARD_COUNT must be a whole number"]);
    expect(problems({ SHARD_COUNT: "1.5" })).toEqual(["SHARD_COUNT must be a whole number"]);
    for (const list of ["0;1", "-1", "a", "0,,1"]) {
      expect(problems({ SHARD_COUNT: "2", SHARD_IDS: list }), list).toEqual([
        "SHARD_IDS must be a comma list of shard ids, like 0,1",
      ]);
    }
  });

  it("takes model prices as JSON over the built-in approximate table, and names a bad table", () => {
    const config = loadConfig({
      IMAGE_PROVIDER: "mock",
      MODEL_PRICES_USD: '{"google/imagen-4":0.05,"my/model":1}',
    });
    expect(config.prices["google/imagen-4"]).toBe(0.05);
    expect(config.prices["my/model"]).toBe(1);
    // A video model's price is per second: video-01's $0.50 for its one 6-second length.
    expect(config.prices["minimax/video-01"]).toBeCloseTo(0.5 / 6);
    expect(config.prices["google/veo-3.1"]).toBe(0.4);
    for (const bad of ["not json", '{"a":-1}', "[1,2]"]) {
      expect(() => loadConfig({ IMAGE_PROVIDER: "mock", MODEL_PRICES_USD: bad }), bad).toThrow(
        /MODEL_PRICES_USD must be a JSON object/,
      );
    }
  });

  it("takes DATABASE_URL as a postgres:// URL naming a host, and leaves it unset for SQLite under DATA_DIR", () => {
    expect(loadConfig({ IMAGE_PROVIDER: "mock" }).databaseUrl).toBeUndefined();
    expect(loadConfig({ IMAGE_PROVIDER: "mock", DATABASE_URL: "" }).databaseUrl).toBeUndefined();
    for (const url of ["postgres://bot:pw@db.internal:5432/crbot", "postgresql://bot@127.0.0.1/crbot"]) {
      expect(loadConfig({ IMAGE_PROVIDER: "mock", DATABASE_URL: url }).databaseUrl).toBe(url);
    }
    const problems = (url: string) => {
      try {
        loadConfig({ IMAGE_PROVIDER: "mock", DATABASE_URL: url });
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      return [];
    };
    for (const url of ["mysql://bot@db/crbot", "sqlite:./bot.sqlite", "not a url"]) {
      // One problem each: a value that is not a postgres:// URL is not also told it names no host.
      expect(problems(url), url).toEqual([
        "DATABASE_URL must be a postgres:// URL (leave it unset for SQLite under DATA_DIR)",
      ]);
    }
    expect(problems("postgres:///crbot")).toEqual([expect.stringMatching(/^DATABASE_URL must name a host/)]);
  });

  it("scrubs the DATABASE_URL password from logs, as written and percent-decoded", () => {
    const config = loadConfig({
      IMAGE_PROVIDER: "mock",
      DATABASE_URL: "postgres://bot:s3cr%40t-pass@db.internal/crbot",
    });
    expect(configSecrets(config)).toEqual(expect.arrayContaining(["s3cr%40t-pass", "s3cr@t-pass"]));
    const { logger, lines } = captureLogger(configSecrets(config));
    logger.error({ err: new Error('password authentication failed for "s3cr@t-pass"') }, "db failed");
    logger.info({ url: "postgres://bot:s3cr%40t-pass@db.internal/crbot" }, "db url");
    expect(lines.join("")).toContain("password authentication failed");
    expect(lines.join("")).not.toContain("s3cr@t-pass");
    expect(lines.join("")).not.toContain("s3cr%40t-pass");
  });

  it("takes a REPLICATE_WEBHOOK_SECRET only when it decodes to a key of at least 24 bytes", () => {
    const good = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    expect(loadConfig({ IMAGE_PROVIDER: "mock", REPLICATE_WEBHOOK_SECRET: good }).http.webhookSecret).toBe(
      good,
    );
    for (const bad of ["whsec_a", "whsec_=", `whsec_${Buffer.alloc(8).toString("base64")}`, "not-a-secret"]) {
      expect(() => loadConfig({ IMAGE_PROVIDER: "mock", REPLICATE_WEBHOOK_SECRET: bad }), bad).toThrow(
        /REPLICATE_WEBHOOK_SECRET must be Replicate's signing secret/,
      );
    }
  });

  it("scrubs a password given as a query parameter, and shows such URLs with it hidden", () => {
    const url = "postgres://bot@db.internal/crbot?password=hunter2secret&sslmode=require";
    const config = loadConfig({ IMAGE_PROVIDER: "mock", DATABASE_URL: url });
    expect(configSecrets(config)).toContain("hunter2secret");
    expect(redactUrl(url)).toBe("postgres://bot@db.internal/crbot?password=***&sslmode=require");
    expect(redactUrl("postgres://bot:pw@db/crbot")).toBe("postgres://bot:***@db/crbot");
    // A stray % that is no escape is a password like any other, not a crash at start.
    const odd = loadConfig({ IMAGE_PROVIDER: "mock", DATABASE_URL: "postgres://bot:abc%zzdef@db/crbot" });
    expect(configSecrets(odd)).toContain("abc%zzdef");
  });

  it("never repeats a STORAGE_URL that may hold a credential, and scrubs AWS credential values from logs", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    for (const url of [
      `s3://AKIAEXAMPLE:${secret}@bucket`,
      `s3://AKIAEXAMPLE:${secret}`,
      `s3:/x ${secret}`,
    ]) {
      const error = (() => {
        try {
          loadConfig({ IMAGE_PROVIDER: "mock", STORAGE_URL: url });
        } catch (err) {
          return err as ConfigError;
        }
      })();
      expect(error, url).toBeInstanceOf(ConfigError);
      expect(error?.message, url).toContain("STORAGE_URL");
      expect(error?.message, url).not.toContain(secret.slice(0, 8));
    }
    const config = loadConfig({
      IMAGE_PROVIDER: "mock",
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: secret,
    });
    const { logger, lines } = captureLogger(configSecrets(config));
    logger.error({ err: new Error(`SignatureDoesNotMatch for AKIAEXAMPLE with ${secret}`) }, "s3 failed");
    expect(lines.join("")).toContain("SignatureDoesNotMatch");
    expect(lines.join("")).not.toContain(secret);
    expect(lines.join("")).not.toContain("AKIAEXAMPLE");
  });

  it("takes the fleet settings: ROLE, REDIS_URL with its password scrubbed, and the fleet-wide limits", () => {
    const base = { IMAGE_PROVIDER: "mock" };
    const single = loadConfig(base);
    expect(single.role).toBe("all");
    expect(single.queue).toBeUndefined();
    expect(single.createsPerMinute).toBe(600);
    expect(single.discordGlobalPerSecond).toBe(50);
    const worker = loadConfig({
      ...base,
      ROLE: "worker",
      REDIS_URL: "redis://:s3cret-pass@redis.internal:6379",
      DATABASE_URL: "postgres://bot@db:5432/crbot",
      JOB_LOCK_SECONDS: "10",
      QUEUE_PREFIX: "crbot-staging",
    });
    expect(worker.role).toBe("worker");
    expect(worker.queue).toEqual({
      redisUrl: "redis://:s3cret-pass@redis.internal:6379",
      prefix: "crbot-staging",
      lockMs: 10_000,
      reconcileMs: 30_000,
    });
    expect(configSecrets(worker)).toContain("s3cret-pass");
    expect(() => loadConfig({ ...base, ROLE: "shard" })).toThrow(/ROLE must be one of all, gateway, worker/);
    expect(() => loadConfig({ ...base, REDIS_URL: "http://redis:6379" })).toThrow(
      /REDIS_URL must be a redis:\/\//,
    );
    expect(() => loadConfig({ ...base, QUEUE_PREFIX: "a:b" })).toThrow(/QUEUE_PREFIX must be 1–40 letters/);
    expect(() => loadConfig({ ...base, ROLE: "gateway", REDIS_URL: "redis://r:6379" })).toThrow(
      /ROLE=gateway needs DATABASE_URL/,
    );
    // A whole bot on the shared queue too: other hosts' workers must find its rows.
    expect(() => loadConfig({ ...base, REDIS_URL: "redis://r:6379" })).toThrow(
      /REDIS_URL needs DATABASE_URL/,
    );
  });

  it("takes S3_SSE (AES256, or aws:kms with its key) for S3 storage only, and refuses a key without aws:kms", () => {
    const s3 = { IMAGE_PROVIDER: "mock", STORAGE_URL: "s3://bucket/prefix" };
    const sse = (env: Record<string, string>) => {
      const storage = loadConfig({ ...s3, ...env }).storage;
      return storage.kind === "s3" ? storage.sse : "local";
    };
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(sse({})).toBeUndefined();
    expect(sse({ S3_SSE: "" })).toBeUndefined();
    expect(sse({ S3_SSE: "AES256" })).toEqual({ mode: "AES256" });
    expect(sse({ S3_SSE: "aws:kms", S3_SSE_KMS_KEY_ID: "alias/crbot" })).toEqual({
      mode: "aws:kms",
      kmsKeyId: "alias/crbot",
    });
    expect(problems({ ...s3, S3_SSE: "aws:kms" })).toEqual([
      "S3_SSE=aws:kms needs S3_SSE_KMS_KEY_ID (the KMS key id, alias or ARN to encrypt with)",
    ]);
    expect(problems({ ...s3, S3_SSE: "AES256", S3_SSE_KMS_KEY_ID: "alias/crbot" })).toEqual([
      "S3_SSE_KMS_KEY_ID is set but S3_SSE is not aws:kms: set S3_SSE=aws:kms, or unset S3_SSE_KMS_KEY_ID",
    ]);
    expect(problems({ ...s3, S3_SSE: "aes256" })).toEqual(["S3_SSE must be AES256 or aws:kms"]);
    expect(problems({ ...s3, S3_SSE: "aws:kms", S3_SSE_KMS_KEY_ID: "key id with spaces" })).toEqual([
      "S3_SSE_KMS_KEY_ID must be a KMS key id, alias or ARN",
    ]);
    expect(problems({ IMAGE_PROVIDER: "mock", S3_SSE: "AES256" })).toEqual([
      "S3_SSE is set but STORAGE_URL is not: set STORAGE_URL=s3://bucket/prefix, or unset S3_SSE",
    ]);
  });

  it("takes PRIVACY_POLICY_URL as an http(s) URL", () => {
    expect(loadConfig({ IMAGE_PROVIDER: "mock" }).privacyPolicyUrl).toBeUndefined();
    expect(
      loadConfig({ IMAGE_PROVIDER: "mock", PRIVACY_POLICY_URL: "https://example.org/privacy" })
        .privacyPolicyUrl,
    ).toBe("https://example.org/privacy");
    expect(() => loadConfig({ IMAGE_PROVIDER: "mock", PRIVACY_POLICY_URL: "javascript:alert(1)" })).toThrow(
      /PRIVACY_POLICY_URL must be an http\(s\) URL of your privacy policy/,
    );
  });
});
