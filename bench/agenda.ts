// Benchmark for building one day's agenda on a force-sized store: loads 10 years of synthetic records into
// PostgreSQL and times `buildAgenda` beside the plain SQL that selects the same rows (the floor no code
// on top of the database beats). Prints figures; it is not a test.
//
//   npm run bench:agenda                      1,000,000 incidents, 200,000 nominals, 20,000 flags, 50,000 actions
//   BENCH_SCALE=0.1 npm run bench:agenda      a tenth of everything (the same ~275 incidents a day, over 1 year)
//   BENCH_RUNS=20                             timed runs per day and side, after BENCH_WARMUP (3) untimed ones
//   BENCH_EXPLAIN=1                           EXPLAIN ANALYZE the slowest agenda query even when the targets are met
//   BENCH_EXTRA_SQL="CREATE INDEX …"          run after loading (then ANALYZE), to measure a proposed index
//   BENCH_DATABASE_URL=...                    the server to make a scratch database on (127.0.0.1 only)
//   BENCH_TIMEOUT_S=1800                      give up (and clean up) after this long
import pg from 'pg';
import { buildAgenda } from '../src/app/build-agenda.js';
import { agendaWindowFor } from '../src/domain/agenda-window.js';
import { panelLookaheadDays, repeatVictimLookbackDays, repeatVictimThreshold, type Agenda } from '../src/domain/agenda.js';
import type { LocalDate } from '../src/domain/calendar.js';
import { calendarOf } from '../src/domain/meeting.js';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { PostgresAdapterFactory } from '../src/store/adapters.js';
import type { Database } from '../src/store/database.js';
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

const { fail } = benchName('bench:agenda');
const scale = positiveNumber(fail, 'BENCH_SCALE', 1);
const runs = positiveInteger(fail, 'BENCH_RUNS', 20);
const warmups = Number(process.env.BENCH_WARMUP ?? 3);
const serverUrl = process.env.BENCH_DATABASE_URL ?? defaultServerUrl;
const timeoutMs = positiveInteger(fail, 'BENCH_TIMEOUT_S', 1800) * 1000;
const alwaysExplain = process.env.BENCH_EXPLAIN === '1';
const extraSql = process.env.BENCH_EXTRA_SQL ?? '';

const targetMs = 250;
const targetRatio = 2;
// The pool the app's server database gets in createServerDatabase; the floor gets as many connections.
const poolSize = 5;

const meeting = testMeeting(); // console:console, 09:00 Europe/London, England and Wales
const otherMeetingKey = 'slack:C0BENCHOTHER';
const days: Array<{ name: string; day: LocalDate }> = [
  { name: 'weekday (Wed 17 Jun 2026, 24 h)', day: '2026-06-17' },
  { name: 'Monday (15 Jun 2026, 72 h)', day: '2026-06-15' },
];

const sizes = storeSizes(scale);
const overdueOn = days[0]!.day;

const load = (url: string) => loadStore(url, { scale, meetingKey: meeting.key, otherMeetingKey, overdueOn, extraSql });

// ---- the floor: plain SQL for the same rows, on a pool as large as the app's ----

interface FloorCounts {
  highRisk: number;
  flaggedIncidents: number;
  flaggedPerpetrators: number;
  repeatVictims: number;
  actionsDue: number;
  panels: number;
}

