-- Deletions that survive a crash. A reference is marked deleted in the same transaction that schedules its
-- files here; the files are removed after the commit and their rows cleared, and the next start finishes
-- whatever a crash left behind. Videos made from a deleted reference are marked deleted with it, and who
-- deleted each is kept so a message can say whether the owner or a moderator removed it.
CREATE TABLE pending_deletions (
  file_name TEXT PRIMARY KEY,
  scheduled_at BIGINT NOT NULL
);

ALTER TABLE images ADD COLUMN deleted_by TEXT;
ALTER TABLE videos ADD COLUMN deleted_at BIGINT;
ALTER TABLE videos ADD COLUMN deleted_by TEXT;
CREATE INDEX videos_live_reference ON videos (reference_image_id) WHERE deleted_at IS NULL;

-- Messages of the bot's that still show something deleted: written in the deletion's transaction, cleared once
-- the message was edited (or the edit failed), so a crash in between is made good at the next start.
CREATE TABLE pending_message_edits (
  kind TEXT NOT NULL CHECK (kind IN ('grid', 'video')),
  job_id TEXT NOT NULL,
  scheduled_at BIGINT NOT NULL,
  PRIMARY KEY (kind, job_id)
);
