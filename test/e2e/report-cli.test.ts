// End to end, as a trial lead runs it: `dmm seed --trial`, then `dmm report outcomes` as child processes on
// one store (embedded PGlite; PostgreSQL too when TEST_DATABASE_URL is set), each in a working folder of
// its own. The report's files are read back: report.json in its documented shape (and byte for byte the
// same on a rerun, and on standard output with --json), a self-contained HTML page without references,
// the CSV tables (references only in participants.csv) and a PNG per chart. Bad requests end in one clear
// line, exit 1 (2 for a configuration mistake), and write nothing; every run that reported is audited.
// Then `dmm import contacts` with two bad rows. All data is synthetic (SIM-…, TEST-…).
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutcomeReport } from '../../src/domain/outcome-report.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { createServerDatabase, type TestDatabase } from '../support/databases.js';
import { baseEnv, type DmmRun } from '../support/dmm-process.js';
import { runDmmIn } from '../support/dmm-run-in.js';
import { pngSignature, svgNamespace, urlsIn } from '../report/helpers.js';

/** Wednesday 11 March 2026, 10:00 GMT: "today" for every command; the demo trial enrols 300 days before. */
const now = '2026-03-11T10:00:00Z';
const today = '2026-03-11';
const enrolledOn = '2025-05-15';

const processMs = 150_000;
const slow = 400_000;
const labelPattern = /N-[0-9A-Z]{5}-[0-9A-Z]{5}/;
const reportFiles = ['consort.csv', 'consort.png', 'cumulative.png', 'effects.csv', 'effects.png', 'measures.csv', 'participants.csv', 'powerFew.png', 'rates.png', 'report.html', 'report.json'];
const participantColumns = ['perpetrator_ref', 'arm', 'enrolled_on', 'exited_on', 'exit_reason', 'incidents_pre', 'incidents_during', 'incidents_post', 'crimes_pre', 'crimes_during', 'crimes_post'];

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
  expect(run.code, `exit code; stdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`).toBe(code);
}

/** A refusal: exit 1, one `dmm: …` line on standard error, no stack trace, nothing on standard output. */
function expectRefused(run: DmmRun, message: string): void {
  expectRan(run, 1);
  expect(run.stderr.trim().split('\n'), run.stderr).toEqual([`dmm: ${message}`]);
  expect(run.stdout).toBe('');
}

interface Store {
  env: Record<string, string>;
  /** The store, opened only while no dmm process holds it (PGlite is one process's database). */
  use<T>(fn: (db: Database) => Promise<T>): Promise<T>;
  destroy(): Promise<void>;
}

async function embeddedStore(): Promise<Store> {
  const dir = await tmpDir('dmm-report-cli-');
  return {
    env: { DMM_DATA_DIR: dir },
    async use(fn) {
      const db = await openDatabase({ DMM_DATA_DIR: dir });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    },
    async destroy() {},
  };
}

async function serverStore(): Promise<Store> {
  const db: TestDatabase = await createServerDatabase(process.env.TEST_DATABASE_URL!);
  return { env: db.env, use: (fn) => fn(db), destroy: () => db.destroy() };
}

const targets = [
  { name: 'embedded', create: embeddedStore },
  ...(process.env.TEST_DATABASE_URL ? [{ name: 'postgres', create: serverStore }] : []),
];

function cliEnv(store: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return baseEnv({
    ...store,
    DMM_NOW: now,
    DMM_TIMEZONE: 'Europe/London',
    DMM_HOLIDAYS: 'england-and-wales',
    DMM_SCORING_FILE: '',
    DMM_LEVERS_FILE: '',
    DMM_HARM_FILE: '',
    DMM_TEAMS_CHANNEL: '',
    TEAMS_CLIENT_ID: '',
    TEAMS_CLIENT_SECRET: '',
    TEAMS_TENANT_ID: '',
    ...extra,
  });
}

/** Everything in a folder, by name (an empty list for a folder that is not there). */
async function listing(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir)).sort() : [];
}