function floorQueries(day: LocalDate): Array<{ name: string; text: string; values: unknown[] }> {
  const calendar = calendarOf(meeting);
  const window = agendaWindowFor(day, meeting, calendar);
  const lookback = new Date(window.end.getTime() - repeatVictimLookbackDays * 86_400_000);
  const panelsUntil = new Date(window.end.getTime() + panelLookaheadDays * 86_400_000);
  const active = (f: string) => `${f}.starts_on <= $3::date AND (${f}.ends_on IS NULL OR ${f}.ends_on >= $3::date)`;
  return [
    {
      name: 'high-risk incidents',
      text: `
        SELECT i.source_ref, i.source_system, i.reported_at, i.risk_level, i.prof_judgement, i.category, i.area, i.children_present,
               p.ref AS p_ref, p.label AS p_label, v.ref AS v_ref, v.label AS v_label, vc.n AS v_count, pf.kinds AS p_flags
        FROM incident i
        JOIN nominal p ON p.id = i.perpetrator_id
        JOIN nominal v ON v.id = i.victim_id
        CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM incident x
                            WHERE x.victim_id = i.victim_id AND x.reported_at >= $4 AND x.reported_at < $2) vc
        CROSS JOIN LATERAL (SELECT coalesce(array_agg(DISTINCT f.kind::text ORDER BY f.kind::text), '{}') AS kinds FROM flag f
                            WHERE f.perpetrator_id = i.perpetrator_id AND ${active('f')}) pf
        WHERE i.reported_at >= $1 AND i.reported_at < $2 AND i.risk_level = 'high'
        ORDER BY i.reported_at, i.source_ref`,
      values: [window.start, window.end, window.meetingDate, lookback],
    },
    {
      name: 'flagged perpetrators',
      text: `
        SELECT i.perpetrator_id, p.ref AS p_ref, p.label AS p_label, i.source_ref, i.reported_at, i.risk_level, i.category, i.area, fl.flags
        FROM incident i
        JOIN nominal p ON p.id = i.perpetrator_id
        JOIN LATERAL (SELECT json_agg(json_build_object('kind', f.kind, 'starts_on', f.starts_on, 'ends_on', f.ends_on)
                                      ORDER BY f.kind, f.starts_on) AS flags
                      FROM flag f WHERE f.perpetrator_id = i.perpetrator_id AND ${active('f')}) fl ON fl.flags IS NOT NULL
        WHERE i.reported_at >= $1 AND i.reported_at < $2
        ORDER BY i.reported_at, i.source_ref`,
      values: [window.start, window.end, window.meetingDate],
    },
    {
      name: 'repeat victims',
      text: `
        SELECT v.ref AS v_ref, v.label AS v_label, w.in_window, c.n AS last_365
        FROM (SELECT victim_id, count(*)::int AS in_window FROM incident
              WHERE reported_at >= $1 AND reported_at < $2 GROUP BY victim_id) w
        CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM incident x
                            WHERE x.victim_id = w.victim_id AND x.reported_at >= $3 AND x.reported_at < $2) c
        JOIN nominal v ON v.id = w.victim_id
        WHERE c.n >= ${repeatVictimThreshold}
        ORDER BY c.n DESC, v.label`,
      values: [window.start, window.end, lookback],
    },
    {
      // Look-ups by key rather than LEFT JOINs: with the default random_page_cost the planner would hash
      // all 200,000 nominals to join ~900 of them.
      name: 'actions due',
      text: `
        SELECT a.id, a.status, a.text, a.due_on, a.agency, a.incident_id, a.nominal_id,
               m.id AS member_id, m.display_name, m.slack_user_id, m.teams_user_id,
               (SELECT i.source_ref FROM incident i WHERE i.id = a.incident_id) AS source_ref,
               (SELECT n.ref FROM nominal n WHERE n.id = a.nominal_id) AS n_ref,
               (SELECT n.label FROM nominal n WHERE n.id = a.nominal_id) AS n_label
        FROM action a
        JOIN member m ON m.id = a.owner_id
        WHERE a.meeting_key = $1 AND a.status = 'open' AND a.due_on < $2::date
        ORDER BY a.due_on, a.id`,
      values: [meeting.key, calendar.nextWorkingDay(day)],
    },
    {
      name: 'panels',
      text: `
        SELECT id, kind, title, starts_at FROM panel
        WHERE meeting_key = $1 AND cancelled_at IS NULL AND starts_at >= $2 AND starts_at < $3
        ORDER BY starts_at, id`,
      values: [meeting.key, window.end, panelsUntil],
    },
  ];
}

