-- Videos made from a reference image, and when each job's result was delivered to Discord (resume needs both).
CREATE TABLE videos (
  id TEXT PRIMARY KEY,
  reference_image_id TEXT NOT NULL REFERENCES images (id),
  generation_id TEXT NOT NULL REFERENCES generations (id),
  guild_id TEXT,
  channel_id TEXT,
  user_id TEXT NOT NULL,
  prompt TEXT NOT NULL,
  model TEXT NOT NULL,
  params TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
  prediction_id TEXT,
  file_name TEXT,
  mime TEXT,
  bytes BIGINT,
  sha256 TEXT,
  output_url TEXT,
  error_code TEXT,
  error_message TEXT,
  interaction_id TEXT,
  interaction_token TEXT,
  application_id TEXT,
  message_id TEXT,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  delivered_at BIGINT
);
CREATE INDEX videos_reference ON videos (reference_image_id, created_at DESC);
CREATE INDEX videos_undelivered ON videos (created_at) WHERE delivered_at IS NULL;

ALTER TABLE generations ADD COLUMN delivered_at BIGINT;
-- Everything made before this column existed was delivered by the bot that made it.
UPDATE generations SET delivered_at = coalesce(finished_at, created_at) WHERE status <> 'running';
CREATE INDEX generations_undelivered ON generations (created_at) WHERE delivered_at IS NULL;
