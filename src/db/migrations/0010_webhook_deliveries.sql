-- Replicate webhook deliveries already handled, by their webhook-id, so a repeat is recognised after a restart
-- (single process, no Redis; with REDIS_URL the fleet keeps them in Redis instead). Rows older than the
-- receiver's memory (an hour: src/providers/replicate/webhooks.ts) are removed as new deliveries arrive;
-- npm run storage:copy leaves them behind, as they matter for an hour only.
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  seen_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_seen_at ON webhook_deliveries (seen_at);