async function floorOnce(pool: pg.Pool, day: LocalDate): Promise<FloorCounts> {
  const [highRisk, flagged, repeat, actions, panels] = await Promise.all(floorQueries(day).map((q) => pool.query(q.text, q.values)));
  return {
    highRisk: highRisk!.rowCount ?? 0,
    flaggedIncidents: flagged!.rowCount ?? 0,
    flaggedPerpetrators: new Set(flagged!.rows.map((row: { perpetrator_id: number }) => row.perpetrator_id)).size,
    repeatVictims: repeat!.rowCount ?? 0,
    actionsDue: actions!.rowCount ?? 0,
    panels: panels!.rowCount ?? 0,
  };
}

function countsOf(agenda: Agenda): FloorCounts {
  return {
    highRisk: agenda.highRiskIncidents.length,
    flaggedIncidents: agenda.flaggedPerpetrators.reduce((sum, p) => sum + p.incidents.length, 0),
    flaggedPerpetrators: agenda.flaggedPerpetrators.length,
    repeatVictims: agenda.repeatVictims.length,
    actionsDue: agenda.actionsDue.length,
    panels: agenda.panels.length,
  };
}

// ---- where the agenda's time goes: the same build on a client that reports every query ----

interface QueryEvent {
  query: string;
  params: string;
  duration: number;
}

