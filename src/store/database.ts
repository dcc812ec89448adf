// Opens the store: an embedded PGlite database in a folder by default, or a PostgreSQL server
// when DATABASE_URL is set. Both speak PostgreSQL through the same generated Prisma client.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import lockfile from 'proper-lockfile';
import { PrismaClient } from '../generated/prisma/client.js';
import { PGliteAdapterFactory, PostgresAdapterFactory } from './adapters.js';
import { openServerBulkSession, pgliteBulkSession, type BulkSession } from './bulk-session.js';
import { applyMigrations, readMigrationsList } from './migrations.js';

export interface Database {
  prisma: PrismaClient;
  kind: 'embedded' | 'postgres';
  /** Where the data lives, for messages: a folder or a server (without credentials). */
  location: string;
  /** The key behind every pseudonymous label in this store. */
  labelKey: Buffer;
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** Runs `work` with a bulk session (COPY and set-based SQL outside Prisma), ended when `work` settles. */
  withBulkSession<T>(work: (session: BulkSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseSettings {
  DATABASE_URL?: string | undefined;
  DMM_DATA_DIR: string;
  DMM_DB_POOL_SIZE?: number;
}

/** A problem the person running dmm can fix; its message says how. */
export class StoreError extends Error {
  override name = 'StoreError';
}

export async function openDatabase(settings: DatabaseSettings): Promise<Database> {
  return settings.DATABASE_URL ? openPostgres(settings.DATABASE_URL, settings.DMM_DB_POOL_SIZE ?? 10) : openEmbedded(settings.DMM_DATA_DIR);
}

async function openEmbedded(dataDir: string): Promise<Database> {
  const folder = path.resolve(dataDir);
  mkdirSync(folder, { recursive: true });
  // PGlite is one process's database: a second process on the same folder would corrupt it.
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(folder, { stale: 15_000, update: 5_000, realpath: false });
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOCKED') {
      throw new StoreError(
        `The embedded database in ${dataDir} is in use by another dmm process. Stop that process first, or set DATABASE_URL to share a PostgreSQL server.`,
      );
    }
    throw error;
  }
  let client: PGlite | undefined;
  try {
    // Only the embedded store needs PGlite (~40 MB of memory), so a server-backed process never loads it.
    const { PGlite } = await import('@electric-sql/pglite');
    client = new PGlite({ dataDir: folder });
    await client.waitReady;
    const adapterFactory = new PGliteAdapterFactory(client);
    await applyMigrations(adapterFactory);
    const prisma = new PrismaClient({ adapter: adapterFactory });
    const pg = client;
    return {
      prisma,
      kind: 'embedded',
      location: folder,
      labelKey: await labelKeyOf(prisma),
      adapterFactory,
      withBulkSession: (work) => work(pgliteBulkSession(pg)),
      async close() {
        await prisma.$disconnect();
        await pg.close();
        await release();
      },
    };
  } catch (error) {
    await client?.close().catch(() => {});
    await release();
    throw error;
  }
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const adapterFactory = new PostgresAdapterFactory(url, poolSize);
  const prisma = new PrismaClient({ adapter: adapterFactory });
  const location = serverName(url);
  try {
    await assertMigrated(prisma, location);
    return {
      prisma,
      kind: 'postgres',
      location,
      labelKey: await labelKeyOf(prisma),
      adapterFactory,
      async withBulkSession(work) {
        const session = await openServerBulkSession(url).catch((error: unknown) => {
          throw new StoreError(`Cannot open a connection to the PostgreSQL database at ${location}: ${reasonOf(error)}`);
        });
        try {
          return await work(session);
        } finally {
          await session.close();
        }
      },
      close: () => prisma.$disconnect(),
    };
  } catch (error) {
    await prisma.$disconnect().catch(() => {});
    throw error instanceof StoreError ? error : new StoreError(`Cannot use the PostgreSQL database at ${location}: ${reasonOf(error)}`);
  }
}

/** Applies pending migrations to a PostgreSQL server (`dmm migrate`). */
export async function migratePostgres(url: string): Promise<string[]> {
  try {
    return await applyMigrations(new PostgresAdapterFactory(url, 2));
  } catch (error) {
    throw new StoreError(`Could not migrate the PostgreSQL database at ${serverName(url)}: ${reasonOf(error)}`);
  }
}

async function assertMigrated(prisma: PrismaClient, location: string): Promise<void> {
  const expected = (await readMigrationsList()).migrationDirectories.map((d) => d.path);
  let applied: string[];
  try {
    const rows = await prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    applied = rows.map((r) => r.migration_name);
  } catch (error) {
    if (/_prisma_migrations/.test(reasonOf(error))) applied = [];
    else throw error;
  }
  const missing = expected.filter((name) => !applied.includes(name));
  if (missing.length > 0) {
    throw new StoreError(`The PostgreSQL database at ${location} is not up to date (${missing.length} migration(s) pending). Run \`dmm migrate\` first.`);
  }
}

async function labelKeyOf(prisma: PrismaClient): Promise<Buffer> {
  await prisma.storeSetting.createMany({
    data: [{ key: 'label_key', value: randomBytes(32).toString('base64') }],
    skipDuplicates: true,
  });
  const row = await prisma.storeSetting.findUniqueOrThrow({ where: { key: 'label_key' } });
  return Buffer.from(row.value, 'base64');
}

export function serverName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

export function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const code = (error as { code?: string }).code;
    const message = error.message.split('\n').filter(Boolean).at(-1) ?? error.message;
    if (cause && cause !== error) return `${message} (${reasonOf(cause)})`;
    return code && !message.includes(code) ? `${message} [${code}]` : message;
  }
  return String(error);
}
