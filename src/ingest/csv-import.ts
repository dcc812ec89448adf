// Streams a CSV export of the records system into the store: validates every row with the record's
// zod schema, writes good rows in batches, and sets bad rows aside in a rejects file beside the input.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { once } from 'node:events';
import { SingleBar } from 'cli-progress';
import { Parser, type CsvError, type Options as CsvParseOptions } from 'csv-parse';
import { stringify, type Stringifier } from 'csv-stringify';
import { describeProblems, formatProblems, type RecordKind } from '../domain/records.js';
import { reasonOf } from '../store/database.js';
import { addCounts, noWrites, type BatchWriter, type WriteCounts } from '../store/records-repository.js';

export interface ImportSummary extends WriteCounts {
  rejected: number;
  /** Where rejected rows were written, when there were any. */
  rejectsFile?: string;
}

/**
 * A problem that stops an import, in words for the person running it: with the file as a whole
 * (nothing was written), or with one row or batch of it (the batches before it were kept).
 */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

export interface CsvImportOptions {
  batchSize?: number;
  showProgress?: boolean;
}

// A record this large is not an export of the records system; stop rather than fill memory.
const maxRecordBytes = 64 * 1024 * 1024;
/**
 * Rows per batch (one transaction each) unless told otherwise; the first batches are smaller (see
 * `importCsv`). Measured with bench/ingest.ts (200,000 rows): 50,000 imports new rows some 10% faster
 * than 20,000 for some 25 MB more peak memory; 100,000 was no faster.
 */
export const defaultBatchSize = 50_000;
const maxRejectCellLength = 1_000;

export function rejectsFileFor(file: string): string {
  return `${file}.rejects.csv`;
}

