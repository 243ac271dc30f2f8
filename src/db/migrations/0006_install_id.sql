-- One random id per database: the object store's prefix is marked with it, so a bot never sweeps files that
-- belong to another bot's database (staging and production sharing a bucket, say). The id itself is written
-- by the migrator once the schema is current (src/storage/database.ts), the same way on both engines.
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
