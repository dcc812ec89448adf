// Helpers the benchmarks share: settings from the environment, the loopback guard, the clean-up on any
// ending, timing and the printed tables. Benchmarks print figures; they are not tests.

/** Prefixes every complaint with the bench's name (`bench:agenda: …`). */
export function benchName(name: string): { fail(message: string): never } {
  return {
    fail(message: string): never {
      console.error(`${name}: ${message}`);
      process.exit(1);
    },
  };
}

export function positiveInteger(fail: (message: string) => never, name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) fail(`${name} must be a positive whole number, not ${JSON.stringify(raw)}`);
  return value;
}

export function positiveNumber(fail: (message: string) => never, name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) fail(`${name} must be a number above 0, not ${JSON.stringify(raw)}`);
  return value;
}

/** A list of positive whole numbers, e.g. `BENCH_CONCURRENCY=1,8,16`. */
export function positiveIntegers(fail: (message: string) => never, name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) {
    fail(`${name} must be positive whole numbers separated by commas, not ${JSON.stringify(raw)}`);
  }
  return values;
}

export const defaultServerUrl = 'postgresql://postgres@127.0.0.1:5432/test';

/** The benches create and drop databases and open servers, so they must never reach past this machine. */
export function assertLoopback(fail: (message: string) => never, url: string, what = 'BENCH_DATABASE_URL'): void {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    fail(`${what} is not a URL`);
  }
  if (host !== '127.0.0.1') fail(`${what} must name 127.0.0.1, not ${host || '(no host)'}`);
}

/**
 * Runs `main` so that whatever ends it (finishing, failing, Ctrl-C, the watchdog after `timeoutMs`) runs
 * `cleanUp` once, then exits: Prisma's pools and servers can hold the event loop open after the work.
 */
export function runBench(name: string, timeoutMs: number, main: () => Promise<boolean | void>, cleanUp: () => Promise<void>): void {
  let cleaning: Promise<void> | undefined;
  const cleanOnce = () => (cleaning ??= cleanUp().catch((error) => console.error(`${name}: clean-up failed: ${error}`)));
  const abandon = async (why: string) => {
    console.error(`${name}: ${why}; cleaning up`);
    await Promise.race([cleanOnce(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    process.exit(1);
  };
  process.once('SIGINT', () => void abandon('interrupted'));
  setTimeout(() => void abandon(`still running after ${timeoutMs / 1000} s`), timeoutMs).unref();
  main()
    .then(
      async (ok) => {
        await cleanOnce();
        process.exit(ok === false ? 1 : 0);
      },
      async (error) => {
        console.error(error);
        await cleanOnce();
        process.exit(1);
      },
    );
}

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await work();
  return { result, ms: performance.now() - start };
}

/** The nearest-rank percentile of `values` (p in 0..100). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Prints rows as columns: text left-aligned, figures right-aligned. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const cell = (text: string, i: number) =>
    i === 0 || !/^[\d≥≤<>.,%x× MBms-]+$/.test(text) ? text.padEnd(widths[i]!) : text.padStart(widths[i]!);
  for (const row of rows) console.log(`  ${row.map((text, i) => cell(text ?? '', i)).join('   ').trimEnd()}`);
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-GB');
export const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
