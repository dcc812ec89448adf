// Driver-adapter factories for the two databases, with the defects of the published adapters mended.
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

/**
 * pglite-prisma-adapter 0.7.2 does not await `exec` in `executeScript`, so a failing migration
 * would be recorded as applied; and the shadow databases it makes are never closed.
 * PGlite and its adapter are loaded on first use: a process on a server never needs their ~40 MB.
 */
export class PGliteAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = 'pglite-prisma-adapter';

  constructor(private readonly client: PGlite) {}

  async connect(): Promise<SqlDriverAdapter> {
    const { PrismaPGlite } = await import('pglite-prisma-adapter');
    return awaitingScripts(await new PrismaPGlite(this.client).connect(), this.client);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
    const shadow = new PGlite({ dataDir: 'memory://' });
    const adapter = awaitingScripts(await new PrismaPGlite(shadow).connect(), shadow);
    adapter.dispose = async () => {
      await shadow.close();
    };
    return adapter;
  }
}

function awaitingScripts(adapter: SqlDriverAdapter, client: PGlite): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => {
    await client.exec(script);
  };
  return adapter;
}

/**
 * @prisma/adapter-pg 7.10.1, given a connection string, would use the main database as the
 * shadow database. Nothing here needs a shadow on a server, so refuse rather than risk real data.
 */
export class PostgresAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = '@prisma/adapter-pg';
  private readonly inner: PrismaPg;

  constructor(connectionString: string, poolSize: number) {
    this.inner = new PrismaPg({ connectionString, max: poolSize });
  }

  async connect(): Promise<SqlDriverAdapter> {
    const adapter = await this.inner.connect();
    // The published adapter splits a migration on every ';', which breaks a function body; the
    // native engine sends the script whole, and so does this (pg's simple query runs many statements).
    const pool = adapter.underlyingDriver() as { query(text: string): Promise<unknown> };
    adapter.executeScript = async (script: string) => {
      await pool.query(script);
    };
    return adapter;
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    return Promise.reject(new Error('A shadow database is never created on the server; schema diffs run on an in-memory PGlite.'));
  }
}
