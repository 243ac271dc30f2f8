/** The bucket the "postgres" project's s3rver holds; each data directory writes under its own prefix. */
export const ENGINE_BUCKET = "crbot-engine";
