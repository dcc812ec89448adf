// Use cases: load incidents, flags and victim contacts from a CSV file or an HTTP push, and audit each load.
import path from 'node:path';
import {
  contactRecords,
  describeProblems,
  flagRecords,
  type ContactRecord,
  incidentRecords,
  type FieldProblem,
  type FlagRecord,
  type IncidentRecord,
  type RecordKind,
} from '../domain/records.js';
import { importCsv, type CsvImportOptions, type ImportSummary } from '../ingest/csv-import.js';
import { appendAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { incidentBatch, upsertContacts, upsertFlags, writeIncidentBatch, type NominalIds, type WriteCounts } from '../store/records-repository.js';

export type RecordType = 'incidents' | 'flags' | 'contacts';

type Tx = Parameters<typeof upsertFlags>[0];

/**
 * Makes the write of a batch of records. Incidents are turned into the statement's parameters at once,
 * before any transaction, so an import can let the records go while the batch is written and the next
 * one read. `nominals` carries people's ids from one batch to the next within one import.
 */
function writerFor(db: Database, type: RecordType, source: string, nominals: NominalIds = new Map()): (records: unknown[]) => (tx: Tx) => Promise<WriteCounts> {
  if (type === 'incidents') {
    return (records) => {
      const batch = incidentBatch(records as IncidentRecord[], nominals);
      return (tx) => writeIncidentBatch(tx, batch, db.labelKey, nominals);
    };
  }
  if (type === 'contacts') return (records) => (tx) => upsertContacts(tx, records as ContactRecord[], db.labelKey, nominals);
  return (records) => (tx) => upsertFlags(tx, records as FlagRecord[], db.labelKey, source, nominals);
}

export function recordKindOf(type: RecordType): RecordKind<IncidentRecord> | RecordKind<FlagRecord> | RecordKind<ContactRecord> {
  return type === 'incidents' ? incidentRecords : type === 'contacts' ? contactRecords : flagRecords;
}

export async function importRecordsFile(
  db: Database,
  type: RecordType,
  file: string,
  actor: string,
  options: CsvImportOptions = {},
): Promise<ImportSummary> {
  const source = `import:${path.basename(file)}`;
  const writerOf = writerFor(db, type, source);
  const kind = recordKindOf(type) as RecordKind<unknown>;
  const summary = await importCsv(
    file,
    kind,
    (records) => {
      const write = writerOf(records);
      return db.prisma.$transaction((tx) => write(tx), { timeout: 120_000 });
    },
    options,
  );
  await db.prisma.$transaction((tx) =>
    appendAudit(tx, {
      actor,
      action: `import.${type}`,
      subject: path.basename(file),
      channel: 'cli',
      details: { inserted: summary.inserted, updated: summary.updated, unchanged: summary.unchanged, rejected: summary.rejected },
    }),
  );
  return summary;
}

export interface RecordProblem extends FieldProblem {
  index: number;
}

export type PushResult = { ok: true; counts: WriteCounts } | { ok: false; problems: RecordProblem[] };

/** An HTTP push is all or nothing: one bad record, or a record repeated in the push, writes none. */
export async function pushRecords(db: Database, type: RecordType, body: unknown[], actor: string): Promise<PushResult> {
  const kind = recordKindOf(type) as RecordKind<unknown>;
  const problems: RecordProblem[] = [];
  const records: unknown[] = [];
  const firstIndexOfKey = new Map<string, number>();
  body.forEach((item, index) => {
    const result = kind.schema.safeParse(item);
    if (!result.success) {
      for (const problem of describeProblems(result.error)) problems.push({ index, ...problem });
      return;
    }
    const key = kind.keyOf(result.data);
    const first = firstIndexOfKey.get(key);
    if (first !== undefined) {
      problems.push({ index, field: type === 'flags' ? 'perpetrator_ref' : 'source_ref', reason: `repeats record ${first}` });
      return;
    }
    firstIndexOfKey.set(key, index);
    records.push(result.data);
  });
  if (problems.length > 0) return { ok: false, problems };
  const write = writerFor(db, type, 'api')(records);
  const counts = await db.prisma.$transaction(
    async (tx) => {
      const written = await write(tx);
      await appendAudit(tx, {
        actor,
        action: `ingest.${type}`,
        channel: 'api',
        details: { inserted: written.inserted, updated: written.updated, unchanged: written.unchanged, records: records.length },
      });
      return written;
    },
    { timeout: 60_000 },
  );
  return { ok: true, counts };
}
