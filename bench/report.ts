// Benchmark for the trial's outcome report on a force-sized store (the agenda and score benches' store): enrols
// the 2,000 highest-scored perpetrators a year before the data ends, adds victim contacts, MARAC flags and some
// exits so every measure has data, then times `outcomeReport` (2,000 bootstrap resamples) and `writeReport`
// (charts, HTML, CSV, PNG) end to end, beside the plain SQL that fetches the same per-perpetrator rows into
// memory (the floor). Prints figures; it is not a test (it fails only on a correctness failure: the app and the
// floor disagree, the report is not the same twice, or a file is missing).
//
//   npm run bench:report                      1,000,000 incidents, 200,000 nominals; 2,000 enrolled on 2025-06-17, reported as of 2026-06-17
//   BENCH_SCALE=0.05 npm run bench:report     a twentieth of everything (the same ~275 incidents a day, over 6 months;
//                                             enrolment half way through a history shorter than two years)
//   BENCH_RUNS=5                              timed runs, after BENCH_WARMUP (1) untimed ones
//   BENCH_TOP=2000                            perpetrators enrolled
//   BENCH_RESAMPLES=2000                      bootstrap resamples (the protocol's least)
//   BENCH_CONTACTS=5000                       victim contacts added for the enrolled perpetrators' victims
//   BENCH_KEEP_REPORT=1                       leave the last run's report folder in place (its path is printed)
//   BENCH_DATABASE_URL=...                    the server to make a scratch database on (127.0.0.1 only)
//   BENCH_TIMEOUT_S=1800                      give up (and clean up) after this long
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import pg from 'pg';
import { createTrial, trialNamed } from '../src/app/create-trial.js';
import { enrolTrial } from '../src/app/enrol-trial.js';
import { exitFromTrial } from '../src/app/leave-trial.js';
import { outcomeReport, type OutcomeReportRun, type ReportSettings } from '../src/app/report-outcomes.js';
import { scoreAsOf } from '../src/app/score-perpetrators.js';
import type { HarmSettings, ScoringSettings } from '../src/config.js';
import { cutoffOf } from '../src/domain/agenda-window.js';
import { addCalendarDays, type LocalDate } from '../src/domain/calendar.js';
import { defaultLeverConfig } from '../src/domain/levers.js';
import { outcomeMeasures, type ParticipantRecord } from '../src/domain/outcomes.js';
import { contactRecordSchema, flagRecordSchema, type ContactRecord, type FlagRecord } from '../src/domain/records.js';
import { defaultScoringConfig, scoringConfigHash } from '../src/domain/scoring.js';
import { exitReasons } from '../src/domain/trial.js';
import { renderCharts, svgToPng, type Chart } from '../src/report/charts.js';
import { renderCsvTables, renderReportHtml } from '../src/report/html.js';
import { reportJson, writeReport } from '../src/report/write-report.js';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { PostgresAdapterFactory } from '../src/store/adapters.js';
import type { Database } from '../src/store/database.js';
import { groupBy, participantsOf } from '../src/store/outcomes-repository.js';
import { upsertContacts, upsertFlags } from '../src/store/records-repository.js';
import { createServerDatabase, type TestDatabase } from '../test/support/databases.js';
import { testMeeting } from '../test/support/meetings.js';
import {
  assertLoopback,
  benchName,
  defaultServerUrl,
  fmt,
  median,
  met,
  percentile,
  positiveInteger,
  positiveNumber,
  printTable,
  runBench,
  timed,
} from './support.js';
import { dataEnd, loadStore, storeSizes } from './support-store.js';

