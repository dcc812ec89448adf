// The bulk session on each database: COPY's text format carries any text byte for byte, and a
// transaction that fails leaves nothing behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyTextRow, CopyRows } from '../../src/store/bulk-session.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

const awkwardTexts = [
  'plain',
  '',
  'tab\there',
  'new\nline',
  'carriage\rreturn and CRLF\r\n',
  'back\\slash, and \\N, \\t and \\. written out',
  '\\',
  '\\.',
  'NULL',
  'null',
  '"double" and \'single\' quotes, a comma, a {brace}',
  'Ünïcödé: Zoë, 北京, مرحبا, emoji 👩‍👧 and a combining e\u0301',
  'x'.repeat(10_000),
];

describe('COPY text rows', () => {
  it('escape backslash, tab, newline and carriage return, and write null as \\N', () => {
    expect(copyTextRow(['a\tb', null, 'c\\d', 'e\nf\rg', ''])).toBe('a\\tb\t\\N\tc\\\\d\te\\nf\\rg\t\n');
  });

  it('fill as many buffers as the rows need, and start empty again once taken', () => {
    const rows = new CopyRows();
    const long = 'y'.repeat(700_000);
    const many = Array.from({ length: 20_000 }, (_, i) => `row ${i} é`);
    rows.add([long]);
    for (const text of many) rows.add([text]);
    rows.add([long, null]);
    expect(Buffer.concat(rows.take()).toString('utf8')).toBe(`${long}\n${many.map((text) => `${text}\n`).join('')}${long}\t\\N\n`);
    rows.add(['z']);
    expect(Buffer.concat(rows.take()).toString('utf8')).toBe('z\n');
  });

  it('fill written buffers again without disturbing the rows taken since', () => {
    const rows = new CopyRows();
    const texts = (from: number) => Array.from({ length: 30_000 }, (_, i) => `row ${from + i}`);
    for (const text of texts(0)) rows.add([text]);
    const first = rows.take();
    for (const text of texts(30_000)) rows.add([text]);
    const second = rows.take();
    rows.reuse(first);
    for (const text of texts(60_000)) rows.add([text]);
    const third = rows.take();
    expect(third.some((piece) => first.some((old) => old.buffer === piece.buffer))).toBe(true);
    expect(Buffer.concat(second).toString('utf8')).toBe(texts(30_000).map((text) => `${text}\n`).join(''));
    expect(Buffer.concat(third).toString('utf8')).toBe(texts(60_000).map((text) => `${text}\n`).join(''));
  });
});

describe.each(databaseTargets)('bulk session on $name', (target) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await target.create();
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('copies every text back exactly as it went in, and null as null', async () => {
    const rows = new CopyRows();
    awkwardTexts.forEach((text, i) => rows.add([String(i), text, i % 2 ? null : text]));
    const stored = await db.withBulkSession((session) =>
      session.transaction(async (tx) => {
        await tx.query('CREATE TEMP TABLE copy_check (n integer, text_value text, maybe text) ON COMMIT DROP');
        await tx.copyIn('copy_check', ['n', 'text_value', 'maybe'], rows.take());
        return tx.query<{ n: number; text_value: string; maybe: string | null }>('SELECT n, text_value, maybe FROM copy_check ORDER BY n');
      }),
    );
    expect(stored).toEqual(awkwardTexts.map((text, i) => ({ n: i, text_value: text, maybe: i % 2 ? null : text })));
  });

  it('rolls a failed transaction back and carries on with the next', async () => {
    await db.prisma.$executeRawUnsafe('CREATE TABLE bulk_check (n integer PRIMARY KEY)');
    await db.withBulkSession(async (session) => {
      const failed = session.transaction(async (tx) => {
        await tx.query('INSERT INTO bulk_check VALUES (1)');
        await tx.query('INSERT INTO bulk_check VALUES (1)');
      });
      await expect(failed).rejects.toThrow(/duplicate key/);
      await session.transaction((tx) => tx.query('INSERT INTO bulk_check VALUES (2)'));
    });
    expect(await db.prisma.$queryRawUnsafe('SELECT n FROM bulk_check')).toEqual([{ n: 2 }]);
  });
});
