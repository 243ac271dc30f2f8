/** The bucket the "engines" and "fleet" tiers's s3rver holds; each data directory writes under its own prefix. */
export const ENGINE_BUCKET = "crbot-engine";
