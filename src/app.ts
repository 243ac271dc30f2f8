// Composition root: builds the AppContext every handler and test receives. No module-level singletons.
import { join } from "node:path";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import { type Clock, systemClock } from "./services/clock.ts";
import { GenerationService } from "./services/generation.ts";
import { Limiter } from "./services/limiter.ts";
import { MOCK_MODEL, MockImageProvider } from "./services/providers/mock.ts";
import { ReplicateImageProvider } from "./services/providers/replicate.ts";
import type { ImageProvider } from "./services/providers/types.ts";
import { type Db, openDatabase } from "./storage/database.ts";
import { FileStore } from "./storage/file-store.ts";
import { GenerationsRepo } from "./storage/generations-repo.ts";
import { ImagesRepo } from "./storage/images-repo.ts";
import { SelectionsRepo } from "./storage/selections-repo.ts";

export interface AppContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Db;
  repos: { generations: GenerationsRepo; images: ImagesRepo; selections: SelectionsRepo };
  files: FileStore;
  imageProvider: ImageProvider;
  limiter: Limiter;
  generation: GenerationService;
  /** Stops waiting on predictions (their rows stay resumable) and closes the database. */
  close(): void;
}

export interface AppOptions {
  clock?: Clock;
}

export function createAppContext(config: Config, logger: Logger, options: AppOptions = {}): AppContext {
  const clock = options.clock ?? systemClock;
  const db = openDatabase(join(config.dataDir, "bot.sqlite"));
  const repos = {
    generations: new GenerationsRepo(db),
    images: new ImagesRepo(db),
    selections: new SelectionsRepo(db),
  };
  const files = new FileStore(config.dataDir);
  const imageProvider = createImageProvider(config, logger, clock);
  const limiter = new Limiter(config.maxConcurrentPredictions);
  const generation = new GenerationService({
    db,
    ...repos,
    files,
    provider: imageProvider,
    model: () => (imageProvider instanceof ReplicateImageProvider ? imageProvider.model : MOCK_MODEL),
    limiter,
    clock,
    logger,
    pollMs: config.predictionPollMs,
    timeoutMs: config.predictionTimeoutMs,
  });
  return {
    config,
    logger,
    clock,
    db,
    repos,
    files,
    imageProvider,
    limiter,
    generation,
    close() {
      generation.stop();
      if (db.open) db.close();
    },
  };
}

function createImageProvider(config: Config, logger: Logger, clock: Clock): ImageProvider {
  if (config.imageProvider === "mock") {
    return new MockImageProvider({
      latencyMs: config.mock.latencyMs,
      failureRate: config.mock.failureRate,
      clock,
    });
  }
  if (!config.replicate.token)
    throw new Error("REPLICATE_API_TOKEN is required when IMAGE_PROVIDER=replicate");
  return new ReplicateImageProvider({
    token: config.replicate.token,
    apiUrl: config.replicate.apiUrl,
    model: config.imageModel,
    fallbackModel: config.imageFallbackModel,
    logger: logger.child({ provider: "replicate" }),
  });
}
