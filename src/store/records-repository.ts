// Writes ingested incidents and flags in set-based batches: one statement per table per batch,
// telling inserted, updated and unchanged rows apart so a re-import reports "unchanged".
import type { Prisma } from '../generated/prisma/client.js';
import { pseudonymFor } from '../domain/pseudonym.js';
import type { ContactRecord, FlagRecord, IncidentRecord } from '../domain/records.js';

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

/**
 * Nominal ids by records-system reference, kept for the length of one import so a person named in
 * many rows is looked up (and labelled) once. Only for a single import: if a write fails, the import
 * stops and the map, which may hold ids from the rolled-back transaction, goes with it.
 */
export type NominalIds = Map<string, number>;

/**
 * Fills `ids` with the nominal id of every reference in `refs`, creating the nominals the store does
 * not know yet. References already in `ids` cost nothing; the others are looked up first, so only
 * people new to the store pay for a pseudonymous label.
 */
async function resolveNominals(tx: Tx, refs: Iterable<string>, labelKey: Buffer, ids: NominalIds): Promise<void> {
  const unknown = new Set<string>();
  for (const ref of refs) if (!ids.has(ref)) unknown.add(ref);
  if (unknown.size === 0) return;
  const add = (rows: { id: number; ref: string }[]) => {
    for (const row of rows) {
      ids.set(row.ref, row.id);
      unknown.delete(row.ref);
    }
  };
  add(await tx.$queryRaw<{ id: number; ref: string }[]>`SELECT id, ref FROM nominal WHERE ref = ANY(${textArray(unknown)}::text[])`);
  if (unknown.size === 0) return;
  const refsToCreate = [...unknown];
  const labels = refsToCreate.map((ref) => pseudonymFor(ref, labelKey));
  add(await tx.$queryRaw<{ id: number; ref: string }[]>`
    INSERT INTO nominal (ref, label)
    SELECT ref, label FROM unnest(${textArray(refsToCreate)}::text[], ${textArray(labels)}::text[]) AS t(ref, label)
    ON CONFLICT (ref) DO NOTHING
    RETURNING id, ref`);
  if (unknown.size === 0) return;
  // Created by another writer since the first look: committed now, as the insert waited for it.
  add(await tx.$queryRaw<{ id: number; ref: string }[]>`SELECT id, ref FROM nominal WHERE ref = ANY(${textArray(unknown)}::text[])`);
  if (unknown.size > 0) throw new Error(`${unknown.size} nominal(s) could be neither found nor created`);
}

interface Written {
  inserted: number;
  written: number;
}

/**
 * A batch of incidents as the upsert's parameters: built before the write, so that the records
 * themselves can be let go while it runs (an import reads the next batch meanwhile).
 */
export interface IncidentBatch {
  size: number;
  /** Each row's perpetrator then victim: the nominal id when it was known as the batch was made, else the reference. */
  people: (number | string)[];
  columns: Record<'sourceSystem' | 'sourceRef' | 'reportedAt' | 'occurredAt' | 'riskTool' | 'riskLevel' | 'profJudgement' | 'category' | 'crime' | 'area' | 'childrenPresent', string>;
}

export function incidentBatch(records: readonly IncidentRecord[], nominals: NominalIds = new Map()): IncidentBatch {
  const column = arrayLiterals(records);
  const people = new Array<number | string>(records.length * 2);
  for (let i = 0; i < records.length; i++) {
    const { perpetrator_ref: perpetrator, victim_ref: victim } = records[i]!;
    people[2 * i] = nominals.get(perpetrator) ?? perpetrator;
    people[2 * i + 1] = nominals.get(victim) ?? victim;
  }
  return {
    size: records.length,
    people,
    columns: {
      sourceSystem: column.text((r) => r.source_system),
      sourceRef: column.text((r) => r.source_ref),
      reportedAt: column.text((r) => r.reported_at.toISOString()),
      occurredAt: column.text((r) => r.occurred_at?.toISOString()),
      riskTool: column.text((r) => r.risk_tool),
      riskLevel: column.text((r) => r.risk_level),
      profJudgement: column.boolean((r) => r.prof_judgement),
      category: column.text((r) => r.category),
      crime: column.boolean((r) => r.crime),
      area: column.text((r) => r.area),
      childrenPresent: column.boolean((r) => r.children_present),
    },
  };
}

