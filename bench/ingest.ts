// Benchmark for CSV ingest: imports a synthetic incidents file into PostgreSQL and sets the rate beside
// two floors of PostgreSQL's own: a bare COPY of the same file, which no importer beats, and a set-based
// load of it into a scratch copy of the schema, which any importer into this schema pays. Prints figures;
// it is not a test.
//
//   npm run bench:ingest                      200,000 rows on postgresql://postgres@127.0.0.1:5432/test
//   BENCH_ROWS=20000 npm run bench:ingest     a quicker run
//   BENCH_BATCH_SIZE=5000 npm run bench:ingest   the importer's batch size (its default when unset)
//   BENCH_DATABASE_URL=...                    the server to make a scratch database on (127.0.0.1 only)
//   BENCH_TIMEOUT_S=900                       give up (and clean up) after this long
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { importRecordsFile } from '../src/app/import-records.js';
import { defaultBatchSize, type ImportSummary } from '../src/ingest/csv-import.js';
import { migratePostgres, openDatabase } from '../src/store/database.js';
import type { TestDatabase } from '../test/support/databases.js';

const rows = positiveInteger('BENCH_ROWS', 200_000);
const batchSize = process.env.BENCH_BATCH_SIZE ? positiveInteger('BENCH_BATCH_SIZE', defaultBatchSize) : undefined;
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
// Long enough for a slow machine at the default size; short enough that a stuck server cannot hold a terminal forever.
const timeoutMs = positiveInteger('BENCH_TIMEOUT_S', 900) * 1000;

const targetShareOfCopy = 0.25;
const targetPeakRssMb = 300;
const columns = [
  'source_ref', 'reported_at', 'occurred_at', 'risk_level', 'category', 'area', 'perpetrator_ref', 'victim_ref',
  'children_present', 'source_system', 'risk_tool', 'prof_judgement', 'crime',
] as const;

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) fail(`${name} must be a positive whole number, not ${JSON.stringify(raw)}`);
  return value;
}

function fail(message: string): never {
  console.error(`bench:ingest: ${message}`);
  process.exit(1);
}

// The bench creates and drops databases, so it must never be pointed at anything but this machine.
function assertLoopback(url: string): void {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    fail('BENCH_DATABASE_URL is not a URL');
  }
  if (host !== '127.0.0.1') fail(`BENCH_DATABASE_URL must name 127.0.0.1, not ${host || '(no host)'}`);
}

/**
 * Writes `count` incidents, seeded so every run compares the same file. The pools of people scale with
 * the row count (about 10 incidents per perpetrator, 8 per victim) so a small run has the same shape
 * as the full one. No value holds a comma, quote or newline, so lines are joined without quoting.
 */
async function writeIncidentsCsv(file: string, count: number): Promise<void> {
  const rng = xoroshiro128plus(20_260_101);
  const int = (lo: number, hi: number) => uniformInt(rng, lo, hi);
  const pick = <T>(values: readonly T[]) => values[int(0, values.length - 1)]!;
  const perpetrators = Math.max(1, Math.round(count / 10));
  const victims = Math.max(1, Math.round(count / 8));
  const categories = Array.from({ length: 12 }, (_, i) => `Bench Category ${i + 1}`);
  const areas = Array.from({ length: 9 }, (_, i) => `Bench Area ${i + 1}`);
  const yearStart = Date.UTC(2025, 0, 1) / 1000;
  const yearSeconds = 365 * 24 * 3600;
  const bool = () => (int(0, 1) === 1 ? 'true' : 'false');

  const out = createWriteStream(file);
  out.write(`${columns.join(',')}\n`);
  let chunk = '';
  for (let i = 1; i <= count; i++) {
    const reported = yearStart + int(0, yearSeconds);
    // One in ten without an occurred time and one in four without a risk tool: both columns are optional.
    const occurred = int(0, 9) === 0 ? '' : new Date((reported - int(0, 72 * 3600)) * 1000).toISOString();
    const level = int(0, 9);
    chunk += [
      `BENCH-INC-${String(i).padStart(7, '0')}`,
      new Date(reported * 1000).toISOString(),
      occurred,
      level < 6 ? 'standard' : level < 9 ? 'medium' : 'high',
      pick(categories),
      pick(areas),
      `BENCH-P-${String(int(1, perpetrators)).padStart(6, '0')}`,
      `BENCH-V-${String(int(1, victims)).padStart(6, '0')}`,
      bool(),
      'bench',
      int(0, 3) === 0 ? '' : pick(['dash', 'dara', 'other']),
      bool(),
      bool(),
    ].join(',') + '\n';
    // Written in slices and with backpressure, so the file never sits in memory whole.
    if (i % 1_000 === 0 || i === count) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await once(out, 'close');
}

/**
 * Generating 200,000 rows grows the V8 heap by tens of MB that it keeps; done in this process, that
 * would count against the importer's memory target. A child process (same flags, so tsx loads it) pays instead.
 */
async function generateInChildProcess(file: string, count: number): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--generate', file, String(count)], { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`generating ${file} failed (exit code ${code})`);
}

