// Creates PostgreSQL schemas for test/support/env.ts, whose testConfig is synchronous: a worker thread holding
// one connection per database, which the test waits on (Atomics.wait) instead of starting a process per schema.
// Each message: { url, schema, done: SharedArrayBuffer(4), reply: MessagePort }; `done` turns 1 once answered.
import { parentPort } from "node:worker_threads";
import pg from "pg";

/** Connections by database URL, opened at first use and kept for the worker's life. */
const clients = new Map();

async function clientFor(url) {
  let client = clients.get(url);
  if (!client) {
    client = new pg.Client({ connectionString: url });
    clients.set(url, client);
    // A connection the server drops is opened again at the next request.
    client.on("error", () => clients.delete(url));
    await client.connect();
  }
  return client;
}

parentPort?.on("message", async ({ url, schema, done, reply }) => {
  try {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
    await (await clientFor(url)).query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    reply.postMessage({});
  } catch (err) {
    clients.delete(url);
    reply.postMessage({ error: err instanceof Error ? err.message : String(err) });
  } finally {
    reply.close();
    const state = new Int32Array(done);
    Atomics.store(state, 0, 1);
    Atomics.notify(state, 0);
  }
});
