// Streams a CSV export of the records system into the store: validates every row with the record's
// zod schema, writes good rows in batches, and sets bad rows aside in a rejects file beside the input.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { once } from 'node:events';
import { SingleBar } from 'cli-progress';
import { parse } from 'csv-parse';
import { stringify, type Stringifier } from 'csv-stringify';
import { describeProblems, formatProblems, type RecordKind } from '../domain/records.js';
import type { WriteCounts } from '../store/records-repository.js';
import { addCounts, noWrites } from '../store/records-repository.js';

export interface ImportSummary extends WriteCounts {
  rejected: number;
  /** Where rejected rows were written, when there were any. */
  rejectsFile?: string;
}

/** A problem with the file as a whole: nothing was written. */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

export type BatchWriter<T> = (records: T[]) => Promise<WriteCounts>;

export interface CsvImportOptions {
  batchSize?: number;
  showProgress?: boolean;
}

// A record this large is not an export of the records system; stop rather than fill memory.
const maxRecordBytes = 64 * 1024 * 1024;
const maxRejectCellLength = 1_000;

export function rejectsFileFor(file: string): string {
  return `${file}.rejects.csv`;
}

export async function importCsv<T>(
  file: string,
  kind: RecordKind<T>,
  writeBatch: BatchWriter<T>,
  options: CsvImportOptions = {},
): Promise<ImportSummary> {
  const batchSize = options.batchSize ?? 2_000;
  const size = await fileSize(file);
  const rejectsFile = rejectsFileFor(file);
  await rm(rejectsFile, { force: true });

  let header: string[] | undefined;
  const parser = parse({
    bom: true,
    columns: (names: string[]) => {
      header = names.map((name) => name.trim());
      checkHeader(header, kind);
      return header;
    },
    info: true,
    raw: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: maxRecordBytes,
  });

  const rejects = new RejectsFile(rejectsFile);
  parser.on('skip', (error: Error & { lines?: number; code?: string }) => {
    if (error.code === 'CSV_MAX_RECORD_SIZE') {
      parser.destroy(new ImportFileError(`line ${error.lines}: a record larger than ${maxRecordBytes / 1024 / 1024} MB; this is not a records-system export. Rows before it were imported.`));
      return;
    }
    rejects.add(error.lines ?? 0, csvProblem(error), header ?? [], {});
  });

  const progress = options.showProgress ? new SingleBar({ format: 'importing {bar} {percentage}% | {value}/{total} bytes', stream: process.stderr }) : undefined;
  progress?.start(size, 0);
  const input = createReadStream(file);
  const lineEndings = new LfLineEndings((bytes) => progress?.increment(bytes));
  input.on('error', (error) => parser.destroy(error));
  input.pipe(lineEndings).pipe(parser);

  const totals = noWrites();
  let batch: T[] = [];
  let keys = new Set<string>();
  const flush = async () => {
    if (batch.length === 0) return;
    addCounts(totals, await writeBatch(batch));
    batch = [];
    keys = new Set();
  };

  try {
    for await (const row of parser as AsyncIterable<{ record: Record<string, string>; raw: string; info: { lines: number } }>) {
      const line = startLineOf(row.info.lines, row.raw);
      const result = kind.schema.safeParse(cellsAsGiven(row.record));
      if (!result.success) {
        rejects.add(line, formatProblems(describeProblems(result.error)), header ?? [], row.record);
        continue;
      }
      const key = kind.keyOf(result.data);
      // One statement cannot touch a row twice, so a repeated record starts a new batch.
      if (keys.has(key)) await flush();
      batch.push(result.data);
      keys.add(key);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') throw new ImportFileError(`${file}: no such file`);
    if ((error as { code?: string }).code === 'EISDIR') throw new ImportFileError(`${file} is a folder, not a CSV file`);
    throw error;
  } finally {
    progress?.stop();
    await rejects.close();
  }
  if (!header) throw new ImportFileError(`${file} is empty: expected a header line with ${kind.requiredColumns.join(',')}`);
  return { ...totals, rejected: rejects.count, ...(rejects.count > 0 ? { rejectsFile } : {}) };
}

async function fileSize(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new ImportFileError(`${file} is a folder, not a CSV file`);
    return info.size;
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    throw new ImportFileError(`${file}: ${(error as { code?: string }).code === 'ENOENT' ? 'no such file' : 'cannot be read'}`);
  }
}

function checkHeader(header: string[], kind: RecordKind<unknown>): void {
  const known = new Set([...kind.requiredColumns, ...kind.optionalColumns]);
  const missing = kind.requiredColumns.filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !known.has(c));
  const repeated = header.filter((c, i) => header.indexOf(c) !== i);
  const problems = [
    missing.length ? `missing ${missing.join(', ')}` : '',
    unknown.length ? `unknown ${unknown.map((c) => JSON.stringify(c.slice(0, 40))).join(', ')}` : '',
    repeated.length ? `repeated ${repeated.join(', ')}` : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new ImportFileError(
      `The header line is not valid for a file of ${kind.name} (${problems.join('; ')}). Expected columns: ${kind.requiredColumns.join(',')}` +
        (kind.optionalColumns.length ? `, optionally ${kind.optionalColumns.join(',')}` : ''),
    );
  }
}

/** Empty cells mean "not given", as a missing JSON field does. */
function cellsAsGiven(record: Record<string, string>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(record)) out[key] = value === '' ? undefined : value;
  return out;
}

/** csv-parse counts the line a record ends on; a quoted value may span lines, and skipped blank lines lead it. */
function startLineOf(endLine: number, raw: string): number {
  const body = raw.replace(/^\n+/, '').replace(/\n$/, '');
  let newlines = 0;
  for (const ch of body) if (ch === '\n') newlines++;
  return endLine - newlines;
}

function csvProblem(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
    case 'CSV_RECORD_DONT_MATCH_COLUMNS_LENGTH':
      return 'wrong number of columns for the header';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quoted value is not closed properly';
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted value is never closed, to the end of the file';
    default:
      return `not valid CSV (${error.code ?? 'parse error'})`;
  }
}

/** Excel's CRLF becomes LF, so csv-parse's line numbers are right for every export. */
class LfLineEndings extends Transform {
  private pendingCr = false;
  constructor(private readonly onBytes: (bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.onBytes(chunk.length);
    let text = chunk.toString('latin1');
    if (this.pendingCr) text = `\r${text}`;
    this.pendingCr = text.endsWith('\r');
    if (this.pendingCr) text = text.slice(0, -1);
    done(null, Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1'));
  }
  override _flush(done: TransformCallback): void {
    done(null, this.pendingCr ? Buffer.from('\r') : null);
  }
}

class RejectsFile {
  count = 0;
  private out?: Stringifier;
  private file?: WriteStream;

  constructor(private readonly path: string) {}

  add(line: number, reason: string, header: string[], record: Record<string, string>): void {
    if (!this.out) {
      this.file = createWriteStream(this.path);
      this.out = stringify({ header: true, columns: ['line', 'reason', ...header] });
      this.out.pipe(this.file);
    }
    this.count++;
    const cells = header.map((column) => {
      const value = record[column] ?? '';
      return value.length > maxRejectCellLength ? `${value.slice(0, maxRejectCellLength)}…[${value.length} characters]` : value;
    });
    this.out.write([String(line), reason, ...cells]);
  }

  async close(): Promise<void> {
    if (!this.out || !this.file) return;
    this.out.end();
    await once(this.file, 'close');
  }
}
