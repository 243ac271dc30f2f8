// The image panel's upscaler as the composition root wires it: UPSCALE_MODEL on Replicate, or the mock's own.
import type { Config } from "../config/load.ts";
import type { GenerationServiceDeps } from "../features/generation/generation-service.ts";
import type { Logger } from "../kit/logger.ts";
import { MOCK_UPSCALE_MODEL } from "../providers/mock/image-provider.ts";
import {
  type ReplicateUpscaleOptions,
  ReplicateUpscaleProvider,
} from "../providers/replicate/upscale-provider.ts";
import type { ImageProvider } from "../providers/types.ts";

/** UPSCALE_MODEL on Replicate, with the options the bot's other Replicate providers share. */
export function replicateUpscaler(
  config: Config,
  shared: Omit<ReplicateUpscaleOptions, "model" | "logger">,
  logger: Logger,
): ImageProvider {
  return new ReplicateUpscaleProvider({
    ...shared,
    model: config.upscale.model,
    logger: logger.child({ provider: "replicate-upscale" }),
  });
}

/** What the generation service upscales with: the provider, the model it records, the factor and retouching. */
export function upscaling(config: Config, provider: ImageProvider): GenerationServiceDeps["upscale"] {
  return {
    provider,
    model: () => (provider instanceof ReplicateUpscaleProvider ? provider.model : MOCK_UPSCALE_MODEL),
    scale: config.upscale.scale,
    faceEnhance: config.upscale.faceEnhance,
  };
}
