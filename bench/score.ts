// Benchmark for scoring every perpetrator as of one day on a force-sized store (the agenda bench's store,
// with incident categories a gravity table knows): times `scoreAsOf` beside one plain SQL statement that
// computes the same per-perpetrator counts, gravity sums and latest dates (the floor). Prints figures;
// it is not a test (it fails only when the two sides disagree).
//
//   npm run bench:score                       1,000,000 incidents, 200,000 nominals (90,000 perpetrators), as of 2026-06-17
//   BENCH_SCALE=0.2 npm run bench:score       a fifth of everything (the same ~275 incidents a day, over 2 years)
//   BENCH_RUNS=10                             timed runs per side, after BENCH_WARMUP (2) untimed ones
//   BENCH_AS_OF=2026-06-17                    the day scored as of (the data ends with 17 Jun 2026)
//   BENCH_EXPLAIN=1                           EXPLAIN ANALYZE both sides' SQL even when the target is met
//   BENCH_EXTRA_SQL="CREATE INDEX …"          run after loading (then ANALYZE), to measure a proposed index
//   BENCH_DATABASE_URL=...                    the server to make a scratch database on (127.0.0.1 only)
//   BENCH_TIMEOUT_S=1800                      give up (and clean up) after this long
import pg from 'pg';
import { scoreAsOf, type Scored } from '../src/app/score-perpetrators.js';
import type { LocalDate } from '../src/domain/calendar.js';
import { scoreWindowFor, type ScoreWindow } from '../src/domain/score-window.js';
import { defaultScoringConfig, normaliseCategory, rankPerpetrators, scoringConfigHash } from '../src/domain/scoring.js';
import type { ScoringSettings } from '../src/config.js';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { PostgresAdapterFactory } from '../src/store/adapters.js';
import { perpetratorActivityIn } from '../src/store/scoring-repository.js';
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
import { loadStore, storeSizes } from './support-store.js';

const { fail } = benchName('bench:score');
const scale = positiveNumber(fail, 'BENCH_SCALE', 1);
const runs = positiveInteger(fail, 'BENCH_RUNS', 10);
const warmups = Number(process.env.BENCH_WARMUP ?? 2);
const serverUrl = process.env.BENCH_DATABASE_URL ?? defaultServerUrl;
const timeoutMs = positiveInteger(fail, 'BENCH_TIMEOUT_S', 1800) * 1000;
const alwaysExplain = process.env.BENCH_EXPLAIN === '1';
const extraSql = process.env.BENCH_EXTRA_SQL ?? '';
const asOf = (process.env.BENCH_AS_OF || '2026-06-17') as LocalDate;
if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) fail(`BENCH_AS_OF must be a date such as 2026-06-17, not ${JSON.stringify(asOf)}`);
if (!Number.isInteger(warmups) || warmups < 0) fail(`BENCH_WARMUP must be a whole number, not ${JSON.stringify(process.env.BENCH_WARMUP)}`);

const targetRatio = 2;
const sampleSize = 1000;
// The pool the app's server database gets in createServerDatabase; the floor gets as many connections.
const poolSize = 5;
const timeZone = 'Europe/London';

const meeting = testMeeting();
const sizes = storeSizes(scale);
const scoring: ScoringSettings = { config: defaultScoringConfig, hash: scoringConfigHash(defaultScoringConfig), source: 'bench' };
const { config } = scoring;

/**
 * What the records system calls its incidents: ten of the default gravity table's categories, some spelt
 * as a records system might (case, stray spaces), and three the table does not know (default weight).
 * 'Verbal Argument' twice, as the commonest call.
 */
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

// ---- the floor: one plain SQL statement, its rows fetched into memory by pg, on a pool as large as the app's ----

interface FloorRow {
  perpetrator_id: number;
  ref: string;
  label: string;
  incidents: number;
  crimes: number;
  latest_at: Date;
  victims: number;
  recent: number;
  gravity: number;
}

/** The gravity table as two arrays of normalised keys and weights (the first spelling of a key wins, as in compileScoring). */
function gravityArrays(): { keys: string[]; weights: number[] } {
  const weights = new Map<string, number>();
  for (const [key, weight] of Object.entries(config.gravity.table)) {
    const normal = normaliseCategory(key);
    if (!weights.has(normal)) weights.set(normal, weight);
  }
  return { keys: [...weights.keys()], weights: [...weights.values()] };
}

