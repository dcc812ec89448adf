// Writes ingested incidents and flags in set-based batches: one statement per table per batch,
// telling inserted, updated and unchanged rows apart so a re-import reports "unchanged".
import type { Prisma } from '../generated/prisma/client.js';
import { pseudonymFor } from '../domain/pseudonym.js';
import type { FlagRecord, IncidentRecord } from '../domain/records.js';

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

/** Creates the nominals a batch mentions that the store does not know yet. */
async function ensureNominals(tx: Tx, refs: Iterable<string>, labelKey: Buffer): Promise<void> {
  const distinct = [...new Set(refs)];
  if (distinct.length === 0) return;
  const labels = distinct.map((ref) => pseudonymFor(ref, labelKey));
  await tx.$executeRaw`
    INSERT INTO nominal (ref, label)
    SELECT ref, label FROM unnest(${distinct}::text[], ${labels}::text[]) AS t(ref, label)
    ON CONFLICT (ref) DO NOTHING`;
}

/**
 * Upserts incidents whose keys are distinct within the batch. `xmax = 0` marks a row this
 * statement inserted; a row left out of RETURNING matched and was already identical.
 */
export async function upsertIncidents(tx: Tx, records: IncidentRecord[], labelKey: Buffer): Promise<WriteCounts> {
  if (records.length === 0) return noWrites();
  await ensureNominals(tx, records.flatMap((r) => [r.perpetrator_ref, r.victim_ref]), labelKey);
  const rows = await tx.$queryRaw<{ inserted: boolean }[]>`
    WITH input AS (
      SELECT * FROM unnest(
        ${records.map((r) => r.source_system)}::text[],
        ${records.map((r) => r.source_ref)}::text[],
        ${records.map((r) => r.reported_at.toISOString())}::timestamptz[],
        ${records.map((r) => r.occurred_at?.toISOString() ?? null)}::timestamptz[],
        ${records.map((r) => r.risk_tool ?? null)}::text[],
        ${records.map((r) => r.risk_level)}::text[],
        ${records.map((r) => r.prof_judgement)}::boolean[],
        ${records.map((r) => r.category)}::text[],
        ${records.map((r) => r.crime)}::boolean[],
        ${records.map((r) => r.area)}::text[],
        ${records.map((r) => r.children_present)}::boolean[],
        ${records.map((r) => r.perpetrator_ref)}::text[],
        ${records.map((r) => r.victim_ref)}::text[]
      ) AS t(source_system, source_ref, reported_at, occurred_at, risk_tool, risk_level, prof_judgement,
             category, crime, area, children_present, perpetrator_ref, victim_ref)
    )
    INSERT INTO incident AS i (source_system, source_ref, reported_at, occurred_at, risk_tool, risk_level,
                               prof_judgement, category, crime, area, children_present, perpetrator_id, victim_id)
    SELECT t.source_system, t.source_ref, t.reported_at, t.occurred_at, t.risk_tool::"RiskTool", t.risk_level::"RiskLevel",
           t.prof_judgement, t.category, t.crime, t.area, t.children_present, p.id, v.id
    FROM input t
    JOIN nominal p ON p.ref = t.perpetrator_ref
    JOIN nominal v ON v.ref = t.victim_ref
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
    RETURNING (i.xmax = 0) AS inserted`;
  return countReturned(rows, records.length);
}

/** Upserts flags keyed by (perpetrator, kind, start date); `setBy` names the source of a new flag. */
export async function upsertFlags(tx: Tx, records: FlagRecord[], labelKey: Buffer, setBy: string): Promise<WriteCounts> {
  if (records.length === 0) return noWrites();
  await ensureNominals(tx, records.map((r) => r.perpetrator_ref), labelKey);
  const rows = await tx.$queryRaw<{ inserted: boolean }[]>`
    WITH input AS (
      SELECT * FROM unnest(
        ${records.map((r) => r.perpetrator_ref)}::text[],
        ${records.map((r) => r.kind)}::text[],
        ${records.map((r) => r.note)}::text[],
        ${records.map((r) => r.starts_on)}::date[],
        ${records.map((r) => r.ends_on ?? null)}::date[]
      ) AS t(perpetrator_ref, kind, note, starts_on, ends_on)
    )
    INSERT INTO flag AS f (perpetrator_id, kind, note, starts_on, ends_on, set_by)
    SELECT p.id, t.kind::"FlagKind", t.note, t.starts_on, t.ends_on, ${setBy}
    FROM input t JOIN nominal p ON p.ref = t.perpetrator_ref
    ON CONFLICT (perpetrator_id, kind, starts_on) DO UPDATE SET
      note = EXCLUDED.note, ends_on = EXCLUDED.ends_on, updated_at = now()
    WHERE (f.note, f.ends_on) IS DISTINCT FROM (EXCLUDED.note, EXCLUDED.ends_on)
    RETURNING (f.xmax = 0) AS inserted`;
  return countReturned(rows, records.length);
}

function countReturned(rows: { inserted: boolean }[], batchSize: number): WriteCounts {
  const inserted = rows.filter((r) => r.inserted).length;
  const updated = rows.length - inserted;
  return { inserted, updated, unchanged: batchSize - rows.length };
}