const { fail } = benchName('bench:report');
const scale = positiveNumber(fail, 'BENCH_SCALE', 1);
const runs = positiveInteger(fail, 'BENCH_RUNS', 5);
const warmups = Number(process.env.BENCH_WARMUP ?? 1);
const top = positiveInteger(fail, 'BENCH_TOP', 2000);
const resamples = positiveInteger(fail, 'BENCH_RESAMPLES', 2000);
const contactCount = positiveInteger(fail, 'BENCH_CONTACTS', 5000);
const keepReport = process.env.BENCH_KEEP_REPORT === '1';
const serverUrl = process.env.BENCH_DATABASE_URL ?? defaultServerUrl;
const timeoutMs = positiveInteger(fail, 'BENCH_TIMEOUT_S', 1800) * 1000;
if (!Number.isInteger(warmups) || warmups < 0) fail(`BENCH_WARMUP must be a whole number, not ${JSON.stringify(process.env.BENCH_WARMUP)}`);

const targetMs = 10_000;
// The pool the app's server database gets in createServerDatabase; the floor gets as many connections.
const poolSize = 5;
const timeZone = 'Europe/London';
const actor = 'bench';

const meeting = testMeeting();
const sizes = storeSizes(scale);
const scoring: ScoringSettings = { config: defaultScoringConfig, hash: scoringConfigHash(defaultScoringConfig), source: 'bench' };
const harm: HarmSettings = { table: defaultScoringConfig.gravity.table, defaultWeight: defaultScoringConfig.gravity.default_weight, source: 'bench' };
const settings: ReportSettings = { scoring, harm, timeZone };

/** The report's day: the data's last day (it ends at the start of 18 Jun 2026 UTC). */
const asOf = addCalendarDays(dataEnd.toISOString().slice(0, 10), -1);
/** Enrolment a year before; on a shortened history (a small scale), half way through it so scoring finds people. */
const enrolOn = addCalendarDays(asOf, -Math.min(365, Math.floor(sizes.spanDays / 2)));

/** The same category spellings as bench:score: ten the default gravity table weights (some spelt oddly) and three it does not. */
const categories = [
  'Strangulation',
  'Sexual Offence',
  'Assault',
  'ASSAULT',
  'Coercive Control',
  'Stalking',
  'Threats',
  'Harassment',
  ' Breach of Order ',
  'Criminal Damage',
  'Verbal Argument',
  'verbal argument',
  'Concern for Welfare',
  'Child Contact Dispute',
  'Other',
];

/** A deterministic uniform [0,1) (mulberry32): the same contacts, flags and exits on every run and machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- setup (untimed): the trial, its enrolment, contacts, MARAC flags and exits ----

interface Setup {
  trialId: number;
  enrolled: number;
  byArm: Record<string, number>;
  contacts: number;
  flags: number;
  exits: number;
}

/**
 * The setup's own Prisma client on the same database: at force scale enrolTrial's transaction (every eligible
 * candidate recorded, 2,000 allocations, their flags and audit rows) outlasts Prisma's default 5 s limit.
 */
function setupDatabase(db: TestDatabase): Database {
  const prisma = new PrismaClient({ adapter: new PostgresAdapterFactory(db.env.DATABASE_URL!, poolSize), transactionOptions: { timeout: 600_000, maxWait: 60_000 } });
  return { ...db, prisma, close: () => prisma.$disconnect() };
}