describe.each(targets)('dmm report outcomes on the $name store', (target) => {
  let store: Store;
  let env: NodeJS.ProcessEnv;
  /** The working folder of every command: relative paths such as the default `report/` land here. */
  let cwd: string;
  let outDir: string;
  let reportText: string;
  let headlineText: string;
  const dmm = (args: string[], environment: NodeJS.ProcessEnv = env) => runDmmIn(cwd, args, environment, processMs);

  beforeAll(async () => {
    store = await target.create();
    env = cliEnv(store.env);
    cwd = await tmpDir('dmm-report-cwd-');
    outDir = path.join(cwd, 'out');
  }, slow);

  afterAll(async () => {
    await store?.destroy();
  });

  it('dmm seed --trial fills the store with the demo data and the demo trial, and says so', async () => {
    const run = await dmm(['seed', '--trial']);
    expectRan(run);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('Demo data: 90 incidents, 7 flags, 4 members, 4 open actions, 1 panel.');
    expect(lines[1]).toMatch(
      new RegExp(`^Demo trial "demo": 240 perpetrators enrolled on ${enrolledOn} and randomised, [1-9]\\d* incidents, [1-9]\\d* victim contacts, [1-9]\\d* exits; the treatment arm's true rate ratio is 0\\.6\\.$`),
    );
    expect(lines[2]).toBe('See it: dmm report outcomes demo --out report --reason demo');
    expect(lines).toHaveLength(3);
  }, slow);

  it('writes report.json, report.html, the CSV tables and a PNG per chart to --out, and prints the headline', async () => {
    const run = await dmm(['report', 'outcomes', 'demo', '--out', outDir, '--reason', 'test']);
    expectRan(run);
    expect(await listing(outDir)).toEqual(reportFiles);
    headlineText = run.stdout;
    expect(run.stdout.split('\n')[0]).toBe(`Trial demo, outcomes as of ${today} (intention to treat):`);
    expect(run.stdout).toMatch(/^• Offending: ratio of rate ratios \d+\.\d{2} \(95% CI \d+\.\d{2} to \d+\.\d{2}\)$/m);
    expect(run.stdout).toMatch(/^CONSORT: \d+ scored, \d+ eligible, \d+ not randomised, 240 randomised \(treatment \d+, control \d+\);/m);
    expect(run.stdout).not.toContain('SIM-P-');
    expect(run.stderr).toContain(`Wrote ${path.join(outDir, 'report.json')}, ${path.join(outDir, 'report.html')}`);
    for (const png of reportFiles.filter((f) => f.endsWith('.png'))) {
      const bytes = await readFile(path.join(outDir, png));
      expect(bytes.subarray(0, 8).equals(pngSignature), png).toBe(true);
      expect(bytes.length, png).toBeGreaterThan(1000);
    }
    reportText = await readFile(path.join(outDir, 'report.json'), 'utf8');
  }, slow);

  it('report.json has the documented shape, with the known effect found', () => {
    const report = JSON.parse(reportText) as OutcomeReport;
    expect(Object.keys(report).sort()).toEqual(['arms', 'asOf', 'charts', 'consort', 'measures', 'method', 'timeZone', 'trial']);
    expect(report.trial).toMatchObject({ name: 'demo', arms: [{ name: 'treatment', ratio: 1 }, { name: 'control', ratio: 1 }], strata: [], seed: 61125 });
    expect(Number.isInteger(report.trial.bootstrapSeed)).toBe(true);
    expect([report.asOf, report.timeZone]).toEqual([today, 'Europe/London']);
    expect(report.arms.map((a) => a.name)).toEqual(['treatment', 'control']);
    expect(report.arms.reduce((n, a) => n + a.n, 0)).toBe(240);
    expect(report.consort.randomised).toBe(240);
    expect(report.consort.allocated.treatment! + report.consort.allocated.control!).toBe(240);
    for (const [name, measure] of Object.entries(report.measures)) {
      expect(Object.keys(measure.byArm), name).toEqual(['treatment', 'control']);
      for (const arm of ['treatment', 'control']) {
        for (const period of ['pre', 'during', 'post'] as const) {
          const cell = measure.byArm[arm]![period] as unknown as Record<string, unknown>;
          expect(Object.keys(cell), `${name} ${arm} ${period}`).toEqual(expect.arrayContaining(['events', 'personYears', 'rate']));
          expect(typeof cell.events).toBe('number');
        }
      }
      expect(Object.keys(measure.effect).filter((k) => k !== 'note').sort(), name).toEqual(['ci95', 'estimate', 'method', 'n']);
      expect(measure.effect.n, name).toBe(240);
    }
    expect(Object.keys(report.measures).sort()).toEqual(['incidents', 'offending', 'referrals', 'severity', 'victimRisk']);
    const offending = report.measures.offending.effect;
    expect(Array.isArray(offending.ci95)).toBe(true);
    expect(offending.ci95).toHaveLength(2);
    expect(offending.ci95!.every((x) => typeof x === 'number' && Number.isFinite(x))).toBe(true);
    const [low, high] = offending.ci95!;
    // The simulated treatment offends at 0.6 times control's rate: the report finds a reduction.
    expect(low).toBeLessThanOrEqual(offending.estimate!);
    expect(offending.estimate!).toBeLessThanOrEqual(high);
    expect(high).toBeLessThan(1);
    expect(report.method.bootstrap).toMatchObject({ resamples: 2000, seed: report.trial.bootstrapSeed });
    // No reference and no label in the figures.
    expect(reportText).not.toContain('SIM-');
    expect(reportText).not.toMatch(labelPattern);
  });

  it('report.html refers to nothing outside itself and names nobody; only participants.csv has references', async () => {
    const html = await readFile(path.join(outDir, 'report.html'), 'utf8');
    expect(html).toContain('<h1>Outcome report: demo</h1>');
    expect(urlsIn(html).filter((u) => u !== svgNamespace)).toEqual([]);
    expect(html).toContain(svgNamespace);
    expect(html).not.toContain('SIM-P-');
    expect(html).not.toMatch(labelPattern);
    for (const table of ['measures.csv', 'effects.csv', 'consort.csv']) {
      const text = await readFile(path.join(outDir, table), 'utf8');
      expect(text, table).not.toContain('SIM-');
      expect(text, table).not.toMatch(labelPattern);
    }
    const participants = await readFile(path.join(outDir, 'participants.csv'), 'utf8');
    expect(participants.split('\n')[0]).toBe(participantColumns.join(','));
    const rows = parse(participants, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    expect(rows).toHaveLength(240);
    for (const row of rows) expect(row.perpetrator_ref).toMatch(/^SIM-P-\d{4}$/);
    expect(new Set(rows.map((r) => r.perpetrator_ref)).size).toBe(240);
    expect(rows.every((r) => r.enrolled_on === enrolledOn)).toBe(true);
    expect(participants).not.toMatch(labelPattern);
  });

  it('a rerun (to the default folder, report/) writes byte-identical report.json', async () => {
    const defaultDir = path.join(cwd, 'report');
    expect(existsSync(defaultDir)).toBe(false);
    const run = await dmm(['report', 'outcomes', 'demo', '--reason', 'test']);
    expectRan(run);
    expect(await listing(defaultDir)).toEqual(reportFiles);
    expect(await readFile(path.join(defaultDir, 'report.json'), 'utf8')).toBe(reportText);
    expect(run.stdout).toBe(headlineText);
    await rm(defaultDir, { recursive: true });
  }, slow);

  it('--json without --out prints report.json alone, and writes no folder', async () => {
    const before = await listing(cwd);
    const run = await dmm(['report', 'outcomes', 'demo', '--reason', 'test', '--json']);
    expectRan(run);
    expect(() => JSON.parse(run.stdout)).not.toThrow();
    expect(run.stdout).toBe(reportText);
    expect(await listing(cwd)).toEqual(before);
    expect(existsSync(path.join(cwd, 'report'))).toBe(false);
    expect(run.stderr).not.toContain('Wrote');
  }, slow);

  it('refuses an unknown trial, and an --as-of before the enrolment: one line, exit 1, nothing written', async () => {
    const unknownDir = path.join(cwd, 'unknown');
    expectRefused(await dmm(['report', 'outcomes', 'nosuch', '--out', unknownDir, '--reason', 'test']), 'there is no trial "nosuch"; trials: demo');
    expect(existsSync(unknownDir)).toBe(false);
    const earlyDir = path.join(cwd, 'early');
    expectRefused(
      await dmm(['report', 'outcomes', 'demo', '--as-of', '2025-05-14', '--out', earlyDir, '--reason', 'test']),
      `--as-of 2025-05-14 is before the trial's first enrolment (${enrolledOn}): there is nothing to report yet`,
    );
    expect(existsSync(earlyDir)).toBe(false);
  }, slow);

  // These refusals come before the store is opened, so they hold on either store.
  it('refuses --out naming a file, a missing --reason, and a harm table with a negative weight, writing nothing', async () => {
    const file = path.join(cwd, 'not-a-folder');
    await writeFile(file, 'TEST keep me\n');
    const harmFile = path.join(cwd, 'harm.yaml');
    await writeFile(harmFile, 'source: TEST harm index\ndefault_weight: 1\ntable:\n  assault: -5\n  threats: 2\n');
    const noReasonDir = path.join(cwd, 'no-reason');
    const harmDir = path.join(cwd, 'harm-out');
    // None of these opens the store, so they may run side by side.
    const [outFile, noReason, harm] = await Promise.all([
      dmm(['report', 'outcomes', 'demo', '--out', file, '--reason', 'test']),
      dmm(['report', 'outcomes', 'demo', '--out', noReasonDir]),
      dmm(['report', 'outcomes', 'demo', '--out', harmDir, '--reason', 'test'], cliEnv(store.env, { DMM_HARM_FILE: harmFile })),
    ]);

    expectRefused(outFile, `--out ${file} is a file, not a folder: name a folder for the report`);
    expect(await readFile(file, 'utf8')).toBe('TEST keep me\n');

    expect(noReason.code, noReason.stderr).not.toBe(0);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
    expect(noReason.stdout).toBe('');
    expect(existsSync(noReasonDir)).toBe(false);

    expectRan(harm, 2);
    expect(harm.stdout).toBe('');
    const lines = harm.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes('DMM_HARM_FILE')), harm.stderr).toEqual([expect.stringContaining(`DMM_HARM_FILE ${harmFile}: table.assault: must not be negative`)]);
    expect(lines.length, harm.stderr).toBeLessThanOrEqual(2);
    expect(harm.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(harmDir)).toBe(false);
  }, slow);

  it('audited exactly the three runs that reported, each with its reason and who ran it', async () => {
    await store.use(async (db) => {
      const events = await db.prisma.auditEvent.findMany({ where: { action: 'report.outcomes' }, orderBy: { id: 'asc' } });
      expect(events.map((e) => [e.subject, e.reason, e.channel, e.actor])).toEqual(Array.from({ length: 3 }, () => ['demo', 'test', 'cli', `cli:${os.userInfo().username}`]));
      for (const e of events) expect(e.details).toEqual({ asOf: today, resamples: 2000, participants: 240 });
    });
  }, slow);

  it('dmm import contacts sets aside a score of 11 and a row without victim_ref, imports the good row, and exits 1', async () => {
    const dir = await tmpDir('dmm-report-contacts-');
    const file = path.join(dir, 'contacts.csv');
    await writeFile(
      file,
      [
        'source_ref,victim_ref,contacted_at,perceived_risk,agency',
        'TEST-C-001,TEST-V-C01,2026-03-10T10:00:00Z,7,idva',
        'TEST-C-002,TEST-V-C02,2026-03-10T11:00:00Z,11,idva',
        'TEST-C-003,,2026-03-10T12:00:00Z,4,idva',
        '',
      ].join('\n'),
    );
    const run = await dmm(['import', 'contacts', file]);
    expectRan(run, 1);
    expect(run.stdout).toBe(`contacts: inserted 1, updated 0, unchanged 0, rejected 2\nRejected rows, with their line numbers and reasons: ${file}.rejects.csv\n`);
    const rejects = parse(await readFile(`${file}.rejects.csv`, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rejects.map((r) => [r.line, r.source_ref, r.reason])).toEqual([
      ['3', 'TEST-C-002', 'perceived_risk must be a whole number from 0 to 10'],
      ['4', 'TEST-C-003', 'victim_ref is required'],
    ]);
    await store.use(async (db) => {
      const stored = await db.prisma.victimContact.findMany({ where: { sourceRef: { startsWith: 'TEST-C-' } } });
      expect(stored.map((c) => [c.sourceRef, c.perceivedRisk])).toEqual([['TEST-C-001', 7]]);
    });
  }, slow);
});
