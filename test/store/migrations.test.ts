// The migrations are Prisma's own output for prisma/schema.prisma, and a failing one is never recorded as applied.
import { mkdtemp, mkdir, writeFile, cp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGliteAdapterFactory } from '../../src/store/adapters.js';
import { applyMigrations, migrationsDir, pendingSchemaChanges, readMigrationsList } from '../../src/store/migrations.js';

describe('migrations', () => {
  it('agree with prisma/schema.prisma (run `npm run db:migration -- <name>` after a schema change)', async () => {
    expect(await pendingSchemaChanges()).toBe('');
  });

  it('are in Prisma Migrate format, so `prisma migrate deploy` can take over', async () => {
    const list = await readMigrationsList();
    expect(list.migrationDirectories.length).toBeGreaterThan(0);
    for (const dir of list.migrationDirectories) expect(dir.path).toMatch(/^\d{14}_[a-z0-9_]+$/);
    expect(list.lockfile.content).toContain('provider = "postgresql"');
  });

  describe('on PGlite', () => {
    let client: PGlite;
    let scratch: string;
    beforeAll(async () => {
      client = new PGlite({ dataDir: 'memory://' });
      scratch = await mkdtemp(path.join(os.tmpdir(), 'dmm-migrations-'));
    });
    afterAll(async () => {
      await client.close();
      await rm(scratch, { recursive: true, force: true });
    });

    it('applies every migration once and records it as Prisma Migrate does', async () => {
      const factory = new PGliteAdapterFactory(client);
      const first = await applyMigrations(factory);
      expect(first.length).toBe((await readMigrationsList()).migrationDirectories.length);
      expect(await applyMigrations(factory)).toEqual([]);
      const rows = await client.query<{ migration_name: string; finished_at: Date | null }>('SELECT migration_name, finished_at FROM _prisma_migrations');
      expect(rows.rows.every((r) => r.finished_at !== null)).toBe(true);
    });

    it('does not record a migration whose SQL fails (the published PGlite adapter did)', async () => {
      await cp(migrationsDir, scratch, { recursive: true });
      const broken = path.join(scratch, '29991231000000_broken');
      await mkdir(broken);
      await writeFile(path.join(broken, 'migration.sql'), 'CREATE TABLE broken_one (id int);\nTHIS IS NOT SQL;\n');
      await expect(applyMigrations(new PGliteAdapterFactory(client), scratch)).rejects.toThrow();
      const rows = await client.query<{ finished_at: Date | null }>(
        "SELECT finished_at FROM _prisma_migrations WHERE migration_name = '29991231000000_broken'",
      );
      expect(rows.rows.every((r) => r.finished_at === null)).toBe(true);
    });
  });
});
