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
  type RecordType,
} from '../domain/records.js';
import { importCsv, type CsvImportOptions, type ImportSummary } from '../ingest/csv-import.js';
import { appendAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { copyingWriter, upsertRecords, type WriteCounts } from '../store/records-repository.js';

export type { RecordType };

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
  const kind = recordKindOf(type) as RecordKind<unknown>;
  const summary = await db.withBulkSession((session) => importCsv(file, kind, copyingWriter(session, type, db.labelKey, source), options));
  await appendAudit(db.prisma, {
    actor,
    action: `import.${type}`,
    subject: path.basename(file),
    channel: 'cli',
    details: { inserted: summary.inserted, updated: summary.updated, unchanged: summary.unchanged, rejected: summary.rejected },
  });
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
  const counts = await db.prisma.$transaction(
    async (tx) => {
      const written = await upsertRecords(tx, type, records, db.labelKey, 'api');
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
