// Writes ingested incidents, flags and victim contacts. Records go into a staging table first (by COPY
// from a file import, by unnest from a push or a seed), and the same set-based SQL then merges the
// people and the records, telling inserted, updated and unchanged rows apart so a re-import reports
// "unchanged".
import type { Prisma } from '../generated/prisma/client.js';
import { pseudonymFor } from '../domain/pseudonym.js';
import type { ContactRecord, FlagRecord, IncidentRecord, RecordType } from '../domain/records.js';
import { CopyRows, type BulkSession } from './bulk-session.js';

type Tx = Prisma.TransactionClient;

export interface WriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export const noWrites = (): WriteCounts => ({ inserted: 0, updated: 0, unchanged: 0 });

export function addCounts(total: WriteCounts, more: WriteCounts): WriteCounts {
  total.inserted += more.inserted;
  total.updated += more.updated;
  total.unchanged += more.unchanged;
  return total;
}

/** Statements inside one transaction: Prisma's interactive transaction or a bulk session's. */
interface Sql {
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** A staged value as text, the form both COPY and an array literal take; null is SQL NULL. */
type StageValue = string | null;

/**
 * A person's pseudonymous label the first time one write (an import, a push) meets their reference,
 * null after. The HMAC is paid once per person however many rows name them, and the nominal merge
 * meets each person at most once; a person already in the store keeps their row.
 */
type Labeller = (ref: string) => string | null;

function labellerFor(labelKey: Buffer): Labeller {
  const met = new Set<string>();
  return (ref) => {
    if (met.has(ref)) return null;
    met.add(ref);
    return pseudonymFor(ref, labelKey);
  };
}

/** How one kind of record is staged and merged. */
interface Staging<R> {
  /** A temporary table, emptied at every commit. */
  table: string;
  columns: readonly (readonly [name: string, type: string])[];
  /** The people a staged row names: each prefix has a `_ref` and a `_label` column. */
  people: readonly string[];
  /** Whether `$1` of the merge is the write's source (a flag records who set it). */
  namesSource: boolean;
  /** A record's values in the order of `columns`. */
  row(record: R, label: Labeller): StageValue[];
  /**
   * Upserts the staged rows and answers how many it inserted and how many it wrote. A row identical
   * to the stored one is left out before the insert, by a look-up through the key's index (a scalar
   * subquery, which the planner cannot turn into a join reading the whole table): ON CONFLICT would
   * lock it, writing to the table and its log for a row that does not change. The ON CONFLICT
   * condition stays for a row another writer stores meanwhile. A person the store lacks (LEFT JOIN)
   * fails the NOT NULL constraint rather than drop the row unseen.
   */
  merge: string;
}

const bool = (value: boolean): StageValue => (value ? 't' : 'f');

const incidentStaging: Staging<IncidentRecord> = {
  table: 'incident_stage',
  columns: [
    ['source_system', 'text'], ['source_ref', 'text'], ['reported_at', 'timestamptz'], ['occurred_at', 'timestamptz'],
    ['risk_tool', '"RiskTool"'], ['risk_level', '"RiskLevel"'], ['prof_judgement', 'boolean'], ['category', 'text'],
    ['crime', 'boolean'], ['area', 'text'], ['children_present', 'boolean'],
    ['perpetrator_ref', 'text'], ['perpetrator_label', 'text'], ['victim_ref', 'text'], ['victim_label', 'text'],
  ],
  people: ['perpetrator', 'victim'],
  namesSource: false,
  row: (r, label) => [
    r.source_system, r.source_ref, r.reported_at.toISOString(), r.occurred_at?.toISOString() ?? null,
    r.risk_tool ?? null, r.risk_level, bool(r.prof_judgement), r.category,
    bool(r.crime), r.area, bool(r.children_present),
    r.perpetrator_ref, label(r.perpetrator_ref), r.victim_ref, label(r.victim_ref),
  ],
  merge: `
    WITH written AS (
      INSERT INTO incident AS i (source_system, source_ref, reported_at, occurred_at, risk_tool, risk_level,
                                 prof_judgement, category, crime, area, children_present, perpetrator_id, victim_id)
      SELECT s.source_system, s.source_ref, s.reported_at, s.occurred_at, s.risk_tool, s.risk_level,
             s.prof_judgement, s.category, s.crime, s.area, s.children_present, p.id, v.id
      FROM incident_stage s
      LEFT JOIN nominal p ON p.ref = s.perpetrator_ref
      LEFT JOIN nominal v ON v.ref = s.victim_ref
      WHERE (SELECT (e.reported_at, e.occurred_at, e.risk_tool, e.risk_level, e.prof_judgement, e.category, e.crime, e.area,
                     e.children_present, e.perpetrator_id, e.victim_id)
             FROM incident e WHERE e.source_system = s.source_system AND e.source_ref = s.source_ref)
        IS DISTINCT FROM
            (s.reported_at, s.occurred_at, s.risk_tool, s.risk_level, s.prof_judgement, s.category, s.crime, s.area,
             s.children_present, p.id, v.id)
      ON CONFLICT (source_system, source_ref) DO UPDATE SET
        reported_at = EXCLUDED.reported_at, occurred_at = EXCLUDED.occurred_at, risk_tool = EXCLUDED.risk_tool,
        risk_level = EXCLUDED.risk_level, prof_judgement = EXCLUDED.prof_judgement, category = EXCLUDED.category,
        crime = EXCLUDED.crime, area = EXCLUDED.area, children_present = EXCLUDED.children_present,
        perpetrator_id = EXCLUDED.perpetrator_id, victim_id = EXCLUDED.victim_id, updated_at = now()
      WHERE (i.reported_at, i.occurred_at, i.risk_tool, i.risk_level, i.prof_judgement, i.category, i.crime, i.area,
             i.children_present, i.perpetrator_id, i.victim_id)
        IS DISTINCT FROM
            (EXCLUDED.reported_at, EXCLUDED.occurred_at, EXCLUDED.risk_tool, EXCLUDED.risk_level, EXCLUDED.prof_judgement,
             EXCLUDED.category, EXCLUDED.crime, EXCLUDED.area, EXCLUDED.children_present, EXCLUDED.perpetrator_id,
             EXCLUDED.victim_id)
      RETURNING (i.xmax = 0) AS inserted
    )
    SELECT (count(*) FILTER (WHERE inserted))::int AS inserted, count(*)::int AS written FROM written`,
};

const flagStaging: Staging<FlagRecord> = {
  table: 'flag_stage',
  columns: [
    ['perpetrator_ref', 'text'], ['perpetrator_label', 'text'], ['kind', '"FlagKind"'], ['note', 'text'],
    ['starts_on', 'date'], ['ends_on', 'date'],
  ],
  people: ['perpetrator'],
  namesSource: true,
  row: (r, label) => [r.perpetrator_ref, label(r.perpetrator_ref), r.kind, r.note, r.starts_on, r.ends_on ?? null],
  merge: `
    WITH written AS (
      INSERT INTO flag AS f (perpetrator_id, kind, note, starts_on, ends_on, set_by)
      SELECT p.id, s.kind, s.note, s.starts_on, s.ends_on, $1
      FROM flag_stage s
      LEFT JOIN nominal p ON p.ref = s.perpetrator_ref
      WHERE (SELECT (e.note, e.ends_on) FROM flag e WHERE e.perpetrator_id = p.id AND e.kind = s.kind AND e.starts_on = s.starts_on)
        IS DISTINCT FROM (s.note, s.ends_on)
      ON CONFLICT (perpetrator_id, kind, starts_on) DO UPDATE SET
        note = EXCLUDED.note, ends_on = EXCLUDED.ends_on, updated_at = now()
      WHERE (f.note, f.ends_on) IS DISTINCT FROM (EXCLUDED.note, EXCLUDED.ends_on)
      RETURNING (f.xmax = 0) AS inserted
    )
    SELECT (count(*) FILTER (WHERE inserted))::int AS inserted, count(*)::int AS written FROM written`,
};

const contactStaging: Staging<ContactRecord> = {
  table: 'contact_stage',
  columns: [
    ['agency', 'text'], ['source_ref', 'text'], ['victim_ref', 'text'], ['victim_label', 'text'],
    ['contacted_at', 'timestamptz'], ['perceived_risk', 'integer'],
  ],
  people: ['victim'],
  namesSource: false,
  row: (r, label) => [r.agency, r.source_ref, r.victim_ref, label(r.victim_ref), r.contacted_at.toISOString(), String(r.perceived_risk)],
  merge: `
    WITH written AS (
      INSERT INTO victim_contact AS c (agency, source_ref, victim_id, contacted_at, perceived_risk)
      SELECT s.agency, s.source_ref, v.id, s.contacted_at, s.perceived_risk
      FROM contact_stage s
      LEFT JOIN nominal v ON v.ref = s.victim_ref
      WHERE (SELECT (e.victim_id, e.contacted_at, e.perceived_risk) FROM victim_contact e WHERE e.agency = s.agency AND e.source_ref = s.source_ref)
        IS DISTINCT FROM (v.id, s.contacted_at, s.perceived_risk)
      ON CONFLICT (agency, source_ref) DO UPDATE SET
        victim_id = EXCLUDED.victim_id, contacted_at = EXCLUDED.contacted_at, perceived_risk = EXCLUDED.perceived_risk, updated_at = now()
      WHERE (c.victim_id, c.contacted_at, c.perceived_risk) IS DISTINCT FROM (EXCLUDED.victim_id, EXCLUDED.contacted_at, EXCLUDED.perceived_risk)
      RETURNING (c.xmax = 0) AS inserted
    )
    SELECT (count(*) FILTER (WHERE inserted))::int AS inserted, count(*)::int AS written FROM written`,
};

const stagings: Record<RecordType, Staging<unknown>> = { incidents: incidentStaging, flags: flagStaging, contacts: contactStaging };

/**
 * Creates the staging table on this connection if it has none yet, and empties it: it is empty at
 * the start of every transaction, but one transaction may write more than once.
 */
async function prepareStage(sql: Sql, staging: Staging<unknown>): Promise<void> {
  const columns = staging.columns.map(([name, type]) => `${name} ${type}`).join(', ');
  await sql.query(`CREATE TEMP TABLE IF NOT EXISTS ${staging.table} (${columns}) ON COMMIT DELETE ROWS`);
  await sql.query(`DELETE FROM ${staging.table}`);
}

/**
 * Merges what is staged: first the people the write labelled (in reference order, so concurrent
 * importers lock them in the same order), then the records. A person another writer is creating
 * meanwhile is waited for by ON CONFLICT, and then found by the records' merge, a statement later.
 */
async function mergeStaged(sql: Sql, staging: Staging<unknown>, size: number, source: string): Promise<WriteCounts> {
  const labelled = staging.people
    .map((person) => `SELECT ${person}_ref, ${person}_label FROM ${staging.table} WHERE ${person}_label IS NOT NULL`)
    .join(' UNION ALL ');
  await sql.query(`INSERT INTO nominal (ref, label) SELECT * FROM (${labelled}) AS person(ref, label) ORDER BY ref ON CONFLICT (ref) DO NOTHING`);
  const [written] = await sql.query<Written>(staging.merge, staging.namesSource ? [source] : []);
  return countsOf(written!, size);
}

interface Written {
  inserted: number;
  written: number;
}

function countsOf({ inserted, written }: Written, size: number): WriteCounts {
  return { inserted, updated: written - inserted, unchanged: size - written };
}

/**
 * Upserts records whose keys are distinct, inside the caller's Prisma transaction: a push, a seed.
 * `source` names the source of new flags.
 */
export async function upsertRecords<R>(tx: Tx, type: RecordType, records: readonly R[], labelKey: Buffer, source: string): Promise<WriteCounts> {
  if (records.length === 0) return noWrites();
  const staging = stagings[type] as Staging<R>;
  const sql: Sql = { query: <T>(text: string, params: readonly unknown[] = []) => tx.$queryRawUnsafe<T[]>(text, ...params) };
  await prepareStage(sql, staging);
  const label = labellerFor(labelKey);
  const columns = staging.columns.map(() => new Array<string>(records.length));
  for (let i = 0; i < records.length; i++) {
    const values = staging.row(records[i]!, label);
    for (let c = 0; c < values.length; c++) columns[c]![i] = arrayElement(values[c]!);
  }
  const names = staging.columns.map(([name]) => name).join(', ');
  const arrays = staging.columns.map(([, type], c) => `$${c + 1}::${type}[]`).join(', ');
  await sql.query(`INSERT INTO ${staging.table} (${names}) SELECT * FROM unnest(${arrays})`, columns.map((elements) => `{${elements.join(',')}}`));
  return mergeStaged(sql, staging, records.length, source);
}

/** Incidents are keyed by (source_system, source_ref). */
export function upsertIncidents(tx: Tx, records: readonly IncidentRecord[], labelKey: Buffer): Promise<WriteCounts> {
  return upsertRecords(tx, 'incidents', records, labelKey, '');
}

/** Flags are keyed by (perpetrator, kind, start date); `setBy` names the source of a new flag. */
export function upsertFlags(tx: Tx, records: readonly FlagRecord[], labelKey: Buffer, setBy: string): Promise<WriteCounts> {
  return upsertRecords(tx, 'flags', records, labelKey, setBy);
}

/** Victim contacts are keyed by (agency, source_ref). */
export function upsertContacts(tx: Tx, records: readonly ContactRecord[], labelKey: Buffer): Promise<WriteCounts> {
  return upsertRecords(tx, 'contacts', records, labelKey, '');
}

/** Takes records one at a time and stores them a batch at a time. */
export interface BatchWriter<R> {
  /** Adds a record, whose key differs from the others in the batch, to the batch being built. */
  add(record: R): void;
  /** Stores the batch built so far, in a transaction of its own, and starts a new one. */
  flush(): Promise<WriteCounts>;
}

/**
 * Writes batches through a bulk session with COPY: a file import. A record becomes its COPY row as it
 * is added, so only that text is held while the batch before it is written, and people are labelled
 * once per import. `source` names the source of new flags.
 */
export function copyingWriter<R>(session: BulkSession, type: RecordType, labelKey: Buffer, source: string): BatchWriter<R> {
  const staging = stagings[type] as Staging<R>;
  const names = staging.columns.map(([name]) => name);
  const label = labellerFor(labelKey);
  const rows = new CopyRows();
  let size = 0;
  return {
    add(record) {
      rows.add(staging.row(record, label));
      size++;
    },
    flush() {
      const batch = { rows: rows.take(), size };
      size = 0;
      if (batch.size === 0) return Promise.resolve(noWrites());
      return session
        .transaction(async (tx) => {
          await prepareStage(tx, staging);
          await tx.copyIn(staging.table, names, batch.rows);
          return mergeStaged(tx, staging, batch.size, source);
        })
        .finally(() => rows.reuse(batch.rows));
    },
  };
}

/** An array literal's element: quoted unless plainly safe, so any text survives; null is NULL. */
function arrayElement(value: StageValue): string {
  if (value === null) return 'NULL';
  if (isPlainElement(value)) return value;
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * Whether an array element may go unquoted: only letters, digits and . _ : / + - (a subset of what
 * PostgreSQL allows: no space, comma, brace, quote or backslash), and neither empty nor NULL.
 */
function isPlainElement(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const plain =
      (c >= 48 && c <= 58) || // 0-9 and :
      (c >= 65 && c <= 90) || // A-Z
      (c >= 97 && c <= 122) || // a-z
      c === 46 || c === 95 || c === 47 || c === 43 || c === 45; // . _ / + -
    if (!plain) return false;
  }
  return value.length !== 4 || value.toLowerCase() !== 'null';
}
