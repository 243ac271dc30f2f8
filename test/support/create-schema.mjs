// Creates a PostgreSQL schema if it is missing: run synchronously (execFileSync) by test/support/env.ts, whose
// testConfig is synchronous. Arguments: database URL, schema name ([a-z0-9_], made by env.ts).
import pg from "pg";

const [url, schema] = process.argv.slice(2);
if (!url || !/^[a-z][a-z0-9_]{0,62}$/.test(schema ?? "")) {
  console.error("usage: create-schema.mjs <database url> <schema>");
  process.exit(2);
}
const client = new pg.Client({ connectionString: url });
await client.connect();
await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
await client.end();