async function setUp(db: Database, pool: pg.Pool): Promise<Setup> {
  const created = await timed(() => createTrial(db, { name: 'bench', arms: 'treatment,control', seed: '1', from: enrolOn, levers: defaultLeverConfig }, actor));
  const enrolment = await timed(() => enrolTrial(db, scoring, timeZone, { trial: 'bench', asOf: enrolOn, top }, actor));
  const enrolled = enrolment.result;
  console.log(`  created the trial in ${created.ms.toFixed(0)} ms, enrolled in ${(enrolment.ms / 1000).toFixed(1)} s`);
  if (enrolled.kind !== 'enrolled') return fail(`the enrolment did nothing (${enrolled.kind})`);
  const trial = await trialNamed(db.prisma, 'bench');
  const preStart = cutoffOf(addCalendarDays(enrolOn, -365), '00:00', timeZone).getTime();
  const end = cutoffOf(addCalendarDays(asOf, 1), '00:00', timeZone).getTime();
  const enrolStart = cutoffOf(enrolOn, '00:00', timeZone).getTime();

  // Victims of the enrolled perpetrators' incidents since 12 months before enrolment.
  const { rows: victims } = await pool.query<{ ref: string }>(
    `SELECT DISTINCT n.ref FROM incident i
       JOIN trial_allocation a ON a.nominal_id = i.perpetrator_id AND a.trial_id = $1
       JOIN nominal n ON n.id = i.victim_id
      WHERE i.reported_at >= $2 AND i.reported_at < $3
      ORDER BY n.ref`,
    [trial.id, new Date(preStart), new Date(end)],
  );
  const { rows: allocated } = await pool.query<{ ref: string }>(
    `SELECT n.ref FROM trial_allocation a JOIN nominal n ON n.id = a.nominal_id WHERE a.trial_id = $1 ORDER BY n.ref`,
    [trial.id],
  );
  const next = random(20260617);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const instant = (from: number, to: number) => new Date(from + Math.floor(next() * (to - from)));

  // Contacts over the pre and during periods (a share of victims contacted several times), scores 0..10.
  const contacts: ContactRecord[] = [];
  for (let i = 0; i < contactCount && victims.length > 0; i++) {
    contacts.push(
      contactRecordSchema.parse({
        source_ref: `BENCH-VC-${String(i + 1).padStart(6, '0')}`,
        victim_ref: pick(victims).ref,
        contacted_at: instant(preStart, end).toISOString(),
        perceived_risk: Math.floor(next() * 11),
        agency: next() < 0.7 ? 'idva' : 'victim-support',
      }),
    );
  }
  // MARAC flags: about one per enrolled perpetrator over the two years, starting on any day of them.
  const flagKeys = new Set<string>();
  const flags: FlagRecord[] = [];
  for (let i = 0; i < allocated.length; i++) {
    const ref = pick(allocated).ref;
    const startsOn = instant(preStart, end).toISOString().slice(0, 10);
    if (flagKeys.has(`${ref}|${startsOn}`)) continue;
    flagKeys.add(`${ref}|${startsOn}`);
    flags.push(flagRecordSchema.parse({ perpetrator_ref: ref, kind: 'marac', note: 'bench referral', starts_on: startsOn }));
  }
  await db.prisma.$transaction(
    async (tx) => {
      for (let i = 0; i < contacts.length; i += 2000) await upsertContacts(tx, contacts.slice(i, i + 2000), db.labelKey);
      await upsertFlags(tx, flags, db.labelKey, 'bench');
    },
    { timeout: 120_000 },
  );
  // One in ten exits on a day between enrolment and the report's day, so the post period has person-time too.
  const leavers = allocated.filter(() => next() < 0.1);
  for (const [i, { ref }] of leavers.entries()) {
    const on = new Date(enrolStart + Math.floor(next() * (end - enrolStart - 86_400_000))).toISOString().slice(0, 10);
    await exitFromTrial(db, { trial: 'bench', ref, on: on < enrolOn ? enrolOn : on, reason: exitReasons[i % (exitReasons.length - 1)]! }, actor);
  }
  await pool.query('VACUUM (ANALYZE) trial_allocation, victim_contact, flag');
  return { trialId: trial.id, enrolled: enrolled.enrolled, byArm: enrolled.byArm, contacts: contacts.length, flags: flags.length, exits: leavers.length };
}

// ---- the floor: the plain SQL fetching the same per-perpetrator rows, into memory by pg, on a pool as large as the app's ----

interface FloorRows {
  allocations: Array<{ nominal_id: number; ref: string; arm: string; enrolled_on: Date; exited_on: Date | null }>;
  incidents: Array<{ nominal_id: number; reported_at: Date; crime: boolean; category: string; victim_id: number }>;
  flags: Array<{ nominal_id: number; starts_at: Date }>;
  contacts: Array<{ victim_id: number; contacted_at: Date; perceived_risk: number }>;
}