async function agendaQueries(url: string, db: Database, day: LocalDate): Promise<QueryEvent[]> {
  const prisma = new PrismaClient({ adapter: new PostgresAdapterFactory(url, poolSize), log: [{ level: 'query', emit: 'event' }] });
  const events: QueryEvent[] = [];
  prisma.$on('query', (e) => events.push({ query: e.query, params: e.params, duration: e.duration }));
  try {
    const instrumented = { ...db, prisma } as Database;
    for (let i = 0; i < 3; i++) await buildAgenda(instrumented, meeting, day);
    events.length = 0;
    await buildAgenda(instrumented, meeting, day);
    return [...events];
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

const shortSql = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 110);

async function explain(url: string, event: QueryEvent): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${event.query}`, paramsOf(event));
    console.log(`  EXPLAIN ANALYZE of the agenda query slowest on its own (${event.duration.toFixed(1)} ms in the build as Prisma timed it):`);
    console.log(`    ${event.query.replace(/\s+/g, ' ').trim()}`);
    console.log(`    params ${event.params.slice(0, 300)}`);
    for (const row of rows) console.log(`    ${row['QUERY PLAN']}`);
  } catch (error) {
    console.log(`  could not EXPLAIN the slowest query: ${(error as Error).message}`);
  } finally {
    await client.end();
  }
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(state: { db?: TestDatabase; pool?: pg.Pool }): Promise<boolean> {
  assertLoopback(fail, serverUrl);
  const s = sizes;
  console.log(
    `bench:agenda at scale ${scale}: ${fmt(s.incidents)} incidents over ${fmt(s.spanDays)} days (~${Math.round(s.incidents / s.spanDays)} a day), ` +
      `${fmt(s.nominals)} nominals, ${fmt(s.flags)} flags, ${fmt(s.actions)} actions, ${fmt(s.members)} members`,
  );
  const db = (state.db = await createServerDatabase(serverUrl));
  const url = db.env.DATABASE_URL!;
  const server = await db.prisma.$queryRaw<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
  console.log(`PostgreSQL ${server[0]?.v} at ${new URL(url).host}, Node ${process.version}, pool of ${poolSize} on each side`);

  const loaded = await timed(() => load(url));
  console.log(`loaded in ${(loaded.ms / 1000).toFixed(1)} s`);

  const pool = (state.pool = new pg.Pool({ connectionString: url, max: poolSize }));
  let ok = true;
  const summary: string[][] = [['day', 'agenda median', 'p95', 'floor median', 'p95', 'ratio', `< ${targetMs} ms`, `≤ ${targetRatio}x floor`]];
  const missed: LocalDate[] = [];
  const medians = new Map<LocalDate, { agenda: number; floor: number }>();
  for (const { name, day } of days) {
    for (let i = 0; i < warmups; i++) {
      await buildAgenda(db, meeting, day);
      await floorOnce(pool, day);
    }
    const agendaMs: number[] = [];
    const floorMs: number[] = [];
    let agenda: Agenda | undefined;
    let floor: FloorCounts | undefined;
    // Alternated, so a disturbance on the machine falls on both sides alike.
    for (let i = 0; i < runs; i++) {
      const a = await timed(() => buildAgenda(db, meeting, day));
      agendaMs.push(a.ms);
      agenda = a.result;
      const f = await timed(() => floorOnce(pool, day));
      floorMs.push(f.ms);
      floor = f.result;
    }
    const got = countsOf(agenda!);
    console.log('');
    console.log(`${name}: window ${agenda!.window.start.toISOString()} to ${agenda!.window.end.toISOString()}`);
    printTable([
      ['rows', 'agenda', 'floor'],
      ...Object.keys(got).map((key) => [key, fmt(got[key as keyof FloorCounts]), fmt(floor![key as keyof FloorCounts])]),
    ]);
    const wrong = Object.keys(got).filter((key) => got[key as keyof FloorCounts] !== floor![key as keyof FloorCounts]);
    if (wrong.length > 0) {
      console.error(`bench:agenda: the agenda and the floor selected different rows (${wrong.join(', ')}); the comparison means nothing`);
      ok = false;
    }
    const agendaMedian = median(agendaMs);
    const floorMedian = median(floorMs);
    medians.set(day, { agenda: agendaMedian, floor: floorMedian });
    const ratio = agendaMedian / floorMedian;
    const underTarget = percentile(agendaMs, 95) < targetMs;
    const withinRatio = ratio <= targetRatio;
    if (!underTarget || !withinRatio) missed.push(day);
    summary.push([
      name,
      ms(agendaMedian),
      ms(percentile(agendaMs, 95)),
      ms(floorMedian),
      ms(percentile(floorMs, 95)),
      `${ratio.toFixed(2)}x`,
      met(underTarget),
      met(withinRatio),
    ]);
  }
  console.log('');
  console.log(`${runs} timed runs per day and side after ${warmups} warm-ups (the 250 ms target is judged on the p95):`);
  printTable(summary);

  for (const { name, day } of days) {
    const events = await agendaQueries(url, db, day);
    // Each query again on its own through pg: what the database and the wire cost, without Prisma and
    // without the other queries of the build competing for the CPU (the best of 5, as a busy machine
    // only ever adds).
    const alone = new Map<QueryEvent, { ms: number; rows: number }>();
    for (const e of events) {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < 5; i++) {
        const t = await timed(() => pool.query(e.query, paramsOf(e)));
        times.push(t.ms);
        rows = t.result.rowCount ?? 0;
      }
      alone.set(e, { ms: Math.min(...times), rows });
    }
    const m = medians.get(day)!;
    console.log('');
    console.log(`agenda queries for ${name}: as Prisma timed them in one build (in parallel, so they overlap), and each run alone through pg (best of 5):`);
    printTable([
      ['in build ms', 'alone ms', 'rows', 'query'],
      ...events.map((e) => [e.duration.toFixed(1), alone.get(e)!.ms.toFixed(1), fmt(alone.get(e)!.rows), shortSql(e.query)]),
    ]);
    console.log(
      `  ${events.length} queries for the agenda against ${floorQueries(day).length} for the floor; ` +
        `the agenda's median is ${(m.agenda - m.floor).toFixed(1)} ms above the floor's, time spent outside the database ` +
        `(Prisma's query engine, relation loads, mapping) or on its extra queries`,
    );
    const floorTimes: string[][] = [['ms', 'floor query, run alone (median of 5)']];
    for (const q of floorQueries(day)) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) times.push((await timed(() => pool.query(q.text, q.values))).ms);
      floorTimes.push([median(times).toFixed(1), q.name]);
    }
    printTable(floorTimes);
    if ((missed.includes(day) || alwaysExplain) && events.length > 0) {
      const slowest = events.reduce((a, b) => (alone.get(b)!.ms > alone.get(a)!.ms ? b : a));
      await explain(url, slowest);
    }
  }
  return ok;
}

const state: { db?: TestDatabase; pool?: pg.Pool } = {};
runBench('bench:agenda', timeoutMs, () => main(state), async () => {
  await state.pool?.end().catch(() => {});
  await state.db?.destroy().catch((error) => console.error(`could not drop the scratch database: ${error}`));
});
