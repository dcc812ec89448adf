// Use case: hand the audit trail to information governance as CSV; the export is itself audited.
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { appendAudit } from '../store/audit.js';
import type { AuditEvent } from '../generated/prisma/client.js';
import type { Database } from '../store/database.js';
import { StoreError } from '../store/database.js';

const columns = ['id', 'at', 'actor', 'action', 'subject', 'channel', 'reason', 'details', 'prev_hash', 'hash'];

export async function exportAudit(db: Database, since: Date, outFile: string | undefined, actor: string, reason: string): Promise<number> {
  let target: Writable = process.stdout;
  if (outFile) {
    const existing = await stat(outFile).catch(() => undefined);
    if (existing?.isDirectory()) throw new StoreError(`--out ${outFile} is a folder; name a file.`);
    // Open the file first: an export that cannot be written must not be recorded as made.
    const file = createWriteStream(outFile);
    try {
      await once(file, 'open');
    } catch (error) {
      throw new StoreError(`Cannot write --out ${outFile}: ${(error as { code?: string }).code ?? (error as Error).message}`);
    }
    target = file;
  }
  await appendAudit(db.prisma, { actor, action: 'audit.export', reason, details: { since: since.toISOString().slice(0, 10) } });
  const csv = stringify({ header: true, columns });
  csv.pipe(target);
  let count = 0;
  const write = async (row: AuditEvent) => {
    if (!csv.write([row.id, row.at.toISOString(), row.actor, row.action, row.subject, row.channel, row.reason, JSON.stringify(row.details), row.prevHash, row.hash])) {
      await once(csv, 'drain');
    }
    count++;
  };
  // In chain order, so each row's prev_hash is the hash of the row before it.
  let afterSeq = 0;
  for (;;) {
    const page = await db.prisma.auditEvent.findMany({ where: { seq: { gt: afterSeq }, at: { gte: since } }, orderBy: { seq: 'asc' }, take: 5_000 });
    if (page.length === 0) break;
    for (const row of page) await write(row);
    afterSeq = page.at(-1)!.seq!;
  }
  // Events off the chain exist only if someone wrote around it; they are shown, not hidden.
  for (const row of await db.prisma.auditEvent.findMany({ where: { seq: null, at: { gte: since } }, orderBy: { id: 'asc' } })) await write(row);
  csv.end();
  if (outFile) await once(target, 'finish');
  return count;
}