// Each perpetrator's incidents through the (perpetrator_id, reported_at) index: a plain join on the enrolment-dependent
// lower bound gets a scan of the whole incident table instead, which no floor should pay.
const floorIncidents = (columns: string) => `
  SELECT ${columns}
    FROM trial_allocation a
   CROSS JOIN LATERAL (
     SELECT i.* FROM incident i
      WHERE i.perpetrator_id = a.nominal_id
        AND i.reported_at >= ((a.enrolled_on - interval '12 months')::timestamp AT TIME ZONE $2)
        AND i.reported_at < $3
     OFFSET 0) i
   WHERE a.trial_id = $1`;

async function floorOnce(pool: pg.Pool, trialId: number, end: Date): Promise<FloorRows> {
  const [allocations, incidents, flags, contacts] = await Promise.all([
    pool.query(
      `SELECT a.nominal_id, n.ref, a.arm, a.enrolled_on, a.exited_on FROM trial_allocation a JOIN nominal n ON n.id = a.nominal_id WHERE a.trial_id = $1 ORDER BY a.id`,
      [trialId],
    ),
    pool.query(floorIncidents('i.perpetrator_id AS nominal_id, i.reported_at, i.crime, i.category, i.victim_id'), [trialId, timeZone, end]),
    pool.query(
      `SELECT f.perpetrator_id AS nominal_id, (f.starts_on::timestamp AT TIME ZONE $2) AS starts_at
         FROM flag f JOIN trial_allocation a ON a.nominal_id = f.perpetrator_id AND a.trial_id = $1
        WHERE f.kind = 'marac' AND (f.starts_on::timestamp AT TIME ZONE $2) < $3`,
      [trialId, timeZone, end],
    ),
    pool.query(
      `SELECT c.victim_id, c.contacted_at, c.perceived_risk FROM victim_contact c
        WHERE c.contacted_at < $3 AND c.victim_id IN (${floorIncidents('i.victim_id')})`,
      [trialId, timeZone, end],
    ),
  ]);
  return { allocations: allocations.rows, incidents: incidents.rows, flags: flags.rows, contacts: contacts.rows };
}

const floorRowCount = (f: FloorRows) => f.allocations.length + f.incidents.length + f.flags.length + f.contacts.length;

// ---- the correctness check, once, untimed ----

/** Per participant, what the app read (participantsOf) against what the floor fetched: counts, crimes, sums and instants. */
function compare(app: ParticipantRecord[], floor: FloorRows): string[] {
  const problems: string[] = [];
  if (app.length !== floor.allocations.length) problems.push(`the app read ${app.length} participants, the floor ${floor.allocations.length} allocations`);
  const byRef = new Map(app.map((p) => [p.ref, p]));
  const incidentsOf = groupBy(floor.incidents, (i) => i.nominal_id);
  const flagsOf = groupBy(floor.flags, (f) => f.nominal_id);
  const contactsOf = groupBy(floor.contacts, (c) => c.victim_id);
  // Instants as sorted milliseconds, so the comparison is exact and the order rows come in cannot matter.
  const times = (dates: Date[]) => dates.map((d) => d.getTime()).sort((x, y) => x - y).join(',');
  for (const a of floor.allocations) {
    const p = byRef.get(a.ref);
    if (!p) {
      problems.push(`${a.ref}: allocated, not read by the app`);
      continue;
    }
    const incidents = incidentsOf.get(a.nominal_id) ?? [];
    const flags = flagsOf.get(a.nominal_id) ?? [];
    const contacts = [...new Set(incidents.map((i) => i.victim_id))].flatMap((v) => contactsOf.get(v) ?? []);
    const pairs: Array<[string, unknown, unknown]> = [
      ['arm', p.arm, a.arm],
      ['enrolled on', p.enrolledOn, a.enrolled_on.toISOString().slice(0, 10)],
      ['exited on', p.exitedOn, a.exited_on?.toISOString().slice(0, 10) ?? null],
      ['incidents', p.incidents.length, incidents.length],
      ['crimes', p.incidents.filter((i) => i.crime).length, incidents.filter((i) => i.crime).length],
      ['categories', p.incidents.map((i) => i.category).sort().join('|'), incidents.map((i) => i.category).sort().join('|')],
      ['incident times', times(p.incidents.map((i) => i.reportedAt)), times(incidents.map((i) => i.reported_at))],
      ['marac flags', p.maracFlagsStarted.length, flags.length],
      ['flag times', times(p.maracFlagsStarted), times(flags.map((f) => f.starts_at))],
      ['victim contacts', p.victimContacts.length, contacts.length],
      ['perceived risk', p.victimContacts.reduce((s, c) => s + c.perceivedRisk, 0), contacts.reduce((s, c) => s + c.perceived_risk, 0)],
      ['contact times', times(p.victimContacts.map((c) => c.contactedAt)), times(contacts.map((c) => c.contacted_at))],
      ['contact victims', p.victimContacts.map((c) => c.victim).sort().join(','), contacts.map((c) => String(c.victim_id)).sort().join(',')],
    ];
    for (const [what, x, y] of pairs) if (x !== y) problems.push(`${a.ref}: ${what} ${String(x).slice(0, 80)} in the app, ${String(y).slice(0, 80)} in the floor`);
  }
  return problems;
}