/**
 * A fresh database on the server, as the tests' `createServerDatabase` makes one, but migrated in a
 * child process: Prisma's WASM schema engine keeps its memory in whichever process loads it, and
 * `dmm import` never loads it (it only checks that the migrations are applied), so here it would
 * count tens of MB of setup against the importer's memory target.
 */
async function createScratchDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `dmm_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const dropDatabase = async () => {
    const cleanup = new pg.Client({ connectionString: serverUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.end();
  };
  try {
    const child = fork(fileURLToPath(import.meta.url), ['--migrate', url.toString()], { stdio: 'inherit' });
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`migrating the scratch database failed (exit code ${code})`);
    const db = await openDatabase({ DATABASE_URL: url.toString(), DMM_DATA_DIR: '', DMM_DB_POOL_SIZE: 5 });
    return {
      ...db,
      env: { DATABASE_URL: url.toString() },
      async destroy() {
        await db.close();
        await dropDatabase();
      },
    };
  } catch (error) {
    await dropDatabase().catch(() => {});
    throw error;
  }
}

const mb = (bytes: number) => bytes / 1024 / 1024;

/**
 * Peak RSS while `work` runs. A timer can only fire between the importer's awaits, so a long
 * synchronous stretch could hide a brief peak; the closing sample and the OS's lifetime maximum
 * (`resourceUsage().maxRSS`, printed too) cover that.
 */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = process.memoryUsage().rss;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 50);
  try {
    const result = await work();
    sample();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - start) / 1000 };
}

/**
 * The same columns as plain typed columns, with no key, index, constraint or enum: what is left is
 * parsing and storing the rows, which any importer has to pay for too. A logged table, like `incident`.
 */
const scratchColumns = `
  source_ref text, reported_at timestamptz, occurred_at timestamptz, risk_level text, category text, area text,
  perpetrator_ref text, victim_ref text, children_present boolean, source_system text, risk_tool text,
  prof_judgement boolean, crime boolean`;

// A floor is the best PostgreSQL can do; one run swings with whatever else the machine is doing.
const copyRuns = 3;
const setBasedRuns = 3;

/** Seconds for each COPY of the file into a fresh scratch table, and the rows the last one stored. */
async function copyIntoScratch(url: string, file: string): Promise<{ seconds: number[]; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const seconds: number[] = [];
    let rows = 0;
    for (let run = 1; run <= copyRuns; run++) {
      const table = `bench_copy_floor_${run}`;
      await client.query(`CREATE TABLE ${table} (${scratchColumns})`);
      const copy = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`));
      const start = performance.now();
      await pipeline(createReadStream(file), copy);
      seconds.push((performance.now() - start) / 1000);
      rows = copy.rowCount;
      // Dropped at once so later runs write into as empty a database as the first did.
      await client.query(`DROP TABLE ${table}`);
    }
    return { seconds, rows };
  } finally {
    await client.end();
  }
}

/**
 * Seconds for each set-based load of the file into scratch copies of `nominal` and `incident` (the same
 * columns, defaults, keys and indexes, and the foreign keys between them), and the incidents the last
 * one stored: COPY into a staging table, the distinct people into nominal (labelled in SQL), then one
 * INSERT…SELECT joining each row to its two people, in one transaction. No upsert, no counts, no
 * validation: the least any importer into this schema pays PostgreSQL for the same rows.
 */
