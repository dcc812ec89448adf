// The databases every integration test runs on: the embedded PGlite store always, and a real
// PostgreSQL server too when TEST_DATABASE_URL is set (each test file gets a database of its own).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migratePostgres, openDatabase, type Database } from '../../src/store/database.js';

export interface TestDatabase extends Database {
  /** Settings that open this same database again, e.g. for a child process. */
  env: Record<string, string>;
  destroy(): Promise<void>;
}

export interface DatabaseTarget {
  name: 'embedded' | 'postgres';
  create(): Promise<TestDatabase>;
}

export async function createEmbeddedDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dmm-test-'));
  const db = await openDatabase({ DMM_DATA_DIR: dir });
  return {
    ...db,
    env: { DMM_DATA_DIR: dir },
    async destroy() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the test server, migrated as `dmm migrate` would. */
export async function createServerDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `dmm_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migratePostgres(url.toString());
  const db = await openDatabase({ DATABASE_URL: url.toString(), DMM_DATA_DIR: '', DMM_DB_POOL_SIZE: 5 });
  return {
    ...db,
    env: { DATABASE_URL: url.toString() },
    async destroy() {
      await db.close();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

export const databaseTargets: DatabaseTarget[] = [
  { name: 'embedded', create: createEmbeddedDatabase },
  ...(process.env.TEST_DATABASE_URL
    ? [{ name: 'postgres' as const, create: () => createServerDatabase(process.env.TEST_DATABASE_URL!) }]
    : []),
];
