// CSV import on each database: good rows kept, bad rows set aside with their line numbers, re-imports change nothing.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRecordsFile } from '../../src/app/import-records.js';
import { ImportFileError } from '../../src/ingest/csv-import.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { csvOf, incidentHeader, incidentRow } from '../support/records.js';

describe.each(databaseTargets)('CSV import on $name', (target) => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await target.create();
    dir = await mkdtemp(path.join(os.tmpdir(), 'dmm-import-'));
  });
  afterAll(async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const write = async (name: string, text: string) => {
    const file = path.join(dir, name);
    await writeFile(file, text);
    return file;
  };

  it('imports good rows, rejects bad ones with line and reason, and keeps the good rows around them', async () => {
    const rows = [
      incidentRow(1),
      incidentRow(2, { risk_level: 'severe' }),
      incidentRow(3, { reported_at: '2026-03-02T09:15:00' }),
      incidentRow(4, { perpetrator_ref: '' }),
      incidentRow(5, { area: 'x'.repeat(5 * 1024 * 1024) }),
      incidentRow(6),
    ];
    const file = await write('march.csv', csvOf(incidentHeader, rows));
    const summary = await importRecordsFile(db, 'incidents', file, 'test');
    expect(summary).toMatchObject({ inserted: 2, updated: 0, unchanged: 0, rejected: 4, rejectsFile: `${file}.rejects.csv` });
    const rejects = parse(await readFile(`${file}.rejects.csv`), { columns: true }) as Record<string, string>[];
    expect(rejects.map((r) => [r.line, r.source_ref])).toEqual([
      ['3', 'TEST-INC-2'],
      ['4', 'TEST-INC-3'],
      ['5', 'TEST-INC-4'],
      ['6', 'TEST-INC-5'],
    ]);
    expect(rejects[0]!.reason).toMatch(/risk_level must be one of standard\|medium\|high/);
    expect(rejects[1]!.reason).toMatch(/reported_at .*offset/);
    expect(rejects[2]!.reason).toBe('perpetrator_ref is required');
    expect(rejects[3]!.reason).toMatch(/area must be at most 100 characters/);
    expect(rejects[3]!.area!.length).toBeLessThan(2_000);
    const stored = await db.prisma.incident.findMany({ orderBy: { sourceRef: 'asc' }, select: { sourceRef: true } });
    expect(stored.map((s) => s.sourceRef)).toEqual(['TEST-INC-1', 'TEST-INC-6']);
  });

  it('changes nothing when the same file is imported twice, and counts updates', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => incidentRow(100 + i));
    const file = await write('twice.csv', csvOf(incidentHeader, rows));
    expect(await importRecordsFile(db, 'incidents', file, 'test', { batchSize: 7 })).toEqual({ inserted: 30, updated: 0, unchanged: 0, rejected: 0 });
    const before = await db.prisma.incident.findMany({ orderBy: { id: 'asc' } });
    expect(await importRecordsFile(db, 'incidents', file, 'test', { batchSize: 7 })).toEqual({ inserted: 0, updated: 0, unchanged: 30, rejected: 0 });
    expect(await db.prisma.incident.findMany({ orderBy: { id: 'asc' } })).toEqual(before);
    rows[3] = { ...rows[3]!, risk_level: 'high' };
    rows[4] = { ...rows[4]!, area: 'Test Area South' };
    expect(incidentRow(103).risk_level).not.toBe('high');
    const changed = await write('changed.csv', csvOf(incidentHeader, rows));
    expect(await importRecordsFile(db, 'incidents', changed, 'test')).toEqual({ inserted: 0, updated: 2, unchanged: 28, rejected: 0 });
  });

  it('counts a record repeated within one file as an update of the first', async () => {
    const file = await write('repeat.csv', csvOf(incidentHeader, [incidentRow(200), incidentRow(200, { area: 'Test Area East' }), incidentRow(200, { area: 'Test Area East' })]));
    expect(await importRecordsFile(db, 'incidents', file, 'test')).toEqual({ inserted: 1, updated: 1, unchanged: 1, rejected: 0 });
    expect((await db.prisma.incident.findFirstOrThrow({ where: { sourceRef: 'TEST-INC-200' } })).area).toBe('Test Area East');
  });

  it('gives the same people the same pseudonymous labels, never their references', async () => {
    const nominals = await db.prisma.nominal.findMany();
    expect(nominals.length).toBeGreaterThan(0);
    for (const n of nominals) {
      expect(n.label).toMatch(/^N-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
      expect(n.label).not.toContain(n.ref);
    }
  });

  it('reads Windows line endings, a byte-order mark, quoted commas and the optional columns', async () => {
    const header = `${incidentHeader},source_system,risk_tool,prof_judgement,crime`;
    const text = `\ufeff${header}\r\nTEST-INC-300,2026-03-03T10:00:00Z,,HIGH,"assault, with injury",Test Area West,TEST-P-300,TEST-V-300,false,niche,DARA,true,true\r\n\r\nTEST-INC-301,2026-03-03T11:00:00Z,,high,assault,Test Area West,TEST-P-300,TEST-V-300,maybe,niche,dara,false,true\r\n`;
    const file = await write('windows.csv', text);
    const summary = await importRecordsFile(db, 'incidents', file, 'test');
    expect(summary).toMatchObject({ inserted: 1, rejected: 1 });
    const rejects = parse(await readFile(`${file}.rejects.csv`), { columns: true }) as Record<string, string>[];
    expect(rejects[0]).toMatchObject({ line: '4', reason: 'children_present must be true or false' });
    const stored = await db.prisma.incident.findFirstOrThrow({ where: { sourceRef: 'TEST-INC-300' } });
    expect(stored).toMatchObject({ sourceSystem: 'niche', riskTool: 'dara', riskLevel: 'high', profJudgement: true, crime: true, category: 'assault, with injury' });
  });

  it('numbers lines from the header, also after a value that spans lines', async () => {
    const text = `${incidentHeader}\nTEST-INC-400,2026-03-04T10:00:00Z,,high,"two\nlines",Test Area,TEST-P-400,TEST-V-400,false\nTEST-INC-401,2026-03-04T10:00:00Z,,high,assault,Test Area,TEST-P-400,TEST-V-400\n`;
    const file = await write('multiline.csv', text);
    const summary = await importRecordsFile(db, 'incidents', file, 'test');
    expect(summary.rejected).toBe(2);
    const rejects = parse(await readFile(`${file}.rejects.csv`), { columns: true }) as Record<string, string>[];
    expect(rejects.map((r) => r.line)).toEqual(['2', '4']);
    expect(rejects[1]!.reason).toBe('wrong number of columns for the header');
  });

  it('refuses a file with the wrong header, an empty file and a missing file, writing nothing', async () => {
    const count = await db.prisma.incident.count();
    const wrong = await write('wrong.csv', 'ref,when,risk\nX,2026-03-02T08:15:00Z,high\n');
    await expect(importRecordsFile(db, 'incidents', wrong, 'test')).rejects.toThrow(/header.*missing source_ref/);
    const empty = await write('empty.csv', '');
    await expect(importRecordsFile(db, 'incidents', empty, 'test')).rejects.toThrow(ImportFileError);
    await expect(importRecordsFile(db, 'incidents', empty, 'test')).rejects.toThrow(/empty/);
    await expect(importRecordsFile(db, 'incidents', path.join(dir, 'nope.csv'), 'test')).rejects.toThrow(/no such file/);
    await expect(importRecordsFile(db, 'incidents', dir, 'test')).rejects.toThrow(/folder/);
    expect(await db.prisma.incident.count()).toBe(count);
  });

  it('removes a stale rejects file once a re-import is clean', async () => {
    const file = await write('fixed.csv', csvOf(incidentHeader, [incidentRow(500, { risk_level: 'severe' })]));
    await importRecordsFile(db, 'incidents', file, 'test');
    expect(existsSync(`${file}.rejects.csv`)).toBe(true);
    await writeFile(file, csvOf(incidentHeader, [incidentRow(500)]));
    expect(await importRecordsFile(db, 'incidents', file, 'test')).toEqual({ inserted: 1, updated: 0, unchanged: 0, rejected: 0 });
    expect(existsSync(`${file}.rejects.csv`)).toBe(false);
  });

  it('imports flags idempotently and updates their end date', async () => {
    const header = 'perpetrator_ref,kind,note,starts_on,ends_on';
    const rows = [
      { perpetrator_ref: 'TEST-P-1', kind: 'iom', note: 'Test IOM', starts_on: '2026-01-05', ends_on: '' },
      { perpetrator_ref: 'TEST-P-900', kind: 'bail', note: '', starts_on: '2026-02-01', ends_on: '2026-03-01' },
      { perpetrator_ref: 'TEST-P-2', kind: 'curfew', note: '', starts_on: '2026-02-01', ends_on: '' },
    ];
    const file = await write('flags.csv', csvOf(header, rows));
    expect(await importRecordsFile(db, 'flags', file, 'test')).toMatchObject({ inserted: 2, rejected: 1 });
    expect(await importRecordsFile(db, 'flags', file, 'test')).toMatchObject({ inserted: 0, unchanged: 2, rejected: 1 });
    rows[0]!.ends_on = '2026-06-30';
    await writeFile(file, csvOf(header, rows.slice(0, 2)));
    expect(await importRecordsFile(db, 'flags', file, 'test')).toEqual({ inserted: 0, updated: 1, unchanged: 1, rejected: 0 });
    const flag = await db.prisma.flag.findFirstOrThrow({ where: { kind: 'iom', perpetrator: { ref: 'TEST-P-1' } } });
    expect(flag.endsOn?.toISOString().slice(0, 10)).toBe('2026-06-30');
    expect(flag.setBy).toBe('import:flags.csv');
  });

  it('audits each import with who and the counts', async () => {
    const events = await db.prisma.auditEvent.findMany({ where: { action: 'import.incidents' } });
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]).toMatchObject({ actor: 'test', subject: 'march.csv', details: { inserted: 2, rejected: 4, unchanged: 0, updated: 0 } });
  });
});