async function setBasedLoad(url: string, file: string): Promise<{ seconds: number[]; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const seconds: number[] = [];
    let rows = 0;
    for (let run = 1; run <= setBasedRuns; run++) {
      await client.query(`
        CREATE TABLE bench_floor_nominal (LIKE nominal INCLUDING ALL);
        CREATE TABLE bench_floor_incident (LIKE incident INCLUDING ALL,
          FOREIGN KEY (perpetrator_id) REFERENCES bench_floor_nominal (id),
          FOREIGN KEY (victim_id) REFERENCES bench_floor_nominal (id))`);
      const start = performance.now();
      await client.query(`BEGIN; CREATE TEMP TABLE bench_floor_stage (${scratchColumns}) ON COMMIT DROP`);
      await pipeline(createReadStream(file), client.query(copyFrom(`COPY bench_floor_stage (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`)));
      await client.query(`
        INSERT INTO bench_floor_nominal (ref, label)
        SELECT ref, 'N-' || left(md5(ref), 11) FROM (SELECT perpetrator_ref FROM bench_floor_stage UNION SELECT victim_ref FROM bench_floor_stage) AS person(ref)`);
      const inserted = await client.query(`
        INSERT INTO bench_floor_incident (source_system, source_ref, reported_at, occurred_at, risk_tool, risk_level,
                                          prof_judgement, category, crime, area, children_present, perpetrator_id, victim_id)
        SELECT s.source_system, s.source_ref, s.reported_at, s.occurred_at, s.risk_tool::"RiskTool", s.risk_level::"RiskLevel",
               s.prof_judgement, s.category, s.crime, s.area, s.children_present, p.id, v.id
        FROM bench_floor_stage s
        JOIN bench_floor_nominal p ON p.ref = s.perpetrator_ref
        JOIN bench_floor_nominal v ON v.ref = s.victim_ref`);
      await client.query('COMMIT');
      seconds.push((performance.now() - start) / 1000);
      rows = inserted.rowCount ?? 0;
      await client.query('DROP TABLE bench_floor_incident, bench_floor_nominal');
    }
    return { seconds, rows };
  } finally {
    await client.end();
  }
}

