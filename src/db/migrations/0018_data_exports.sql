-- Members' data exports (/privacy export): one row per export, so the once-per-window limit holds across
-- restarts and processes, and a ZIP stored for a download link (exports/<uuid>.zip, `<uuid>.zip` here) is
-- removed once its link has expired. A row without a file is an export sent as an attachment.
CREATE TABLE data_exports (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  file_name TEXT,
  bytes BIGINT,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX data_exports_user ON data_exports (user_id, created_at);
CREATE INDEX data_exports_expiry ON data_exports (expires_at);
