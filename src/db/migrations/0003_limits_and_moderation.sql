-- Per-guild settings (allowance overrides, blocklist, safety level, mod-log channel), the usage ledger that
-- allowances are counted from, and the audit log of moderator actions and blocked prompts.
CREATE TABLE guild_settings (
  guild_id TEXT PRIMARY KEY,
  daily_images_per_user INTEGER,
  daily_images_per_guild INTEGER,
  daily_videos_per_user INTEGER,
  daily_videos_per_guild INTEGER,
  blocklist TEXT NOT NULL DEFAULT '[]',
  safety_filter_level TEXT,
  mod_log_channel_id TEXT,
  updated_at BIGINT,
  updated_by TEXT
);

-- One row per reservation (+units) or refund (-units); a day's use is the sum of its rows.
CREATE TABLE usage_ledger (
  id {{serial}},
  day TEXT NOT NULL,
  guild_id TEXT,
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('image', 'video')),
  units INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  model TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX usage_user_day ON usage_ledger (day, user_id, guild_id, kind);
CREATE INDEX usage_guild_day ON usage_ledger (day, guild_id, kind);
CREATE INDEX usage_job ON usage_ledger (job_id);

CREATE TABLE audit_log (
  id {{serial}},
  guild_id TEXT,
  actor_id TEXT NOT NULL,
  action TEXT NOT NULL,
  target_user_id TEXT,
  target_id TEXT,
  details TEXT NOT NULL DEFAULT '{}',
  created_at BIGINT NOT NULL
);
CREATE INDEX audit_guild ON audit_log (guild_id, created_at DESC);