/** Figures from an import that did not write what it should are meaningless, so the run fails. */
function checkCounts(summary: ImportSummary, expected: Partial<ImportSummary>): string | undefined {
  const wrong = Object.entries(expected).filter(([key, value]) => summary[key as keyof ImportSummary] !== value);
  return wrong.length === 0 ? undefined : `expected ${wrong.map(([k, v]) => `${k}=${v}`).join(', ')}`;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  // Text columns left-aligned, figures right-aligned.
  const cell = (text: string, i: number) => (i === 0 || !/^[\d≥<.,% MBs-]+$/.test(text) ? text.padEnd(widths[i]!) : text.padStart(widths[i]!));
  for (const row of rows) console.log(`  ${row.map(cell).join('   ').trimEnd()}`);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-GB');

/** Runs the benchmark; false when a step wrote other rows than it should have. */
async function main(): Promise<boolean> {
  assertLoopback(serverUrl);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dmm-bench-ingest-'));
  let db: TestDatabase | undefined;
  // Whatever ends the run (finishing, failing, Ctrl-C, the watchdog), the scratch database and file go.
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await db?.destroy().catch((error) => console.error(`could not drop the scratch database: ${error}`));
      await rm(dir, { recursive: true, force: true });
    })());
  const abandon = async (why: string) => {
    console.error(`bench:ingest: ${why}; cleaning up`);
    await Promise.race([cleanUp(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    process.exit(1);
  };
  process.once('SIGINT', () => void abandon('interrupted'));
  setTimeout(() => void abandon(`still running after ${timeoutMs / 1000} s`), timeoutMs).unref();

  try {
    const file = path.join(dir, 'incidents.csv');
    const generated = await timed(() => generateInChildProcess(file, rows));
    const bytes = (await stat(file)).size;
    console.log(`generated ${fmt(rows)} incidents (${mb(bytes).toFixed(1)} MB) in ${generated.seconds.toFixed(1)} s`);

    db = await createScratchDatabase(serverUrl);
    const url = db.env.DATABASE_URL!;
    const server = await db.prisma.$queryRaw<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
    console.log(`PostgreSQL ${server[0]?.v} at ${new URL(url).host}, Node ${process.version}, batch size ${batchSize ?? `default (${defaultBatchSize})`}`);

    const options = batchSize ? { batchSize } : {};
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const first = await withPeakRss(() => timed(() => importRecordsFile(db!, 'incidents', file, 'bench', options)));

    // A second run of the same file is what a nightly re-export looks like: every row already stored.
    global.gc?.();
    const again = await withPeakRss(() => timed(() => importRecordsFile(db!, 'incidents', file, 'bench', options)));

    const copy = await copyIntoScratch(url, file);
    const copySeconds = Math.min(...copy.seconds);
    const setBased = await setBasedLoad(url, file);
    const setBasedSeconds = Math.min(...setBased.seconds);

    const importRate = rows / first.result.seconds;
    const reimportRate = rows / again.result.seconds;
    const copyRate = copy.rows / copySeconds;
    const setBasedRate = setBased.rows / setBasedSeconds;
    const share = importRate / copyRate;
    const peakMb = mb(Math.max(first.peak, again.peak));
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

    console.log('');
    printTable([
      ['', 'seconds', 'rows/s', 'of COPY', 'of set-based load'],
      ['import (new rows)', first.result.seconds.toFixed(2), fmt(importRate), pct(share), pct(importRate / setBasedRate)],
      ['re-import (all unchanged)', again.result.seconds.toFixed(2), fmt(reimportRate), pct(reimportRate / copyRate), pct(reimportRate / setBasedRate)],
      [`set-based load into the schema, best of ${setBasedRuns}`, setBasedSeconds.toFixed(2), fmt(setBasedRate), pct(setBasedRate / copyRate), '100.0%'],
      [`COPY into scratch table, best of ${copyRuns}`, copySeconds.toFixed(2), fmt(copyRate), '100.0%', '-'],
    ]);
    console.log(`  (COPY runs: ${copy.seconds.map((x) => x.toFixed(2)).join(' s, ')} s; set-based load runs: ${setBased.seconds.map((x) => x.toFixed(2)).join(' s, ')} s)`);
    console.log('  The set-based load is COPY into a staging table, then INSERT…SELECT into scratch copies of nominal and');
    console.log("  incident with their keys, indexes and foreign keys: PostgreSQL's own work for these rows in this schema.");
    console.log('');
    printTable([
      ['target', 'figure', 'goal', ''],
      ['import rate / COPY rate', pct(share), `≥ ${targetShareOfCopy * 100}%`, met(share >= targetShareOfCopy)],
      ['peak RSS during imports', `${peakMb.toFixed(0)} MB`, `< ${targetPeakRssMb} MB`, met(peakMb < targetPeakRssMb)],
    ]);
    console.log(
      `  RSS: ${mb(rssBefore).toFixed(0)} MB before importing, peak ${mb(first.peak).toFixed(0)} MB in the import and ` +
        `${mb(again.peak).toFixed(0)} MB in the re-import; the OS's maximum for the process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
    );

    const problems = [
      ['import', checkCounts(first.result.result, { inserted: rows, updated: 0, unchanged: 0, rejected: 0 })],
      ['re-import', checkCounts(again.result.result, { inserted: 0, updated: 0, unchanged: rows, rejected: 0 })],
      ['COPY', copy.rows === rows ? undefined : `expected ${rows} rows`],
      ['set-based load', setBased.rows === rows ? undefined : `expected ${rows} rows`],
    ].filter(([, problem]) => problem !== undefined);
    console.log('');
    console.log(`  import:    ${JSON.stringify(first.result.result)}`);
    console.log(`  re-import: ${JSON.stringify(again.result.result)}`);
    console.log(`  COPY:      ${copy.rows} rows`);
    console.log(`  set-based: ${setBased.rows} rows`);
    for (const [what, problem] of problems) console.error(`bench:ingest: the ${what} wrote the wrong rows (${problem}); its figures mean nothing`);
    return problems.length === 0;
  } finally {
    await cleanUp();
  }
}

const run =
  process.argv[2] === '--generate'
    ? () => writeIncidentsCsv(process.argv[3]!, Number(process.argv[4]))
    : process.argv[2] === '--migrate'
      ? async () => void (await migratePostgres(process.argv[3]!))
      : main;
run().then(
  // Prisma's engine and pools can hold the event loop open after the work is done.
  (ok) => process.exit(ok === false ? 1 : 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