// The ref and label come too (the app's ranking carries them, so a floor without them would not be the same
// result), joined after aggregating so the grouping sorts integers only. btrim trims spaces where the app's
// trim() trims any white space: the same for the bench's categories.
const floorSql = `
  SELECT a.perpetrator_id, n.ref, n.label, a.incidents, a.crimes, a.latest_at, a.victims, a.recent, a.gravity
    FROM (SELECT i.perpetrator_id,
                 count(*)::int AS incidents,
                 count(*) FILTER (WHERE i.crime)::int AS crimes,
                 max(i.reported_at) AS latest_at,
                 count(DISTINCT i.victim_id)::int AS victims,
                 count(*) FILTER (WHERE i.reported_at >= $3)::int AS recent,
                 sum(coalesce(g.weight, $6::float8))::float8 AS gravity
            FROM incident i
            LEFT JOIN unnest($4::text[], $5::float8[]) AS g(category, weight) ON g.category = lower(btrim(i.category))
           WHERE i.reported_at >= $1 AND i.reported_at < $2
           GROUP BY i.perpetrator_id) a
    JOIN nominal n ON n.id = a.perpetrator_id`;

function floorValues(window: ScoreWindow): unknown[] {
  const { keys, weights } = gravityArrays();
  return [window.start, window.end, window.recentStart, keys, weights, config.gravity.default_weight];
}

async function floorOnce(pool: pg.Pool, window: ScoreWindow): Promise<FloorRow[]> {
  return (await pool.query<FloorRow>(floorSql, floorValues(window))).rows;
}

// ---- the correctness check, once, untimed ----

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function compare(scored: Scored, floor: FloorRow[]): string[] {
  const problems: string[] = [];
  const ranking = scored.ranking;
  if (ranking.length !== floor.length) problems.push(`the app scored ${fmt(ranking.length)} perpetrators, the floor has ${fmt(floor.length)} rows`);
  const byId = new Map(floor.map((row) => [row.perpetrator_id, row]));
  // Every k-th perpetrator by id, and the ten most active (the prolific few stress the sums most).
  const ids = ranking.map((s) => s.perpetratorId).sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(ids.length / sampleSize));
  const sample = new Set(ids.filter((_, i) => i % step === 0));
  for (const s of [...ranking].sort((a, b) => b.incidents - a.incidents).slice(0, 10)) sample.add(s.perpetratorId);
  const scores = new Map(ranking.map((s) => [s.perpetratorId, s]));
  let checked = 0;
  for (const id of sample) {
    const app = scores.get(id)!;
    const row = byId.get(id);
    checked++;
    if (!row) {
      problems.push(`perpetrator ${id}: scored by the app, not in the floor`);
      continue;
    }
    const pairs: Array<[string, unknown, unknown]> = [
      ['ref', app.ref, row.ref],
      ['label', app.label, row.label],
      ['incidents', app.incidents, row.incidents],
      ['crimes', app.crimes, row.crimes],
      ['victims', app.victims.count, row.victims],
      ['recent incidents', app.recentIncidents, row.recent],
      ['latest', app.latestAt.getTime(), row.latest_at.getTime()],
      ['gravity', round6(app.gravity.value), round6(row.gravity)],
    ];
    for (const [what, a, f] of pairs) if (a !== f) problems.push(`perpetrator ${id}: ${what} ${String(a)} in the app, ${String(f)} in the floor`);
  }
  // Totals over everyone: cheap, and they catch a disagreement the sample missed.
  const sum = <T>(rows: readonly T[], f: (row: T) => number) => rows.reduce((total, row) => total + f(row), 0);
  const totals: Array<[string, number, number]> = [
    ['incidents', sum(ranking, (s) => s.incidents), sum(floor, (r) => r.incidents)],
    ['crimes', sum(ranking, (s) => s.crimes), sum(floor, (r) => r.crimes)],
    ['gravity', round6(sum(ranking, (s) => s.gravity.value)), round6(sum(floor, (r) => r.gravity))],
  ];
  for (const [what, a, f] of totals) if (a !== f) problems.push(`total ${what}: ${a} in the app, ${f} in the floor`);
  console.log(
    `checked ${fmt(checked)} perpetrators field by field (incidents, crimes, victims, recent, latest, gravity, ref, label) and the totals over all ${fmt(ranking.length)}: ` +
      (problems.length === 0 ? 'the app and the floor agree' : `${problems.length} disagreements`),
  );
  return problems;
}

