// CSV import on each database: good rows kept, bad rows set aside with their line numbers, re-imports change nothing.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRecordsFile, pushRecords } from '../../src/app/import-records.js';
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

  it('starts a new batch at a key repeated within the file, in any batch, and counts each repeat', async () => {
    const rows = [
      incidentRow(210),
      incidentRow(211),
      incidentRow(210, { area: 'Test Area East' }),
      incidentRow(212),
      incidentRow(210, { area: 'Test Area East' }),
      incidentRow(213),
      incidentRow(211),
    ];
    const file = await write('repeats.csv', csvOf(incidentHeader, rows));
    // Batches of 2, 4, 8…: the first repeat falls at a batch's start, the second within one.
    expect(await importRecordsFile(db, 'incidents', file, 'test', { batchSize: 16 })).toEqual({ inserted: 4, updated: 1, unchanged: 2, rejected: 0 });
    expect((await db.prisma.incident.findFirstOrThrow({ where: { sourceRef: 'TEST-INC-210' } })).area).toBe('Test Area East');
  });

  it('counts exactly across batches when a re-import changes a few rows, one to a person new to the store', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => incidentRow(600 + i));
    const file = await write('nightly.csv', csvOf(incidentHeader, rows));
    expect(await importRecordsFile(db, 'incidents', file, 'test', { batchSize: 8 })).toEqual({ inserted: 40, updated: 0, unchanged: 0, rejected: 0 });
    rows[5] = { ...rows[5]!, risk_level: rows[5]!.risk_level === 'high' ? 'medium' : 'high' };
    rows[17] = { ...rows[17]!, victim_ref: 'TEST-V-NEW-617' };
    rows[33] = { ...rows[33]!, occurred_at: '2026-03-01T22:30:00+01:00' };
    await writeFile(file, csvOf(incidentHeader, rows));
    expect(await importRecordsFile(db, 'incidents', file, 'test', { batchSize: 8 })).toEqual({ inserted: 0, updated: 3, unchanged: 37, rejected: 0 });
    const moved = await db.prisma.incident.findFirstOrThrow({ where: { sourceRef: 'TEST-INC-617' }, include: { victim: true } });
    expect(moved.victim.ref).toBe('TEST-V-NEW-617');
    expect(moved.victim.label).toMatch(/^N-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    expect((await db.prisma.incident.findFirstOrThrow({ where: { sourceRef: 'TEST-INC-633' } })).occurredAt?.toISOString()).toBe('2026-03-01T21:30:00.000Z');
    expect(await importRecordsFile(db, 'incidents', file, 'test', { batchSize: 8 })).toEqual({ inserted: 0, updated: 0, unchanged: 40, rejected: 0 });
  });

  it('keeps the batches before one the store refuses, stops with one line, and writes nothing from that batch on', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => incidentRow(800 + i));
    const file = await write('refused.csv', csvOf(incidentHeader, rows));
    const audits = await db.prisma.auditEvent.count({ where: { action: 'import.incidents' } });
    // Something validation cannot foresee: the store itself refuses one row (line 12).
    await db.prisma.$executeRawUnsafe(`ALTER TABLE incident ADD CONSTRAINT test_refuses_one CHECK (source_ref <> 'TEST-INC-810')`);
    let error: unknown;
    try {
      await importRecordsFile(db, 'incidents', file, 'test', { batchSize: 8 });
    } catch (caught) {
      error = caught;
    } finally {
      await db.prisma.$executeRawUnsafe('ALTER TABLE incident DROP CONSTRAINT test_refuses_one');
    }
    expect(error).toBeInstanceOf(ImportFileError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    const [, first, last] = /^lines (\d+)-(\d+) could not be stored \(.*test_refuses_one.*\)\. Nothing from line \1 on was imported/.exec(message) ?? [];
    expect(Number(first)).toBeGreaterThan(2);
    expect(Number(first)).toBeLessThanOrEqual(12);
    expect(Number(last)).toBeGreaterThanOrEqual(12);
    const stored = await db.prisma.incident.findMany({ where: { sourceRef: { startsWith: 'TEST-INC-8' } }, orderBy: { id: 'asc' }, select: { sourceRef: true } });
    expect(stored.map((s) => s.sourceRef)).toEqual(rows.slice(0, Number(first) - 2).map((r) => r.source_ref));
    expect(message).toContain(`the rows before it were (inserted ${Number(first) - 2}, updated 0, unchanged 0)`);
    expect(await db.prisma.auditEvent.count({ where: { action: 'import.incidents' } })).toBe(audits);
    expect(await importRecordsFile(db, 'incidents', file, 'test', { batchSize: 8 })).toMatchObject({ inserted: 20 - (Number(first) - 2), unchanged: Number(first) - 2 });
  });

  it('rejects in validation a timestamp or date the database could not store, keeping the rows around it', async () => {
    const file = await write('years.csv', csvOf(incidentHeader, [
      incidentRow(700),
      incidentRow(701, { reported_at: '0000-06-01T00:00:00Z' }),
      incidentRow(702, { reported_at: '9999-12-31T23:00:00-05:00' }),
      incidentRow(703, { occurred_at: '0001-01-01T00:30:00+01:00' }),
      incidentRow(704, { reported_at: '9999-12-31T23:59:59.999Z', occurred_at: '0001-01-01T00:00:00Z' }),
    ]));
    expect(await importRecordsFile(db, 'incidents', file, 'test')).toMatchObject({ inserted: 2, rejected: 3 });
    const rejects = parse(await readFile(`${file}.rejects.csv`), { columns: true }) as Record<string, string>[];
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      ['3', 'reported_at must be between the years 0001 and 9999 in UTC'],
      ['4', 'reported_at must be between the years 0001 and 9999 in UTC'],
      ['5', 'occurred_at must be between the years 0001 and 9999 in UTC'],
    ]);
    const flags = await write('flag-years.csv', 'perpetrator_ref,kind,note,starts_on,ends_on\nTEST-P-1,cohort,,0000-01-01,\nTEST-P-1,cohort,,0001-01-01,9999-12-31\n');
    expect(await importRecordsFile(db, 'flags', flags, 'test')).toMatchObject({ inserted: 1, rejected: 1 });
  });

  it('stores awkward text byte for byte: quotes, backslashes, commas and any script', async () => {
    const texts = ['"Quoted", with a comma', 'back\\slash \\N \\t \\.', 'Zoë – 北京 – مرحبا – 👩‍👧 – e\u0301', 'NULL'];
    const file = await write('text.csv', csvOf(incidentHeader, texts.map((category, i) => incidentRow(750 + i, { category, area: category.slice(0, 30) }))));
    expect(await importRecordsFile(db, 'incidents', file, 'test')).toMatchObject({ inserted: texts.length, rejected: 0 });
    const stored = await db.prisma.incident.findMany({ where: { sourceRef: { startsWith: 'TEST-INC-75' } }, orderBy: { sourceRef: 'asc' } });
    expect(stored.map((s) => [s.category, s.area])).toEqual(texts.map((text) => [text, text.slice(0, 30)]));
    expect(await importRecordsFile(db, 'incidents', file, 'test')).toMatchObject({ unchanged: texts.length });
  });

  it('writes the same rows and counts from a CSV file as from a push of the same records', async () => {
    const incidents = [
      incidentRow(900, { occurred_at: '2026-03-01T23:00:00+01:00', category: 'Harassment, "online" \\ Zoë' }),
      { ...incidentRow(901), source_system: 'niche', risk_tool: 'DASH', prof_judgement: 'true', crime: 'true' },
      incidentRow(902, { victim_ref: 'TEST-V-PUSHED-902' }),
    ];
    const header = `${incidentHeader},source_system,risk_tool,prof_judgement,crime`;
    const asJson = (row: Record<string, string>) => Object.fromEntries(Object.entries(row).filter(([, value]) => value !== ''));
    const snapshot = () =>
      db.prisma.incident.findMany({
        where: { sourceRef: { in: incidents.map((r) => r.source_ref!) } },
        orderBy: { sourceRef: 'asc' },
        include: { perpetrator: { select: { ref: true, label: true } }, victim: { select: { ref: true, label: true } } },
      });
    const pushed = await pushRecords(db, 'incidents', incidents.map(asJson), 'test');
    expect(pushed).toEqual({ ok: true, counts: { inserted: 3, updated: 0, unchanged: 0 } });
    const afterPush = await snapshot();
    const file = await write('pushed.csv', csvOf(header, incidents));
    expect(await importRecordsFile(db, 'incidents', file, 'test')).toEqual({ inserted: 0, updated: 0, unchanged: 3, rejected: 0 });
    expect(await snapshot()).toEqual(afterPush);

    const changed = incidents.map((row) => ({ ...row, area: 'Test Area Changed' }));
    await writeFile(file, csvOf(header, changed));
    expect(await importRecordsFile(db, 'incidents', file, 'test')).toEqual({ inserted: 0, updated: 3, unchanged: 0, rejected: 0 });
    const afterImport = await snapshot();
    expect(await pushRecords(db, 'incidents', changed.map(asJson), 'test')).toEqual({ ok: true, counts: { inserted: 0, updated: 0, unchanged: 3 } });
    expect(await snapshot()).toEqual(afterImport);
    expect(afterImport.map((s) => s.area)).toEqual(['Test Area Changed', 'Test Area Changed', 'Test Area Changed']);

    const flagHeader = 'perpetrator_ref,kind,note,starts_on,ends_on';
    const flags = [{ perpetrator_ref: 'TEST-P-PUSHED-1', kind: 'bail', note: 'Pushed \\ "note", Zoë', starts_on: '2026-02-01', ends_on: '2026-04-01' }];
    expect(await pushRecords(db, 'flags', flags.map(asJson), 'test')).toEqual({ ok: true, counts: { inserted: 1, updated: 0, unchanged: 0 } });
    expect(await importRecordsFile(db, 'flags', await write('pushed-flags.csv', csvOf(flagHeader, flags)), 'test')).toEqual({ inserted: 0, updated: 0, unchanged: 1, rejected: 0 });

    const contactHeader = 'source_ref,victim_ref,contacted_at,perceived_risk,agency';
    const contacts = [{ source_ref: 'TEST-C-PUSHED-1', victim_ref: 'TEST-V-PUSHED-902', contacted_at: '2026-03-02T10:00:00+01:00', perceived_risk: '7', agency: 'IDVA' }];
    expect(await importRecordsFile(db, 'contacts', await write('pushed-contacts.csv', csvOf(contactHeader, contacts)), 'test')).toEqual({ inserted: 1, updated: 0, unchanged: 0, rejected: 0 });
    expect(await pushRecords(db, 'contacts', contacts.map(asJson), 'test')).toEqual({ ok: true, counts: { inserted: 0, updated: 0, unchanged: 1 } });
  });

  it('lets two imports naming the same new people run at once', async () => {
    const people = (i: number) => ({ perpetrator_ref: `TEST-P-SHARED-${i % 5}`, victim_ref: `TEST-V-SHARED-${i % 6}` });
    const first = await write('shared-1.csv', csvOf(incidentHeader, Array.from({ length: 30 }, (_, i) => incidentRow(1_100 + i, people(i)))));
    const second = await write('shared-2.csv', csvOf(incidentHeader, Array.from({ length: 30 }, (_, i) => incidentRow(1_200 + i, people(29 - i)))));
    const results = await Promise.all([
      importRecordsFile(db, 'incidents', first, 'test', { batchSize: 4 }),
      importRecordsFile(db, 'incidents', second, 'test', { batchSize: 4 }),
    ]);
    expect(results).toEqual([
      { inserted: 30, updated: 0, unchanged: 0, rejected: 0 },
      { inserted: 30, updated: 0, unchanged: 0, rejected: 0 },
    ]);
    expect(await db.prisma.nominal.count({ where: { ref: { contains: '-SHARED-' } } })).toBe(11);
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
