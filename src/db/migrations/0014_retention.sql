-- Retention. A server the bot was removed from is remembered here until its data goes (purge_at): being added
-- back before then deletes the row, and with it the deletion. The indexes let the sweeper find what it clears
-- (live interaction tokens, old tombstones, old audit rows, a server's rows) without reading whole tables.
CREATE TABLE guild_departures (
  guild_id TEXT PRIMARY KEY,
  left_at BIGINT NOT NULL,
  purge_at BIGINT NOT NULL
);
CREATE INDEX guild_departures_due ON guild_departures (purge_at);

CREATE INDEX generations_live_token ON generations (created_at) WHERE interaction_token IS NOT NULL;
CREATE INDEX videos_live_token ON videos (created_at) WHERE interaction_token IS NOT NULL;
CREATE INDEX images_tombstones ON images (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX videos_tombstones ON videos (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX images_live_finished ON images (finished_at) WHERE deleted_at IS NULL;
CREATE INDEX generations_failed ON generations (created_at) WHERE status = 'failed';
CREATE INDEX audit_created ON audit_log (created_at);
CREATE INDEX generations_guild ON generations (guild_id);
CREATE INDEX videos_guild ON videos (guild_id);
