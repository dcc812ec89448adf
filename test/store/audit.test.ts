// The audit chain as the database keeps it: one line however many writers commit at once, and every
// kind of tampering found by `verifyAuditChain`.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { PGliteAdapterFactory } from '../../src/store/adapters.js';
import { appendAudit, appendAuditMany, verifyAuditChain } from '../../src/store/audit.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { migrationsDir } from '../../src/store/migrations.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

const genesis = '0'.repeat(64);

async function resetTrail(db: Database): Promise<void> {
  await db.prisma.$executeRawUnsafe('TRUNCATE audit_event RESTART IDENTITY');
  await db.prisma.auditChainHead.update({ where: { id: 1 }, data: { seq: 0, hash: genesis } });
}

async function chainRows(db: Database) {
  return db.prisma.auditEvent.findMany({ orderBy: { seq: 'asc' }, select: { id: true, seq: true, action: true, actor: true, prevHash: true, hash: true } });
}

describe.each(databaseTargets)('the audit chain on $name', (target) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await target.create();
  });
  afterAll(async () => db?.destroy());
  beforeEach(() => resetTrail(db));

  it('links every committed event into one line, in commit order, whatever runs at once', async () => {
    const writers = Array.from({ length: 30 }, (_, i) =>
      db.prisma.$transaction(async (tx) => {
        await appendAuditMany(tx, [
          { actor: `TEST-W${i}`, action: 'first' },
          { actor: `TEST-W${i}`, action: 'second' },
        ]);
        if (i % 5 === 0) throw new Error('rolled back on purpose');
      }),
    );
    const settled = await Promise.allSettled(writers);
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(6);

    const rows = await chainRows(db);
    expect(rows).toHaveLength(48);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    rows.forEach((row, i) => expect(row.prevHash).toBe(i === 0 ? genesis : rows[i - 1]!.hash));
    // A transaction's events stay together and in the order written.
    for (let i = 0; i < rows.length; i += 2) {
      expect([rows[i]!.actor, rows[i]!.action, rows[i + 1]!.action]).toEqual([rows[i + 1]!.actor, 'first', 'second']);
    }
    expect(rows.some((r) => ['TEST-W0', 'TEST-W5'].includes(r.actor))).toBe(false);
    expect(await verifyAuditChain(db.prisma)).toEqual({ ok: true, events: 48 });
    expect(await db.prisma.auditChainHead.findUnique({ where: { id: 1 } })).toEqual({ id: 1, seq: 48, hash: rows.at(-1)!.hash });
  });

  it('verifies page by page as in one go', async () => {
    await db.prisma.$transaction((tx) => appendAuditMany(tx, Array.from({ length: 25 }, (_, i) => ({ actor: 'TEST-CLI', action: `step ${i}` }))));
    expect(await verifyAuditChain(db.prisma, 4)).toEqual({ ok: true, events: 25 });
  });

  it('finds a changed timestamp, a changed link and a re-ordered chain', async () => {
    await db.prisma.$transaction((tx) => appendAuditMany(tx, Array.from({ length: 4 }, (_, i) => ({ actor: 'TEST-CLI', action: `step ${i}` }))));
    const [, second, third] = await chainRows(db);

    await db.prisma.$executeRawUnsafe(`UPDATE audit_event SET at = at + interval '1 millisecond' WHERE id = ${second!.id}`);
    expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: false, brokenAt: second!.id, problem: expect.stringContaining('content does not match') });
    await db.prisma.$executeRawUnsafe(`UPDATE audit_event SET at = at - interval '1 millisecond' WHERE id = ${second!.id}`);
    expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: true });

    for (const [from, to] of [[2, -2], [3, 2], [-2, 3]]) await db.prisma.$executeRawUnsafe(`UPDATE audit_event SET seq = ${to} WHERE seq = ${from}`);
    expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: false, brokenAt: third!.id, problem: expect.stringContaining('link to the previous event') });
  });

  it('finds the newest events deleted, and the whole trail deleted', async () => {
    await db.prisma.$transaction((tx) => appendAuditMany(tx, Array.from({ length: 5 }, (_, i) => ({ actor: 'TEST-CLI', action: `step ${i}` }))));
    const rows = await chainRows(db);
    await db.prisma.$executeRawUnsafe(`DELETE FROM audit_event WHERE seq >= 4`);
    expect(await verifyAuditChain(db.prisma)).toEqual({ ok: false, events: 3, brokenAt: rows[2]!.id, problem: 'the 2 newest event(s) after it were deleted' });
    await db.prisma.$executeRawUnsafe(`DELETE FROM audit_event`);
    expect(await verifyAuditChain(db.prisma)).toEqual({ ok: false, events: 0, problem: 'all 5 events were deleted' });
  });

  it('finds an event written with the chain switched off', async () => {
    await db.prisma.$transaction((tx) => appendAudit(tx, { actor: 'TEST-CLI', action: 'honest' }));
    await db.prisma.$executeRawUnsafe('ALTER TABLE audit_event DISABLE TRIGGER audit_event_chain');
    try {
      await db.prisma.$transaction((tx) => appendAudit(tx, { actor: 'TEST-CLI', action: 'slipped in' }));
    } finally {
      await db.prisma.$executeRawUnsafe('ALTER TABLE audit_event ENABLE TRIGGER audit_event_chain');
    }
    const slipped = await db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'slipped in' } });
    expect(await verifyAuditChain(db.prisma)).toEqual({
      ok: false,
      events: 2,
      brokenAt: slipped.id,
      problem: 'it is not on the chain (it was written with the chain switched off)',
    });
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('the audit chain with two processes on one PostgreSQL', () => {
  let db: TestDatabase;
  let other: Database;
  beforeAll(async () => {
    db = await databaseTargets.find((t) => t.name === 'postgres')!.create();
    other = await openDatabase({ DATABASE_URL: db.env.DATABASE_URL!, DMM_DATA_DIR: '', DMM_DB_POOL_SIZE: 5 });
  });
  afterAll(async () => {
    await other?.close();
    await db?.destroy();
  });

  it('keeps one line when both write at once', async () => {
    const write = (store: Database, name: string) =>
      Array.from({ length: 40 }, (_, i) => store.prisma.$transaction((tx) => appendAudit(tx, { actor: name, action: `event ${i}` })));
    await Promise.all([...write(db, 'TEST-ONE'), ...write(other, 'TEST-TWO')]);
    const rows = await chainRows(db);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(['TEST-ONE', 'TEST-TWO']));
    expect(await verifyAuditChain(other.prisma)).toEqual({ ok: true, events: 80 });
  });
});

