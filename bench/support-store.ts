// The force-scale synthetic store the database benchmarks share (bench:agenda, bench:score): ten years of
// incidents, nominals, flags, actions and panels, made set-based on the server so every run and machine
// gets the same rows.
import pg from 'pg';
import type { LocalDate } from '../src/domain/calendar.js';
import { fmt, timed } from './support.js';

/**
 * The store's shape. Full size is a force's ten years; a smaller scale keeps the daily rate (and so the
 * size of each agenda) and shortens the history instead.
 */
export function storeSizes(scale: number) {
  const n = (full: number, least: number) => Math.max(least, Math.round(full * scale));
  const nominals = n(200_000, 100);
  const perpetrators = Math.round(nominals * 0.45);
  return {
    incidents: n(1_000_000, 1_000),
    nominals,
    perpetrators,
    victims: nominals - perpetrators,
    // A few people (0.01% of nominals) are in 2% of incidents, 2% of them in 18% more; the rest spread evenly.
    extreme: n(20, 1),
    hotPerpetrators: Math.max(1, Math.round(perpetrators * 0.02)),
    hotVictims: Math.max(1, Math.round((nominals - perpetrators) * 0.02)),
    flags: n(20_000, 20),
    members: n(2_000, 50),
    actions: n(50_000, 50),
    spanDays: n(3_652, 30),
  };
}

export type StoreSizes = ReturnType<typeof storeSizes>;

export interface StoreOptions {
  scale: number;
  /** The meeting most actions and panels belong to; the rest go to `otherMeetingKey`. */
  meetingKey: string;
  otherMeetingKey: string;
  /** Actions due on or after this day are open (so the day's overdue list is realistic). */
  overdueOn: LocalDate;
  /**
   * The incidents' categories, drawn uniformly; by default 12 made-up ones ('Bench Category 1'..'12'),
   * which no gravity table knows. Spellings are stored as given (case and spaces included).
   */
  categories?: readonly string[];
  /** Run after loading (then ANALYZE), e.g. to measure a proposed index. */
  extraSql?: string;
}

/** Data ends at the start of 18 Jun 2026 (UTC); everything before spreads back over `spanDays`. */
export const dataEnd = new Date('2026-06-18T00:00:00Z');

// A deterministic uniform [0,1) for row g and a salt: the same store on every run and machine.
const r = (g: string, salt: number) => `pg_temp.r(${g}, ${salt})`;
const createRandom = `
  CREATE FUNCTION pg_temp.r(g bigint, salt bigint) RETURNS double precision
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (hashint8extended(g, salt) & 9007199254740991)::float8 / 9007199254740992.0 $$`;

/** A person id in 1..pool: 2% from the first `extreme`, 18% from the next `hot`, the rest from anywhere. */
function skewed(g: string, salt: number, pool: number, extreme: number, hot: number, offset = 0): string {
  return `(${offset} + CASE WHEN ${r(g, salt)} < 0.02 THEN 1 + floor(${r(g, salt + 1)} * ${extreme})
                  WHEN ${r(g, salt)} < 0.20 THEN ${extreme + 1} + floor(${r(g, salt + 1)} * ${hot})
                  ELSE 1 + floor(${r(g, salt + 1)} * ${pool}) END)::int`;
}

const sqlText = (text: string) => `'${text.replace(/'/g, "''")}'`;

