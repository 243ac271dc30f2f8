-- Generations, their image slots and users' picks. Times are epoch milliseconds (UTC).
CREATE TABLE generations (
  id TEXT PRIMARY KEY,
  guild_id TEXT,
  channel_id TEXT,
  user_id TEXT NOT NULL,
  interaction_id TEXT,
  interaction_token TEXT,
  application_id TEXT,
  message_id TEXT,
  prompt TEXT NOT NULL,
  params TEXT NOT NULL DEFAULT '{}',
  model TEXT NOT NULL,
  requested INTEGER NOT NULL CHECK (requested BETWEEN 1 AND 4),
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
  created_at BIGINT NOT NULL,
  finished_at BIGINT
);
CREATE INDEX generations_user ON generations (user_id, created_at DESC);
CREATE INDEX generations_unfinished ON generations (status) WHERE status = 'running';

CREATE TABLE images (
  id TEXT PRIMARY KEY,
  generation_id TEXT NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
  slot INTEGER NOT NULL CHECK (slot BETWEEN 1 AND 4),
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
  model TEXT,
  prediction_id TEXT,
  file_name TEXT,
  mime TEXT,
  bytes BIGINT,
  width INTEGER,
  height INTEGER,
  sha256 TEXT,
  error_code TEXT,
  error_message TEXT,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  deleted_at BIGINT,
  UNIQUE (generation_id, slot)
);

CREATE TABLE selections (
  id {{serial}},
  guild_id TEXT,
  user_id TEXT NOT NULL,
  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  generation_id TEXT NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
  selected_at BIGINT NOT NULL
);
CREATE INDEX selections_current ON selections (user_id, guild_id, id DESC);
CREATE INDEX selections_generation ON selections (generation_id, id DESC);