describe('upgrading a store whose trail was chained by the application', () => {
  it('links the existing events, in id order, from the start', async () => {
    const pglite = new PGlite();
    const prisma = new PrismaClient({ adapter: new PGliteAdapterFactory(pglite) });
    try {
      const migrations = (await readdir(migrationsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
      const upgrade = migrations.findIndex((name) => name.endsWith('_audit_chain_at_commit'));
      const sql = (name: string) => readFile(path.join(migrationsDir, name, 'migration.sql'), 'utf8');
      for (const name of migrations.slice(0, upgrade)) await pglite.exec(await sql(name));
      await pglite.exec(`INSERT INTO audit_event (actor, action, prev_hash, hash) VALUES
        ('TEST-OLD', 'one', '${genesis}', 'old-1'), ('TEST-OLD', 'two', 'old-1', 'old-2'), ('TEST-OLD', 'three', 'old-2', 'old-3')`);
      for (const name of migrations.slice(upgrade)) await pglite.exec(await sql(name));

      const rows = await prisma.auditEvent.findMany({ orderBy: { seq: 'asc' } });
      expect(rows.map((r) => [r.action, r.seq])).toEqual([['one', 1], ['two', 2], ['three', 3]]);
      expect(rows[0]!.prevHash).toBe(genesis);
      expect(await verifyAuditChain(prisma)).toEqual({ ok: true, events: 3 });
      // And new events follow on from them.
      await prisma.$transaction((tx) => appendAudit(tx, { actor: 'TEST-NEW', action: 'four' }));
      expect(await verifyAuditChain(prisma)).toEqual({ ok: true, events: 4 });
    } finally {
      await prisma.$disconnect();
      await pglite.close();
    }
  });
});
