-- A server's library of character references, curated by moderators: a unique name (compared without case)
-- per server for an image of that server. An entry goes when its image is deleted.
CREATE TABLE library_entries (
  id TEXT PRIMARY KEY,
  guild_id TEXT NOT NULL,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  image_id TEXT NOT NULL REFERENCES images (id),
  note TEXT,
  added_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX library_guild_name ON library_entries (guild_id, name_key);
CREATE INDEX library_image ON library_entries (image_id);

-- The role whose members may curate the library besides those with Manage Messages.
ALTER TABLE guild_settings ADD COLUMN curator_role_id TEXT;

-- Lineage: the image a generation was drawn from (a variation of it, or a reference-conditioned scene), so
-- /reference info can show where an image came from and what was made from it. No foreign key: image rows are
-- never removed (a deletion marks them), and storage:copy copies generations before images.
ALTER TABLE generations ADD COLUMN parent_image_id TEXT;
CREATE INDEX generations_parent ON generations (parent_image_id);
-- The URL the parent image was uploaded to for the model (Replicate's Files API, when there is no signed link):
-- recorded once, so every slot and a restart send the same input.
ALTER TABLE generations ADD COLUMN reference_url TEXT;
