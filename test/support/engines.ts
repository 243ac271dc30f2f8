// vitest globalSetup of the "engines" and "fleet" tiers: one PostgreSQL database and one s3rver bucket for the run,
// handed to every test file through inject(). Each data directory then gets its own schema in that database
// and its own prefix in that bucket (test/support/env.ts), so files run in parallel and a restart in a test
// finds its rows again.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { ENGINE_BUCKET } from "./engine-names.ts";
import { startS3rver } from "./local-s3rver.ts";

/** The server the tests create their database on (trust auth on the development and CI machines). */
export const TEST_ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

declare module "vitest" {
  export interface ProvidedContext {
    /** Set in the engines tier: the run's database, and the s3rver endpoint holding ENGINE_BUCKET. */
    sharedEngines: { databaseUrl: string; s3Endpoint: string } | undefined;
  }
}

/** Resolves when PostgreSQL answers at the admin URL; rejects with the reason within a few seconds. */
export async function probePostgres(url = TEST_ADMIN_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => {});
  }
}

export default async function setup(project: TestProject) {
  const name = `crbot_${process.pid}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const databaseUrl = Object.assign(new URL(TEST_ADMIN_URL), { pathname: `/${name}` }).toString();

  const dir = mkdtempSync(join(tmpdir(), "crbot-engine-s3-"));
  const { server: s3, endpoint } = await startS3rver(dir, ENGINE_BUCKET);
  project.provide("sharedEngines", { databaseUrl, s3Endpoint: endpoint });

  return async () => {
    s3.httpServer.closeAllConnections();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
    const drop = new pg.Client({ connectionString: TEST_ADMIN_URL });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await drop.end();
  };
}
