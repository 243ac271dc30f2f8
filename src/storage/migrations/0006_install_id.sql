-- One random id per database: the object store's prefix is marked with it, so a bot never sweeps files that
-- belong to another bot's database (staging and production sharing a bucket, say).
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('install_id', lower(hex(randomblob(16))));