/**
 * Upserts incidents whose keys are distinct within the batch. `xmax = 0` marks a row this
 * statement inserted; a row left out of RETURNING matched and was already identical.
 * `nominals` may carry the ids of people already seen in this import (see `NominalIds`).
 */
export async function upsertIncidents(tx: Tx, records: IncidentRecord[], labelKey: Buffer, nominals: NominalIds = new Map()): Promise<WriteCounts> {
  return writeIncidentBatch(tx, incidentBatch(records, nominals), labelKey, nominals);
}

/** `upsertIncidents` for a batch built beforehand. */
export async function writeIncidentBatch(tx: Tx, batch: IncidentBatch, labelKey: Buffer, nominals: NominalIds = new Map()): Promise<WriteCounts> {
  if (batch.size === 0) return noWrites();
  const { size, people, columns: c } = batch;
  const refs: string[] = [];
  for (const person of people) if (typeof person === 'string') refs.push(person);
  await resolveNominals(tx, refs, labelKey, nominals);
  const idOf = (person: number | string) => (typeof person === 'number' ? person : nominals.get(person)!);
  const perpetrators = arrayLiterals(people.filter((_, i) => i % 2 === 0)).integer(idOf);
  const victims = arrayLiterals(people.filter((_, i) => i % 2 === 1)).integer(idOf);
  const [result] = await tx.$queryRaw<Written[]>`
    WITH written AS (
      INSERT INTO incident AS i (source_system, source_ref, reported_at, occurred_at, risk_tool, risk_level,
                                 prof_judgement, category, crime, area, children_present, perpetrator_id, victim_id)
      SELECT t.source_system, t.source_ref, t.reported_at, t.occurred_at, t.risk_tool::"RiskTool", t.risk_level::"RiskLevel",
             t.prof_judgement, t.category, t.crime, t.area, t.children_present, t.perpetrator_id, t.victim_id
      FROM unnest(
        ${c.sourceSystem}::text[], ${c.sourceRef}::text[], ${c.reportedAt}::timestamptz[], ${c.occurredAt}::timestamptz[],
        ${c.riskTool}::text[], ${c.riskLevel}::text[], ${c.profJudgement}::boolean[], ${c.category}::text[],
        ${c.crime}::boolean[], ${c.area}::text[], ${c.childrenPresent}::boolean[],
        ${perpetrators}::int[], ${victims}::int[]
      ) AS t(source_system, source_ref, reported_at, occurred_at, risk_tool, risk_level, prof_judgement,
             category, crime, area, children_present, perpetrator_id, victim_id)
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
    SELECT (count(*) FILTER (WHERE inserted))::int AS inserted, count(*)::int AS written FROM written`;
  return countsOf(result!, size);
}

/** Upserts flags keyed by (perpetrator, kind, start date); `setBy` names the source of a new flag. */
export async function upsertFlags(
  tx: Tx,
  records: FlagRecord[],
  labelKey: Buffer,
  setBy: string,
  nominals: NominalIds = new Map(),
): Promise<WriteCounts> {
  if (records.length === 0) return noWrites();
  await resolveNominals(tx, records.map((r) => r.perpetrator_ref), labelKey, nominals);
  const column = arrayLiterals(records);
  const [result] = await tx.$queryRaw<Written[]>`
    WITH written AS (
      INSERT INTO flag AS f (perpetrator_id, kind, note, starts_on, ends_on, set_by)
      SELECT t.perpetrator_id, t.kind::"FlagKind", t.note, t.starts_on, t.ends_on, ${setBy}
      FROM unnest(
        ${column.integer((r) => nominals.get(r.perpetrator_ref)!)}::int[],
        ${column.text((r) => r.kind)}::text[],
        ${column.text((r) => r.note)}::text[],
        ${column.text((r) => r.starts_on)}::date[],
        ${column.text((r) => r.ends_on)}::date[]
      ) AS t(perpetrator_id, kind, note, starts_on, ends_on)
      ON CONFLICT (perpetrator_id, kind, starts_on) DO UPDATE SET
        note = EXCLUDED.note, ends_on = EXCLUDED.ends_on, updated_at = now()
      WHERE (f.note, f.ends_on) IS DISTINCT FROM (EXCLUDED.note, EXCLUDED.ends_on)
      RETURNING (f.xmax = 0) AS inserted
    )
    SELECT (count(*) FILTER (WHERE inserted))::int AS inserted, count(*)::int AS written FROM written`;
  return countsOf(result!, records.length);
}