function loadStatements(options: StoreOptions): Array<{ what: string; sql: string }> {
  const s = storeSizes(options.scale);
  const { meetingKey, otherMeetingKey, overdueOn, categories } = options;
  const dataStart = new Date(dataEnd.getTime() - s.spanDays * 86_400_000);
  const startDate = dataStart.toISOString().slice(0, 10);
  const category =
    categories && categories.length > 0
      ? `(ARRAY[${categories.map(sqlText).join(', ')}])[1 + floor(${r('g', 8)} * ${categories.length})::int]`
      : `'Bench Category ' || (1 + floor(${r('g', 8)} * 12)::int)`;
  const stepSeconds = (s.spanDays * 86_400) / s.incidents;
  const pastShare = s.spanDays / (s.spanDays + 30);
  return [
    {
      what: `${fmt(s.nominals)} nominals`,
      sql: `
        INSERT INTO nominal (id, ref, label)
        SELECT g, 'BENCH-N-' || lpad(g::text, 7, '0'),
               'N-' || substr(lpad(g::text, 10, '0'), 1, 5) || '-' || substr(lpad(g::text, 10, '0'), 6, 5)
        FROM generate_series(1, ${s.nominals}) g`,
    },
    {
      what: `${fmt(s.members)} members`,
      sql: `
        INSERT INTO member (id, slack_user_id, display_name, agency, role)
        SELECT g, 'UBENCH' || lpad(g::text, 6, '0'), 'Bench Member ' || g,
               (ARRAY['police', 'idva', 'social-care', 'health', 'housing', 'probation'])[1 + g % 6],
               (CASE WHEN g <= 3 THEN 'chair' ELSE 'member' END)::"MemberRole"
        FROM generate_series(1, ${s.members}) g`,
    },
    {
      // In time order, as a records system hands them over: ~275 a day, 10% high risk.
      what: `${fmt(s.incidents)} incidents over ${fmt(s.spanDays)} days`,
      sql: `
        INSERT INTO incident (id, source_system, source_ref, reported_at, occurred_at, risk_tool, risk_level, prof_judgement,
                              category, crime, area, children_present, perpetrator_id, victim_id, created_at, updated_at)
        SELECT g, 'bench', 'BENCH-INC-' || lpad(g::text, 7, '0'), t,
               CASE WHEN ${r('g', 2)} < 0.9 THEN t - ${r('g', 3)} * interval '72 hours' END,
               (CASE WHEN ${r('g', 4)} < 0.25 THEN NULL ELSE (ARRAY['dash', 'dara', 'other'])[1 + floor(${r('g', 5)} * 3)::int] END)::"RiskTool",
               (CASE WHEN ${r('g', 6)} < 0.10 THEN 'high' WHEN ${r('g', 6)} < 0.40 THEN 'medium' ELSE 'standard' END)::"RiskLevel",
               ${r('g', 7)} < 0.05,
               ${category},
               ${r('g', 9)} < 0.5,
               'Bench Area ' || (1 + floor(${r('g', 10)} * 9)::int),
               ${r('g', 11)} < 0.3,
               ${skewed('g', 12, s.perpetrators, s.extreme, s.hotPerpetrators)},
               ${skewed('g', 14, s.victims, s.extreme, s.hotVictims, s.perpetrators)},
               t, t
        FROM (SELECT g, timestamptz '${dataStart.toISOString()}' + ((g - 1) + ${r('g', 1)}) * ${stepSeconds} * interval '1 second' AS t
              FROM generate_series(1, ${s.incidents}) g) x`,
    },
    {
      // 30% on the prolific perpetrators; 40% open-ended, the rest lasting a week to two years.
      what: `${fmt(s.flags)} flags (fewer after duplicates are dropped)`,
      sql: `
        INSERT INTO flag (id, perpetrator_id, kind, note, starts_on, ends_on, set_by)
        SELECT g,
               (CASE WHEN ${r('g', 21)} < 0.3 THEN 1 + floor(${r('g', 22)} * ${s.extreme + s.hotPerpetrators})
                     ELSE 1 + floor(${r('g', 22)} * ${s.perpetrators}) END)::int,
               (ARRAY['cohort', 'iom', 'matac', 'marac', 'bail', 'order', 'chair'])[1 + floor(${r('g', 23)} * 7)::int]::"FlagKind",
               '', d,
               CASE WHEN ${r('g', 25)} < 0.4 THEN NULL ELSE d + (7 + floor(${r('g', 26)} * 720))::int END,
               'bench'
        FROM (SELECT g, date '${startDate}' + floor(${r('g', 24)} * ${s.spanDays})::int AS d FROM generate_series(1, ${s.flags}) g) x
        ON CONFLICT (perpetrator_id, kind, starts_on) DO NOTHING`,
    },
    {
      // Due dates over the whole history and the next 30 days; ~5% of all actions open and overdue.
      what: `${fmt(s.actions)} actions`,
      sql: `
        INSERT INTO action (id, meeting_key, incident_id, nominal_id, text, owner_id, agency, due_on, status, created_by, closed_at, created_at, updated_at)
        SELECT g, CASE WHEN ${r('g', 31)} < 0.9 THEN '${meetingKey}' ELSE '${otherMeetingKey}' END,
               CASE WHEN ${r('g', 32)} < 0.6 THEN 1 + floor(${r('g', 33)} * ${s.incidents})::int END,
               CASE WHEN ${r('g', 32)} >= 0.6 THEN 1 + floor(${r('g', 33)} * ${s.nominals})::int END,
               'BENCH action ' || g, owner,
               (ARRAY['police', 'idva', 'social-care', 'health', 'housing', 'probation'])[1 + owner % 6],
               d, st::"ActionStatus", 'bench',
               CASE WHEN st <> 'open' THEN d::timestamptz END,
               d::timestamptz - interval '14 days', d::timestamptz - interval '14 days'
        FROM (SELECT g, d, 1 + floor(${r('g', 34)} * ${s.members})::int AS owner,
                     CASE WHEN d >= date '${overdueOn}' THEN 'open'
                          WHEN ${r('g', 36)} < ${0.05 / pastShare} THEN 'open'
                          WHEN ${r('g', 36)} < 0.9 THEN 'done' ELSE 'cancelled' END AS st
              FROM (SELECT g, date '${startDate}' + floor(${r('g', 35)} * ${s.spanDays + 30})::int AS d
                    FROM generate_series(1, ${s.actions}) g) y) x`,
    },
    {
      // A panel every third day at 10:00 UTC, a quarter for another meeting, one in 17 cancelled.
      what: 'panels',
      sql: `
        INSERT INTO panel (meeting_key, kind, title, starts_at, recurrence, cancelled_at, created_by)
        SELECT CASE WHEN g % 4 = 3 THEN '${otherMeetingKey}' ELSE '${meetingKey}' END,
               (ARRAY['monthly_review', 'marac', 'local_panel'])[1 + g % 3]::"PanelKind",
               'BENCH panel ' || g,
               timestamptz '${startDate}T10:00:00Z' + g * interval '3 days',
               'every-third-day 10:00',
               CASE WHEN g % 17 = 5 THEN timestamptz '${startDate}T10:00:00Z' END,
               'bench'
        FROM generate_series(0, ${Math.ceil((s.spanDays + 60) / 3)}) g`,
    },
  ];
}

