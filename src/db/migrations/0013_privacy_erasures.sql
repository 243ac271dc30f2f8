-- /privacy delete: a member's erasure, journalled so a crash midway is finished by the next start. The row
-- names the member (user_id) only while the erasure is unfinished; once done only the pseudonym (subject: an
-- HMAC of the member's id under the install's own key) and what was removed are kept, so the once-an-hour limit
-- holds without keeping who asked. `work` is JSON: the Replicate uploads to delete and predictions to cancel,
-- written in the erasure's transaction (the rows that named them are scrubbed in it).
CREATE TABLE erasures (
  id TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  user_id TEXT,
  requested_at BIGINT NOT NULL,
  finished_at BIGINT,
  work TEXT NOT NULL,
  counts TEXT NOT NULL
);
CREATE INDEX erasures_subject ON erasures (subject, requested_at);
CREATE INDEX erasures_unfinished ON erasures (requested_at) WHERE finished_at IS NULL;
