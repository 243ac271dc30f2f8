// The providers the context runs predictions on: Replicate's (image, reference and video models) or the offline
// mock, with the status-check budget they share and where Replicate posts completions.
import type { Config } from "../config/load.ts";
import type { Clock } from "../kit/clock.ts";
import type { Logger } from "../kit/logger.ts";
import { localBudget, type RequestBudget, redisBudget } from "../kit/request-budget.ts";
import { MockImageProvider } from "../providers/mock/image-provider.ts";
import { MockVideoProvider } from "../providers/mock/video-provider.ts";
import { ReplicateImageProvider } from "../providers/replicate/image-provider.ts";
import { ReplicateVideoProvider } from "../providers/replicate/video-provider.ts";
import type { ImageProvider, VideoProvider } from "../providers/types.ts";
import type { SharedJobQueue } from "../queue/job-queue.ts";
import { replicateUpscaler } from "./upscaling.ts";

export interface Providers {
  image: ImageProvider;
  reference: ImageProvider;
  upscale: ImageProvider;
  video: VideoProvider;
}

/**
 * The image providers (IMAGE_MODEL, IMAGE_REFERENCE_MODEL for images drawn from a reference, UPSCALE_MODEL for the
 * image panel's Upscale) and the video provider. The mock setting covers them all: a sandbox never spends money.
 * With Replicate, they share its token, API address, allowed output origins and status-check budget.
 */
export function createProviders(core: {
  config: Config;
  logger: Logger;
  clock: Clock;
  jobs: SharedJobQueue | undefined;
}): Providers {
  const { config, logger, clock } = core;
  const budget = statusBudget(config, core.jobs);
  if (config.imageProvider === "mock") {
    const mock = { latencyMs: config.mock.latencyMs, failureRate: config.mock.failureRate, clock };
    const image = new MockImageProvider(mock);
    return { image, reference: image, upscale: image, video: new MockVideoProvider(mock) };
  }
  const { token, apiUrl, outputOrigins } = config.replicate;
  const shared = { token, apiUrl, outputOrigins, webhookUrl: webhookUrl(config), statusBudget: budget };
  return {
    image: new ReplicateImageProvider({
      ...shared,
      model: config.imageModel,
      fallbackModel: config.imageFallbackModel,
      logger: logger.child({ provider: "replicate" }),
    }),
    // Its own model and no fallback: a model that cannot take the reference would draw someone else.
    reference: new ReplicateImageProvider({
      ...shared,
      model: config.imageReferenceModel,
      logger: logger.child({ provider: "replicate-reference" }),
    }),
    upscale: replicateUpscaler(config, shared, logger),
    video: new ReplicateVideoProvider({
      ...shared,
      model: config.videoModel,
      logger: logger.child({ provider: "replicate-video" }),
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
export function webhookUrl(config: Config): string | undefined {
  const { publicUrl } = config.http;
  return publicUrl && config.imageProvider === "replicate" ? `${publicUrl}/webhooks/replicate` : undefined;
}