export async function importCsv<T>(
  file: string,
  kind: RecordKind<T>,
  writer: BatchWriter<T>,
  options: CsvImportOptions = {},
): Promise<ImportSummary> {
  const batchSize = options.batchSize ?? defaultBatchSize;
  const size = await fileSize(file);
  const rejectsFile = rejectsFileFor(file);
  await rm(rejectsFile, { force: true });

  const parser = new NumberedCsvParser({
    bom: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: maxRecordBytes,
  });
  const rejects = new RejectsFile(rejectsFile);

  const progress = options.showProgress ? new SingleBar({ format: 'importing {bar} {percentage}% | {value}/{total} bytes', stream: process.stderr }) : undefined;
  progress?.start(size, 0);
  const input = createReadStream(file);
  const lineEndings = new LfLineEndings((bytes) => progress?.increment(bytes));
  input.on('error', (error) => parser.destroy(error));
  input.pipe(lineEndings).pipe(parser);

  // The next batch is read and checked while the last one is written. At most one write is in flight,
  // so batches are written in file order and no more than two are held in memory.
  const totals = noWrites();
  let writing: Promise<void> | undefined;
  let batch = { size: 0, firstLine: 0, lastLine: 0 };
  let keys = new Set<string>();
  // The store is idle until the first batch is read, so that one is small; each next one doubles, up to `batchSize`.
  let batchLimit = Math.ceil(batchSize / 8);
  const flush = async () => {
    if (batch.size === 0) return;
    const lines = batch;
    batch = { size: 0, firstLine: 0, lastLine: 0 };
    keys = new Set();
    batchLimit = Math.min(batchLimit * 2, batchSize);
    await writing;
    const stored = { ...totals };
    writing = writer.flush().then(
      (counts) => {
        addCounts(totals, counts);
      },
      (error: unknown) => {
        throw new ImportFileError(
          `lines ${lines.firstLine}-${lines.lastLine} could not be stored (${reasonOf(error)}). ` +
            `Nothing from line ${lines.firstLine} on was imported; the rows before it were (inserted ${stored.inserted}, updated ${stored.updated}, unchanged ${stored.unchanged}).`,
        );
      },
    );
    // A failed write stops the reading at once; the error itself is thrown where `writing` is awaited.
    writing.catch((error: unknown) => parser.destroy(error as Error));
  };

  let header: string[] | undefined;
  try {
    for await (const item of parser as AsyncIterable<ParsedItem>) {
      if ('skipped' in item) {
        rejects.add(Number(item.skipped.lines ?? 0), csvProblem(item.skipped), header ?? [], []);
        continue;
      }
      const { cells } = item;
      if (!header) {
        header = cells.map((name) => name.trim());
        checkHeader(header, kind);
        continue;
      }
      const result = kind.schema.safeParse(cellsAsGiven(header, cells));
      if (!result.success) {
        rejects.add(startLineOf(item.endLine, cells), formatProblems(describeProblems(result.error)), header, cells);
        continue;
      }
      const key = kind.keyOf(result.data);
      // One statement cannot touch a row twice, so a repeated record starts a new batch.
      if (keys.has(key)) await flush();
      writer.add(result.data);
      keys.add(key);
      if (batch.size++ === 0) batch.firstLine = startLineOf(item.endLine, cells);
      batch.lastLine = item.endLine;
      if (batch.size >= batchLimit) await flush();
    }
    await flush();
    await writing;
  } catch (error) {
    // Whatever stopped the import, the write in flight settles before the import reports back.
    await writing?.catch(() => {});
    if ((error as { code?: string }).code === 'ENOENT') throw new ImportFileError(`${file}: no such file`);
    if ((error as { code?: string }).code === 'EISDIR') throw new ImportFileError(`${file} is a folder, not a CSV file`);
    throw error;
  } finally {
    input.destroy();
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
function cellsAsGiven(header: string[], cells: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (let i = 0; i < header.length; i++) {
    const value = cells[i]!;
    out[header[i]!] = value === '' ? undefined : value;
  }
  return out;
}

/** csv-parse counts the line a record ends on; a quoted value may span lines (a lone CR counts as one, as csv-parse counts it). */
function startLineOf(endLine: number, cells: string[]): number {
  let breaks = 0;
  for (const cell of cells) {
    for (let i = 0; i < cell.length; i++) {
      const ch = cell.charCodeAt(i);
      if (ch === 10 || ch === 13) breaks++;
    }
  }
  return endLine - breaks;
}

function csvProblem(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
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

type ParsedItem = { cells: string[]; endLine: number } | { skipped: CsvError };

/**
 * csv-parse giving each record as its cells and the line it ends on. (Its `info` option copies the
 * parser's whole state for every record, and `columns` defines a property per cell: together a third
 * of the import's reading time.) csv-parse pushes a record the moment it is complete, while
 * `info.lines` is still the line the record ends on. A record it skips as malformed comes through in
 * its place, so the rejects file keeps the file's order; one too large to be a records-system export
 * stops the import at once.
 */
class NumberedCsvParser extends Parser {
  constructor(options: CsvParseOptions) {
    super(options);
    this.on('skip', (error: CsvError) => {
      if (error.code === 'CSV_MAX_RECORD_SIZE') {
        this.destroy(new ImportFileError(`line ${error.lines}: a record larger than ${maxRecordBytes / 1024 / 1024} MB; this is not a records-system export. Rows before it were imported.`));
      } else {
        this.push({ skipped: error } satisfies ParsedItem);
      }
    });
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    return super.push(Array.isArray(chunk) ? ({ cells: chunk as string[], endLine: this.info.lines } satisfies ParsedItem) : chunk, encoding);
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
    // Most exports have no CR at all: those bytes pass through untouched.
    if (!this.pendingCr && !chunk.includes(13)) {
      done(null, chunk);
      return;
    }
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

  /** `cells` are in the order of `header` (none for a row that is not valid CSV). */
  add(line: number, reason: string, header: string[], cells: string[]): void {
    if (!this.out) {
      this.file = createWriteStream(this.path);
      this.out = stringify({ header: true, columns: ['line', 'reason', ...header] });
      this.out.pipe(this.file);
    }
    this.count++;
    const shown = header.map((_, i) => {
      const value = cells[i] ?? '';
      return value.length > maxRejectCellLength ? `${value.slice(0, maxRejectCellLength)}…[${value.length} characters]` : value;
    });
    this.out.write([String(line), reason, ...shown]);
  }

  async close(): Promise<void> {
    if (!this.out || !this.file) return;
    this.out.end();
    await once(this.file, 'close');
  }
}
