// Bulk loads beside Prisma, which has no COPY: a transaction at a time on a connection of their own,
// COPY into a staging table and set-based SQL, on either database.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** Statements run inside one transaction of a bulk session. */
export interface BulkTransaction {
  /** The rows of one statement, with `$1`… parameters. */
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Loads `rows`, in COPY's text format (see `CopyRows`), into those columns of `table`. */
  copyIn(table: string, columns: readonly string[], rows: readonly Buffer[]): Promise<void>;
}

export interface BulkSession {
  /** Runs `work` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: BulkTransaction) => Promise<T>): Promise<T>;
}

/** A session on a connection of its own to the server; `close` ends it. */
export async function openServerBulkSession(url: string): Promise<BulkSession & { close(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  // A connection lost between statements fails the next one, which reports it; unheard, the event would end the process.
  client.on('error', () => {});
  await client.connect();
  const tx: BulkTransaction = {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(sql, params as unknown[])).rows as R[];
    },
    async copyIn(table, columns, rows) {
      const copy = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
      await pipeline(Readable.from(rows), copy);
    },
  };
  return {
    async transaction(work) {
      await client.query('BEGIN');
      try {
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    },
    close: () => client.end().catch(() => {}),
  };
}

/**
 * A session on the embedded database's one connection. Each transaction holds PGlite's transaction
 * lock, so Prisma's queries wait for it rather than run inside it; between transactions they go on.
 */
export function pgliteBulkSession(pglite: PGlite): BulkSession {
  return {
    transaction: (work) =>
      pglite.transaction((tx) =>
        work({
          async query<R>(sql: string, params: readonly unknown[] = []) {
            return (await tx.query<R>(sql, params as unknown[])).rows;
          },
          async copyIn(table, columns, rows) {
            await tx.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], { blob: new Blob([...rows]) });
          },
        }),
      ),
  };
}

const pieceBytes = 256 * 1024;

/**
 * Rows in COPY's text format, written into buffers as they come so no row's strings outlive it: held
 * until their batch is written, they would be promoted out of V8's young generation and cost full
 * collections (measured: a third of an import's time in the garbage collector). The buffers are
 * pieces of a fixed size, filled in turn and filled again once their batch is written (`reuse`), so
 * an import holds about two batches' bytes whatever the file's size.
 */
export class CopyRows {
  private readonly spare: Buffer[] = [];
  private pieces: Buffer[] = [];
  private piece = this.emptyPiece(0);
  private used = 0;

  /** Adds one row: tab-separated values, `\N` for null (see `copyTextRow`). */
  add(values: readonly (string | null)[]): void {
    const row = copyTextRow(values);
    // UTF-8 needs at most three bytes for each UTF-16 code unit.
    const room = row.length * 3;
    if (this.used + room > this.piece.length) {
      this.pieces.push(this.piece.subarray(0, this.used));
      this.piece = this.emptyPiece(room);
      this.used = 0;
    }
    this.used += this.piece.write(row, this.used);
  }

  /** The rows added so far, which are then forgotten here. */
  take(): Buffer[] {
    const rows = [...this.pieces, this.piece.subarray(0, this.used)];
    this.pieces = [];
    this.piece = this.emptyPiece(0);
    this.used = 0;
    return rows;
  }

  /** Takes back the buffers of rows that have been written, to fill them again. */
  reuse(rows: readonly Buffer[]): void {
    for (const row of rows) {
      if (row.buffer.byteLength === pieceBytes) this.spare.push(Buffer.from(row.buffer, 0, pieceBytes));
    }
  }

  private emptyPiece(bytes: number): Buffer {
    return bytes > pieceBytes ? Buffer.allocUnsafe(bytes) : (this.spare.pop() ?? Buffer.allocUnsafe(pieceBytes));
  }
}

/**
 * One row in COPY's text format: tab-separated, `\N` for null, ending in a newline. A backslash, tab,
 * newline or carriage return inside a value is escaped; every other character stands for itself.
 */
export function copyTextRow(values: readonly (string | null)[]): string {
  let row = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (i > 0) row += '\t';
    row += value === null ? '\\N' : needsEscaping(value) ? value.replace(/[\\\t\n\r]/g, escapeOf) : value;
  }
  return `${row}\n`;
}

const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeOf = (character: string) => escapes[character]!;

// A loop, as this runs for every value of an import and almost none needs escaping.
function needsEscaping(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 92 || c === 9 || c === 10 || c === 13) return true;
  }
  return false;
}