/** What a report should hold with this data: every participant, every file, a figure for every measure. */
function checkRun(run: OutcomeReportRun, files: string[], expected: number): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  if (run.participants.length !== expected) problems.push(`participants.csv has ${run.participants.length} rows, not the ${expected} allocated`);
  const analysed = run.report.arms.reduce((n, a) => n + a.n, 0);
  if (analysed !== expected) problems.push(`the arms analyse ${analysed} perpetrators, not the ${expected} allocated`);
  for (const name of ['report.json', 'report.html', 'participants.csv', 'rates.png', 'effects.png', 'cumulative.png', 'powerFew.png', 'consort.png']) {
    if (!files.includes(name)) problems.push(`writeReport wrote no ${name}`);
  }
  for (const [name, measure] of Object.entries(run.report.measures)) {
    if (measure.effect.estimate === null) notes.push(`${name}: no estimate (${measure.effect.note ?? 'no note'})`);
    else if (measure.effect.ci95 === null) notes.push(`${name}: no interval (${measure.effect.note ?? 'no note'})`);
  }
  return { problems, notes };
}

// ---- the parts, timed apart from the end-to-end run (outcomeReport is one call) ----

interface Parts {
  enrolments: number;
  participants: number;
  measures: number;
  powerFew: number;
  charts: number;
  png: number;
  writing: number;
}

/**
 * writeReport's own work once the charts are drawn, as it does it: the texts (JSON, HTML with the SVGs, CSV tables,
 * participants.csv) made and every file written, the PNGs included.
 */
async function writeFiles(dir: string, run: OutcomeReportRun, charts: Chart[], pngs: Buffer[]): Promise<number> {
  const participants = rowsOf(run.participants);
  const files: Array<[string, string | Buffer]> = [
    ['report.json', reportJson(run.report)],
    ['report.html', renderReportHtml(run.report, charts)],
    ...Object.entries(renderCsvTables(run.report)),
    ['participants.csv', stringify(participants, { header: true, columns: participants.length ? Object.keys(participants[0]!) : ['perpetrator_ref'] })],
    ...charts.map((c, i): [string, Buffer] => [`${c.name}.png`, pngs[i]!]),
  ];
  await mkdir(dir, { recursive: true });
  for (const [name, content] of files) await writeFile(path.join(dir, name), content);
  return files.length;
}

