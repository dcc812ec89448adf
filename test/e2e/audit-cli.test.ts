// End to end, as an information-governance officer runs it: `dmm audit verify` and `dmm audit export`
// as child processes on a store filled by `dmm seed --demo` and other `dmm` commands. The trail checks
// out intact; an edit or a deletion made behind dmm's back, straight in the database, is named; the
// export is CSV with one row per event, and is itself on the record.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/database.js';
import { createServerDatabase, type TestDatabase } from '../support/databases.js';
import { baseEnv, runDmm, type DmmRun } from '../support/dmm-process.js';

const header = 'id,at,actor,action,subject,channel,reason,details,prev_hash,hash';
const since = '2026-01-01';

const tmpDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tmpDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tmpDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

function expectRan(run: DmmRun, code = 0): void {
  expect(run.code, `exit code; stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(code);
}

/** Runs `use` on an embedded store that no dmm process holds, and lets go of it again. */
async function withEmbedded<T>(dataDir: string, use: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ DMM_DATA_DIR: dataDir });
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

/** A `dmm` command, with room for a busy machine (each run starts tsx and opens the store). */
const dmm = (args: string[], env: NodeJS.ProcessEnv): Promise<DmmRun> => runDmm(args, env, 150_000);
const slow = 300_000;

/** Fills a store the way people would: demo data, then someone reading Monday's agenda. */
async function fillTrail(env: NodeJS.ProcessEnv): Promise<void> {
  expectRan(await dmm(['seed', '--demo'], env));
  expectRan(await dmm(['agenda', '--date', '2026-03-02'], env));
}

describe('dmm audit on the embedded store', () => {
  let template: string;
  let work: string;
  /** The trail's actions once the first test has exported it. */
  const trail = ['seed.demo', 'agenda.view', 'audit.export'];

  beforeAll(async () => {
    template = await tmpDir('dmm-audit-data-');
    work = await tmpDir('dmm-audit-work-');
    await fillTrail(baseEnv({ DMM_DATA_DIR: template }));
  }, slow);

  /** A copy of the filled (and exported) store, for a test to change as it likes. */
  async function copyOfStore(): Promise<string> {
    const dir = await tmpDir('dmm-audit-copy-');
    await cp(template, dir, { recursive: true });
    return dir;
  }

  it('exports the trail as CSV, one row per event, and records the export in the trail', async () => {
    const out = path.join(work, 'audit.csv');
    const run = await dmm(['audit', 'export', '--since', since, '--reason', 'test', '--out', out], baseEnv({ DMM_DATA_DIR: template }));
    expectRan(run);

    const text = await readFile(out, 'utf8');
    expect(text.split('\n')[0]).toBe(header);
    const rows = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    const stored = await withEmbedded(template, (db) => db.prisma.auditEvent.findMany({ orderBy: { id: 'asc' } }));
    // The export's own event is written first, so the file includes it.
    expect(stored.map((e) => e.action)).toEqual(trail);
    expect(rows).toHaveLength(stored.length);
    expect(run.stderr).toContain(`Exported ${stored.length} audit events since ${since} to ${out}.`);
    rows.forEach((row, i) => {
      const event = stored[i]!;
      expect(row).toEqual({
        id: String(event.id),
        at: event.at.toISOString(),
        actor: event.actor,
        action: event.action,
        subject: event.subject,
        channel: event.channel,
        reason: event.reason,
        details: JSON.stringify(event.details),
        prev_hash: event.prevHash,
        hash: event.hash,
      });
      if (i > 0) expect(row.prev_hash).toBe(rows[i - 1]!.hash);
    });
    const exported = stored.at(-1)!;
    expect(exported).toMatchObject({ action: 'audit.export', reason: 'test', actor: `cli:${os.userInfo().username}` });
    expect(exported.details).toEqual({ since });
  }, slow);

  it('verifies the untouched trail, the export included, as intact', async () => {
    const run = await dmm(['audit', 'verify'], baseEnv({ DMM_DATA_DIR: template }));
    expectRan(run);
    expect(run.stdout).toContain(`The audit trail is intact: ${trail.length} events, every link checked.`);
  }, slow);

  it('exports the whole CSV to standard output too', async () => {
    const dataDir = await copyOfStore();
    const run = await dmm(['audit', 'export', '--since', since, '--reason', 'test to stdout'], baseEnv({ DMM_DATA_DIR: dataDir }));
    expectRan(run);
    expect(run.stdout.split('\n')[0]).toBe(header);
    const rows = parse(run.stdout, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    expect(rows.map((r) => r.action)).toEqual([...trail, 'audit.export']);
    expect(rows.at(-1)!.reason).toBe('test to stdout');
  }, slow);

  it('refuses an export without a reason or with a bad date, and exports nothing', async () => {
    const dataDir = await copyOfStore();
    const env = baseEnv({ DMM_DATA_DIR: dataDir });
    const out = path.join(work, 'refused.csv');
    const noReason = await dmm(['audit', 'export', '--since', since, '--out', out], env);
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
    const badDate = await dmm(['audit', 'export', '--since', '1 March', '--reason', 'test', '--out', out], env);
    expectRan(badDate, 1);
    expect(badDate.stderr).toContain('--since must be a date as YYYY-MM-DD, not "1 March"');
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await withEmbedded(dataDir, (db) => db.prisma.auditEvent.count({ where: { action: 'audit.export' } }))).toBe(1);
  }, slow);

  it('refuses an export to a file it cannot write, in one line, and records no export', async () => {
    const dataDir = await copyOfStore();
    const out = path.join(work, 'no-such-folder', 'audit.csv');
    const run = await dmm(['audit', 'export', '--since', since, '--reason', 'test', '--out', out], baseEnv({ DMM_DATA_DIR: dataDir }));
    expectRan(run, 1);
    expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stderr).toMatch(/^dmm: .*no-such-folder/);
    expect(run.stderr).not.toContain('unexpected error');
    // The trail must not claim an export that never happened.
    expect(await withEmbedded(dataDir, (db) => db.prisma.auditEvent.count({ where: { action: 'audit.export' } }))).toBe(1);
  }, slow);

  it('names the first event whose content was changed in the database', async () => {
    const dataDir = await copyOfStore();
    const changed = await withEmbedded(dataDir, (db) => db.prisma.$executeRawUnsafe(`UPDATE audit_event SET actor = 'someone-else' WHERE id = 1`));
    expect(changed).toBe(1);
    const run = await dmm(['audit', 'verify'], baseEnv({ DMM_DATA_DIR: dataDir }));
    expectRan(run, 1);
    expect(run.stdout).toContain('The audit trail is BROKEN at event 1: its content does not match its hash (the event was changed).');
  }, slow);

  it('names the event after one deleted from the middle of the trail', async () => {
    const dataDir = await copyOfStore();
    const deleted = await withEmbedded(dataDir, (db) => db.prisma.$executeRawUnsafe('DELETE FROM audit_event WHERE id = 2'));
    expect(deleted).toBe(1);
    const run = await dmm(['audit', 'verify'], baseEnv({ DMM_DATA_DIR: dataDir }));
    expectRan(run, 1);
    expect(run.stdout).toContain('The audit trail is BROKEN at event 3: its link to the previous event does not match');
  }, slow);

  it('notices a change to the details of an event', async () => {
    const dataDir = await copyOfStore();
    const changed = await withEmbedded(dataDir, (db) =>
      db.prisma.$executeRawUnsafe(`UPDATE audit_event SET details = jsonb_set(details, '{incidents}', '1') WHERE action = 'seed.demo'`),
    );
    expect(changed).toBe(1);
    const run = await dmm(['audit', 'verify'], baseEnv({ DMM_DATA_DIR: dataDir }));
    expectRan(run, 1);
    expect(run.stdout).toContain('The audit trail is BROKEN at event 1: its content does not match its hash');
  }, slow);
});

describe.runIf(process.env.TEST_DATABASE_URL)('dmm audit on PostgreSQL', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    db = await createServerDatabase(process.env.TEST_DATABASE_URL!);
    env = baseEnv(db.env);
    await fillTrail(env);
  }, slow);

  afterAll(async () => {
    await db?.destroy();
  });

  it('exports the trail to a file, and records the export', async () => {
    const out = path.join(await tmpDir('dmm-audit-pg-'), 'audit.csv');
    const run = await dmm(['audit', 'export', '--since', since, '--reason', 'test', '--out', out], env);
    expectRan(run);
    const text = await readFile(out, 'utf8');
    expect(text.split('\n')[0]).toBe(header);
    const rows = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    expect(rows.map((r) => r.action)).toEqual(['seed.demo', 'agenda.view', 'audit.export']);
    expect(await db.prisma.auditEvent.count({ where: { action: 'audit.export', reason: 'test' } })).toBe(1);
  }, slow);

  it('verifies the trail as intact, then names the event changed in the database', async () => {
    const intact = await dmm(['audit', 'verify'], env);
    expectRan(intact);
    expect(intact.stdout).toContain('The audit trail is intact: 3 events, every link checked.');

    expect(await db.prisma.$executeRawUnsafe(`UPDATE audit_event SET actor = 'someone-else' WHERE id = 1`)).toBe(1);
    const broken = await dmm(['audit', 'verify'], env);
    expectRan(broken, 1);
    expect(broken.stdout).toContain('The audit trail is BROKEN at event 1: its content does not match its hash (the event was changed).');
  }, slow);
});
