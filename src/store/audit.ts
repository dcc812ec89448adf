// The append-only audit trail: each event's hash covers the previous one's, so an edit or a
// deletion anywhere breaks the chain from that row on.
import { createHash } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client.js';

export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string;
  channel?: string;
  reason?: string;
  details?: Record<string, string | number | boolean | null>;
}

type Tx = Prisma.TransactionClient;

const genesis = '0'.repeat(64);
// One writer at a time keeps the chain a single line; the lock ends with the transaction.
const auditLockKey = 7_412_001;

export function auditHash(prevHash: string, at: Date, entry: AuditEntry): string {
  const details = entry.details ?? {};
  const canonicalDetails = Object.keys(details)
    .sort()
    .map((key) => [key, details[key]]);
  const body = JSON.stringify([
    prevHash,
    at.toISOString(),
    entry.actor,
    entry.action,
    entry.subject ?? '',
    entry.channel ?? '',
    entry.reason ?? '',
    canonicalDetails,
  ]);
  return createHash('sha256').update(body).digest('hex');
}

/** Appends inside the caller's transaction, so the record and its audit row commit together. */
export async function appendAudit(tx: Tx, entry: AuditEntry, at = new Date()): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${auditLockKey})`;
  const last = await tx.auditEvent.findFirst({ orderBy: { id: 'desc' }, select: { hash: true } });
  const prevHash = last?.hash ?? genesis;
  await tx.auditEvent.create({
    data: {
      at,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject ?? '',
      channel: entry.channel ?? '',
      reason: entry.reason ?? '',
      details: entry.details ?? {},
      prevHash,
      hash: auditHash(prevHash, at, entry),
    },
  });
}