/**
 * Fills the tables the migrations made, set-based on the server. Foreign keys are not checked row by row
 * (the generator only names rows it made); the non-unique indexes are built once at the end, as a
 * restore would, from their own definitions, so the store ends with exactly the schema's indexes.
 */
export async function loadStore(url: string, options: StoreOptions): Promise<void> {
  const extraSql = options.extraSql ?? '';
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(createRandom);
    await client.query(`SET session_replication_role = replica`);
    await client.query(`SET maintenance_work_mem = '256MB'`);
    await client.query(`SET synchronous_commit = off`);
    const tables = ['nominal', 'member', 'incident', 'flag', 'action', 'panel'];
    const { rows: indexes } = await client.query<{ name: string; def: string }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
       WHERE t.relname = ANY($1) AND t.relnamespace = 'public'::regnamespace AND NOT i.indisunique`,
      [tables],
    );
    for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
    try {
      for (const step of loadStatements(options)) {
        const { ms, result } = await timed(() => client.query(step.sql));
        console.log(`  loaded ${step.what}: ${fmt(result.rowCount ?? 0)} rows in ${(ms / 1000).toFixed(1)} s`);
      }
    } finally {
      const { ms } = await timed(async () => {
        for (const index of indexes) await client.query(index.def);
      });
      console.log(`  built ${indexes.length} non-unique indexes in ${(ms / 1000).toFixed(1)} s`);
    }
    for (const table of tables) {
      await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM ${table}), false)`);
    }
    await client.query(`SET session_replication_role = DEFAULT`);
    if (extraSql.trim()) {
      const { ms } = await timed(() => client.query(extraSql));
      console.log(`  ran BENCH_EXTRA_SQL in ${(ms / 1000).toFixed(1)} s: ${extraSql.trim().replace(/\s+/g, ' ')}`);
    }
    // A store in service has been vacuumed (visibility map, statistics); doing it now also keeps
    // autovacuum from starting in the middle of the timings.
    const { ms } = await timed(() => client.query(`VACUUM (ANALYZE) ${tables.join(', ')}`));
    console.log(`  VACUUM ANALYZE in ${(ms / 1000).toFixed(1)} s`);
  } finally {
    await client.end();
  }
}