async function partsOnce(db: TestDatabase, trialId: number, end: Date, run: OutcomeReportRun, dir: string): Promise<Parts> {
  const trial = await trialNamed(db.prisma, 'bench');
  const enrolments = await timed(() => db.prisma.trialEnrolment.findMany({ where: { trialId }, orderBy: { phase: 'asc' } }));
  const loaded = await timed(() => participantsOf(db.prisma, trialId, timeZone, end));
  const participants = loaded.result.filter((p) => p.enrolledOn <= asOf);
  const inputs = { asOf, timeZone, participants, harm, bootstrap: { resamples, seed: trial.bootstrapSeed }, arms: trial.arms.map((a) => a.name) };
  const measured = await timed(async () => outcomeMeasures(inputs));
  const scored = await timed(() => scoreAsOf(db, scoring, asOf, timeZone));
  const charts = await timed(() => renderCharts(run.report));
  const png = await timed(async () => charts.result.map((c) => svgToPng(c.svg)));
  const writing = await timed(() => writeFiles(dir, run, charts.result, png.result));
  return { writing: writing.ms, enrolments: enrolments.ms, participants: loaded.ms, measures: measured.ms, powerFew: scored.ms, charts: charts.ms, png: png.ms };
}

/** As the CLI hands the rows to writeReport. */
const rowsOf = (rows: OutcomeReportRun['participants']) => rows as unknown as Array<Record<string, string | number>>;

const loadAverage = () => os.loadavg().map((x) => x.toFixed(1)).join(' / ');
const ms = (x: number) => `${x.toFixed(0)} ms`;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

interface State {
  db?: TestDatabase;
  setupDb?: Database | undefined;
  pool?: pg.Pool;
  out?: string;
}