/** Victim contacts, one statement a batch; the same agency and source_ref again updates the contact. */
export async function upsertContacts(tx: Tx, records: ContactRecord[], labelKey: Buffer, nominals: NominalIds = new Map()): Promise<WriteCounts> {
  if (records.length === 0) return noWrites();
  await resolveNominals(tx, records.map((r) => r.victim_ref), labelKey, nominals);
  const column = arrayLiterals(records);
  const [result] = await tx.$queryRaw<Written[]>`
    WITH written AS (
      INSERT INTO victim_contact AS c (agency, source_ref, victim_id, contacted_at, perceived_risk)
      SELECT t.agency, t.source_ref, t.victim_id, t.contacted_at, t.perceived_risk
      FROM unnest(
        ${column.text((r) => r.agency)}::text[],
        ${column.text((r) => r.source_ref)}::text[],
        ${column.integer((r) => nominals.get(r.victim_ref)!)}::int[],
        ${column.text((r) => r.contacted_at.toISOString())}::timestamptz[],
        ${column.integer((r) => r.perceived_risk)}::int[]
      ) AS t(agency, source_ref, victim_id, contacted_at, perceived_risk)
      ON CONFLICT (agency, source_ref) DO UPDATE SET
        victim_id = EXCLUDED.victim_id, contacted_at = EXCLUDED.contacted_at, perceived_risk = EXCLUDED.perceived_risk, updated_at = now()
      WHERE (c.victim_id, c.contacted_at, c.perceived_risk) IS DISTINCT FROM (EXCLUDED.victim_id, EXCLUDED.contacted_at, EXCLUDED.perceived_risk)
      RETURNING (c.xmax = 0) AS inserted
    )
    SELECT (count(*) FILTER (WHERE inserted))::int AS inserted, count(*)::int AS written FROM written`;
  return countsOf(result!, records.length);
}

/**
 * A batch's columns as PostgreSQL array literals, one text parameter each. Handed a JS array instead,
 * Prisma, its pg adapter and node-postgres each walk every element (a quarter of the garbage an import
 * made, profiled on 50,000 rows). Prisma still copies each parameter twice (to JSON and back), so the
 * literals are kept short: an element is quoted only when it has to be.
 */
function arrayLiterals<R>(records: readonly R[]) {
  const parts = new Array<string>(records.length);
  const literal = () => `{${parts.join(',')}}`;
  return {
    /** Any text survives; undefined or null is SQL NULL. */
    text(value: (record: R) => string | null | undefined): string {
      for (let i = 0; i < records.length; i++) parts[i] = arrayElement(value(records[i]!));
      return literal();
    },
    boolean(value: (record: R) => boolean): string {
      for (let i = 0; i < records.length; i++) parts[i] = value(records[i]!) ? 't' : 'f';
      return literal();
    },
    integer(value: (record: R) => number): string {
      for (let i = 0; i < records.length; i++) {
        const v = value(records[i]!);
        if (!Number.isSafeInteger(v)) throw new Error(`not an integer: ${v}`);
        parts[i] = String(v);
      }
      return literal();
    },
  };
}

function textArray(values: Iterable<string>): string {
  const elements: string[] = [];
  for (const value of values) elements.push(arrayElement(value));
  return `{${elements.join(',')}}`;
}

function arrayElement(value: string | null | undefined): string {
  if (value == null) return 'NULL';
  if (isPlainElement(value)) return value;
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * Whether an array element may go unquoted: only letters, digits and . _ : / + - (a subset of what
 * PostgreSQL allows: no space, comma, brace, quote or backslash), and neither empty nor NULL.
 * A loop, as this runs for most cells of an import: twice as fast as a regular expression.
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

function countsOf({ inserted, written }: Written, batchSize: number): WriteCounts {
  return { inserted, updated: written - inserted, unchanged: batchSize - written };
}