// ---- where the app's time goes ----

interface QueryEvent {
  query: string;
  params: string;
  duration: number;
}

/** The app's query as Prisma sends it, from a client that reports every query. */
async function appQuery(url: string, window: ScoreWindow): Promise<QueryEvent | undefined> {
  const prisma = new PrismaClient({ adapter: new PostgresAdapterFactory(url, 1), log: [{ level: 'query', emit: 'event' }] });
  const events: QueryEvent[] = [];
  prisma.$on('query', (e) => events.push({ query: e.query, params: e.params, duration: e.duration }));
  try {
    await perpetratorActivityIn(prisma, window);
    return events.at(-1);
  } finally {
    await prisma.$disconnect();
  }
}

/** Prisma logs parameters as JSON; pg takes them as they are (a JS array becomes a PostgreSQL array). */
function paramsOf(event: QueryEvent): unknown[] {
  try {
    const parsed = JSON.parse(event.params) as unknown;
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

async function explain(pool: pg.Pool, title: string, sql: string, values: unknown[]): Promise<void> {
  try {
    const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, values);
    console.log('');
    console.log(`  EXPLAIN ANALYZE, ${title}:`);
    for (const row of rows) console.log(`    ${row['QUERY PLAN']}`);
  } catch (error) {
    console.log(`  could not EXPLAIN ${title}: ${(error as Error).message}`);
  }
}

const ms = (x: number) => `${x.toFixed(1)} ms`;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function main(state: { db?: TestDatabase; pool?: pg.Pool }): Promise<boolean> {
  assertLoopback(fail, serverUrl);
  if (config.gravity.aggregate !== 'sum') fail('the floor sums gravity, but the scoring configuration takes the max');
  const s = sizes;
  const window = scoreWindowFor(asOf, config.window_months, config.eligibility.recent_months, timeZone);
  console.log(
    `bench:score at scale ${scale}: ${fmt(s.incidents)} incidents over ${fmt(s.spanDays)} days (~${Math.round(s.incidents / s.spanDays)} a day), ` +
      `${fmt(s.nominals)} nominals (${fmt(s.perpetrators)} perpetrators), ${categories.length} category spellings`,
  );
  console.log(
    `as of ${asOf} in ${timeZone}: ${config.window_months}-month window ${window.start.toISOString()} to ${window.end.toISOString()}, ` +
      `recent from ${window.recentStart.toISOString()}; default scoring configuration ${scoring.hash.slice(0, 19)}…`,
  );
  const db = (state.db = await createServerDatabase(serverUrl));
  const url = db.env.DATABASE_URL!;
  const server = await db.prisma.$queryRaw<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
  console.log(`PostgreSQL ${server[0]?.v} at ${new URL(url).host}, Node ${process.version}, pool of ${poolSize} on each side`);

  const loaded = await timed(() =>
    loadStore(url, { scale, meetingKey: meeting.key, otherMeetingKey: 'slack:C0BENCHOTHER', overdueOn: asOf, categories, extraSql }),
  );
  console.log(`loaded in ${(loaded.ms / 1000).toFixed(1)} s`);

  const pool = (state.pool = new pg.Pool({ connectionString: url, max: poolSize }));
  const { rows: shape } = await pool.query<{ incidents: number; crimes: number; known: number }>(
    `SELECT count(*)::int AS incidents, count(*) FILTER (WHERE crime)::int AS crimes,
            count(*) FILTER (WHERE lower(btrim(category)) = ANY($3::text[]))::int AS known
       FROM incident WHERE reported_at >= $1 AND reported_at < $2`,
    [window.start, window.end, gravityArrays().keys],
  );
  const inWindow = shape[0]!;
  console.log(
    `${fmt(inWindow.incidents)} incidents in the window: ${((100 * inWindow.crimes) / inWindow.incidents).toFixed(0)}% crimes, ` +
      `${((100 * inWindow.known) / inWindow.incidents).toFixed(0)}% in a category the gravity table weights`,
  );

  // Correctness first (untimed): a benchmark of two sides that disagree measures nothing.
  const checkApp = await scoreAsOf(db, scoring, asOf, timeZone);
  const checkFloor = await floorOnce(pool, window);
  const problems = compare(checkApp, checkFloor);
  for (const problem of problems.slice(0, 20)) console.error(`  ${problem}`);
  if (problems.length > 20) console.error(`  … and ${problems.length - 20} more`);
  const scoredRows = checkApp.ranking.length;
  const eligible = checkApp.ranking.filter((r) => r.eligible).length;
  console.log(
    `${fmt(scoredRows)} perpetrators scored (${fmt(eligible)} eligible), ${checkApp.warnings.length} warnings about categories; ` +
      `top 1% of perpetrators cause ${(checkApp.powerFew.top1.share * 100).toFixed(1)}% of the gravity`,
  );

  for (let i = 0; i < warmups; i++) {
    await scoreAsOf(db, scoring, asOf, timeZone);
    await floorOnce(pool, window);
  }
  const appMs: number[] = [];
  const floorMs: number[] = [];
  let appRss = 0;
  let floorRss = 0;
  // Alternated, so a disturbance on the machine falls on both sides alike; RSS is read with each result
  // still held, after a collection, so each side's figure is its own.
  for (let i = 0; i < runs; i++) {
    gc();
    const a = await timed(() => scoreAsOf(db, scoring, asOf, timeZone));
    appMs.push(a.ms);
    appRss = Math.max(appRss, process.memoryUsage.rss());
    a.result.ranking.length = 0;
    gc();
    const f = await timed(() => floorOnce(pool, window));
    floorMs.push(f.ms);
    floorRss = Math.max(floorRss, process.memoryUsage.rss());
    f.result.length = 0;
  }
  gc();
  const baseRss = process.memoryUsage.rss();

  const appMedian = median(appMs);
  const floorMedian = median(floorMs);
  const ratio = appMedian / floorMedian;
  const withinRatio = ratio <= targetRatio;
  console.log('');
  console.log(`${runs} timed runs per side after ${warmups} warm-ups, scoring ${fmt(scoredRows)} perpetrators as of ${asOf}:`);
  printTable([
    ['side', 'median', 'p95', 'min', 'rows', 'RSS with result'],
    ['app (scoreAsOf)', ms(appMedian), ms(percentile(appMs, 95)), ms(Math.min(...appMs)), fmt(scoredRows), mb(appRss)],
    ['floor (one SQL statement)', ms(floorMedian), ms(percentile(floorMs, 95)), ms(Math.min(...floorMs)), fmt(checkFloor.length), mb(floorRss)],
  ]);
  console.log(
    `  ratio ${ratio.toFixed(2)}x (medians); target ≤ ${targetRatio}x the floor: ${met(withinRatio)}. ` +
      `Peak RSS of the process ${mb(process.resourceUsage().maxRSS * 1024)} (after a collection now ${mb(baseRss)})`,
  );

  // Where the app's time goes: the query through Prisma, the same query through pg, and the pure ranking.
  const fetchMs: number[] = [];
  const rankMs: number[] = [];
  const rawMs: number[] = [];
  const event = await appQuery(url, window);
  for (let i = 0; i < Math.min(runs, 5); i++) {
    const f = await timed(() => perpetratorActivityIn(db.prisma, window));
    fetchMs.push(f.ms);
    rankMs.push((await timed(async () => rankPerpetrators(config, f.result, window.end))).ms);
    if (event) rawMs.push((await timed(() => pool.query(event.query, paramsOf(event)))).ms);
  }
  console.log('');
  console.log(`where the app's time goes (median of ${fetchMs.length}):`);
  printTable([
    ['ms', 'part'],
    [median(fetchMs).toFixed(1), 'perpetratorActivityIn through Prisma (query, transfer, rows mapped to activities)'],
    ...(event ? [[median(rawMs).toFixed(1), 'its SQL alone through pg, rows into memory as the driver returns them (no Prisma, no mapping)']] : []),
    [median(rankMs).toFixed(1), 'rankPerpetrators (pure: score, sort, power few)'],
  ]);

  if ((!withinRatio || alwaysExplain) && event) {
    await explain(pool, "the app's query (perpetratorActivityIn)", event.query, paramsOf(event));
    await explain(pool, 'the floor', floorSql, floorValues(window));
  }

  if (problems.length > 0) {
    console.error(`bench:score: the app and the floor disagree (${problems.length} differences); the comparison means nothing`);
    return false;
  }
  return true;
}

const state: { db?: TestDatabase; pool?: pg.Pool } = {};
runBench('bench:score', timeoutMs, () => main(state), async () => {
  await state.pool?.end().catch(() => {});
  await state.db?.destroy().catch((error) => console.error(`could not drop the scratch database: ${error}`));
});