async function main(state: State): Promise<boolean> {
  assertLoopback(fail, serverUrl);
  const s = sizes;
  console.log(
    `bench:report at scale ${scale}: ${fmt(s.incidents)} incidents over ${fmt(s.spanDays)} days, ${fmt(s.nominals)} nominals (${fmt(s.perpetrators)} perpetrators); ` +
      `trial of the top ${fmt(top)} enrolled ${enrolOn}, reported as of ${asOf} in ${timeZone} with ${fmt(resamples)} resamples`,
  );
  const db = (state.db = await createServerDatabase(serverUrl));
  const url = db.env.DATABASE_URL!;
  const server = await db.prisma.$queryRaw<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
  console.log(
    `PostgreSQL ${server[0]?.v} at ${new URL(url).host}, Node ${process.version}, ${os.cpus().length} CPUs (load average ${loadAverage()}), pool of ${poolSize} on each side`,
  );

  const loaded = await timed(() => loadStore(url, { scale, meetingKey: meeting.key, otherMeetingKey: 'slack:C0BENCHOTHER', overdueOn: asOf, categories }));
  console.log(`loaded in ${(loaded.ms / 1000).toFixed(1)} s`);
  const pool = (state.pool = new pg.Pool({ connectionString: url, max: poolSize }));
  const setupDb = (state.setupDb = setupDatabase(db));
  const setup = await timed(() => setUp(setupDb, pool));
  await setupDb.close();
  state.setupDb = undefined;
  const { trialId } = setup.result;
  console.log(
    `set up in ${(setup.ms / 1000).toFixed(1)} s: ${fmt(setup.result.enrolled)} enrolled (${Object.entries(setup.result.byArm).map(([arm, n]) => `${arm} ${fmt(n)}`).join(', ')}), ` +
      `${fmt(setup.result.contacts)} victim contacts, ${fmt(setup.result.flags)} MARAC flags added, ${fmt(setup.result.exits)} exits`,
  );

  const end = cutoffOf(addCalendarDays(asOf, 1), '00:00', timeZone);
  const request = { trial: 'bench', asOf, resamples, reason: 'bench', actor, channel: 'bench' };
  const out = (state.out = await mkdtemp(path.join(os.tmpdir(), 'dmm-bench-report-')));

  // Correctness first (untimed): what the app reads against the floor's rows, and the report's contents.
  const checkApp = await participantsOf(db.prisma, trialId, timeZone, end);
  const checkFloor = await floorOnce(pool, trialId, end);
  const problems = compare(checkApp, checkFloor);
  const firstRun = await outcomeReport(db, settings, request);
  const firstFiles = await writeReport(path.join(out, 'check'), firstRun.report, rowsOf(firstRun.participants));
  const firstJson = reportJson(firstRun.report);
  const checked = checkRun(firstRun, firstFiles.files, setup.result.enrolled);
  problems.push(...checked.problems);
  const read = {
    incidents: checkApp.reduce((n, p) => n + p.incidents.length, 0),
    flags: checkApp.reduce((n, p) => n + p.maracFlagsStarted.length, 0),
    contacts: checkApp.reduce((n, p) => n + p.victimContacts.length, 0),
  };
  console.log(
    `the report reads ${fmt(checkApp.length)} participants: ${fmt(read.incidents)} incidents, ${fmt(read.flags)} MARAC flags, ${fmt(read.contacts)} victim contacts ` +
      `(the floor: ${fmt(floorRowCount(checkFloor))} rows); checked participant by participant against the floor: ` +
      (problems.length === 0 ? 'they agree' : `${problems.length} problems`),
  );
  for (const measure of Object.entries(firstRun.report.measures)) {
    const [name, m] = measure;
    console.log(`  ${name.padEnd(11)} effect ${m.effect.estimate ?? 'n/a'} ${m.effect.ci95 ? `[${m.effect.ci95.join(', ')}]` : ''}`);
  }
  for (const note of checked.notes) console.log(`  note: ${note}`);

  for (let i = 0; i < warmups; i++) {
    const run = await outcomeReport(db, settings, request);
    await writeReport(path.join(out, 'warm-up'), run.report, rowsOf(run.participants));
    await floorOnce(pool, trialId, end);
  }

  const peakBeforeRuns = process.resourceUsage().maxRSS * 1024;
  const totalMs: number[] = [];
  const reportMs: number[] = [];
  const writeMs: number[] = [];
  const floorMs: number[] = [];
  const parts: Parts[] = [];
  let appRss = 0;
  let floorRss = 0;
  let bytes = 0;
  const differing: number[] = [];
  // Alternated, so a disturbance on the machine falls on both sides alike; RSS is read with each result still held.
  for (let i = 0; i < runs; i++) {
    gc();
    const dir = path.join(out, `run-${i + 1}`);
    const started = performance.now();
    const run = await timed(() => outcomeReport(db, settings, request));
    const written = await timed(() => writeReport(dir, run.result.report, rowsOf(run.result.participants)));
    totalMs.push(performance.now() - started);
    reportMs.push(run.ms);
    writeMs.push(written.ms);
    appRss = Math.max(appRss, process.memoryUsage.rss());
    if ((await readFile(path.join(dir, 'report.json'), 'utf8')) !== firstJson) differing.push(i + 1);
    bytes = (await Promise.all((await readdir(dir)).map(async (f) => (await stat(path.join(dir, f))).size))).reduce((a, b) => a + b, 0);
    gc();
    const f = await timed(() => floorOnce(pool, trialId, end));
    floorMs.push(f.ms);
    floorRss = Math.max(floorRss, process.memoryUsage.rss());
    gc();
    parts.push(await partsOnce(db, trialId, end, run.result, `${dir}-parts`));
    await rm(`${dir}-parts`, { recursive: true, force: true });
    if (!keepReport || i < runs - 1) await rm(dir, { recursive: true, force: true });
  }
  if (differing.length) problems.push(`report.json of run(s) ${differing.join(', ')} differs from the first report's: the same data and seed must give the same bytes`);

  const totalMedian = median(totalMs);
  const floorMedian = median(floorMs);
  const within = totalMedian < targetMs;
  console.log('');
  console.log(`${runs} timed runs after ${warmups} warm-up(s), reporting on ${fmt(firstRun.participants.length)} perpetrators with ${fmt(resamples)} resamples:`);
  printTable([
    ['side', 'median', 'p95', 'min', 'RSS with result'],
    ['report end to end (outcomeReport + writeReport)', ms(totalMedian), ms(percentile(totalMs, 95)), ms(Math.min(...totalMs)), mb(appRss)],
    ['  outcomeReport', ms(median(reportMs)), ms(percentile(reportMs, 95)), ms(Math.min(...reportMs)), ''],
    ['  writeReport', ms(median(writeMs)), ms(percentile(writeMs, 95)), ms(Math.min(...writeMs)), ''],
    [`floor (4 plain SQL queries, ${fmt(floorRowCount(checkFloor))} rows)`, ms(floorMedian), ms(percentile(floorMs, 95)), ms(Math.min(...floorMs)), mb(floorRss)],
  ]);
  const pm = (f: (p: Parts) => number) => median(parts.map(f));
  const loading = pm((p) => p.participants);
  const measuring = pm((p) => p.measures);
  const scoring_ = pm((p) => p.powerFew);
  const enrolments = pm((p) => p.enrolments);
  // Negative when the parts, each timed alone, ran slower than they did inside outcomeReport (noise).
  const restOfReport = median(reportMs) - loading - measuring - scoring_ - enrolments;
  const writing = pm((p) => p.writing);
  const share = (x: number) => `${((100 * x) / totalMedian).toFixed(0)}%`;
  console.log('');
  console.log(`where the report's time goes (each part timed on its own in every run, medians; the rest of outcomeReport by difference):`);
  printTable([
    ['ms', 'share', 'part'],
    [loading.toFixed(0), share(loading), 'loading participants (participantsOf: allocations, incidents, MARAC flags, victim contacts)'],
    [measuring.toFixed(0), share(measuring), `measures + bootstrap (outcomeMeasures, ${fmt(resamples)} resamples, cumulative chart data)`],
    [scoring_.toFixed(0), share(scoring_), 'power-few curve (scoreAsOf: every perpetrator scored as of the report day)'],
    [enrolments.toFixed(0), share(enrolments), `enrolment records (trialEnrolment.findMany: every eligible candidate's JSON, for the CONSORT counts)`],
    [restOfReport.toFixed(0), share(restOfReport), 'rest of outcomeReport, by difference (trial, allocations, exclusions, audit, participant rows)'],
    [pm((p) => p.charts).toFixed(0), share(pm((p) => p.charts)), 'charts rendering: Vega-Lite compile + Vega SVG (renderCharts, 5 charts)'],
    [pm((p) => p.png).toFixed(0), share(pm((p) => p.png)), 'charts rendering: PNG copies (svgToPng through resvg)'],
    [writing.toFixed(0), share(writing), `writing files (JSON, HTML, CSV tables, participants.csv; ${Math.round(bytes / 1024)} KB in ${firstFiles.files.length} files)`],
  ]);
  console.log(
    `  report end to end ${(totalMedian / 1000).toFixed(2)} s (median), ${(totalMedian / floorMedian).toFixed(1)}x the floor; ` +
      `target < ${targetMs / 1000} s: ${met(within)}`,
  );
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    `  peak RSS of the process ${mb(peak)} ` +
      (peak > peakBeforeRuns ? `(reached in the timed runs; ${mb(peakBeforeRuns)} before them)` : `(reached in the setup, before the timed runs)`),
  );
  // Other work on the machine slows both sides: a load average above the CPU count means the figures are high.
  console.log(`  load average ${loadAverage()} on ${os.cpus().length} CPUs at the end of the runs`);
  if (keepReport) console.log(`  the last report is in ${path.join(out, `run-${runs}`)}`);

  if (problems.length > 0) {
    for (const problem of problems.slice(0, 20)) console.error(`  ${problem}`);
    if (problems.length > 20) console.error(`  … and ${problems.length - 20} more`);
    console.error(`bench:report: ${problems.length} correctness problems; the timings mean nothing`);
    return false;
  }
  return true;
}

const state: State = {};
runBench('bench:report', timeoutMs, () => main(state), async () => {
  await state.pool?.end().catch(() => {});
  await state.setupDb?.close().catch(() => {});
  if (state.out && !keepReport) await rm(state.out, { recursive: true, force: true }).catch(() => {});
  await state.db?.destroy().catch((error) => console.error(`could not drop the scratch database: ${error}`));
});
