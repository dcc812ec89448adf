// The append-only audit trail: each event's hash covers the previous one's, so an edit or a
// deletion anywhere breaks the chain from that row on.
import { createHash } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

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
  await appendAuditMany(tx, [entry], at);
}

/** Many events in one insert, chained in order: an enrolment audits every allocation without a round trip each. */
export async function appendAuditMany(tx: Tx, entries: AuditEntry[], at = new Date()): Promise<void> {
  if (entries.length === 0) return;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${auditLockKey})`;
  const last = await tx.auditEvent.findFirst({ orderBy: { id: 'desc' }, select: { hash: true } });
  let prevHash = last?.hash ?? genesis;
  const rows = entries.map((entry) => {
    const hash = auditHash(prevHash, at, entry);
    const row = {
      at,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject ?? '',
      channel: entry.channel ?? '',
      reason: entry.reason ?? '',
      details: entry.details ?? {},
      prevHash,
      hash,
    };
    prevHash = hash;
    return row;
  });
  // createMany inserts in the order given, so ids follow the chain.
  await tx.auditEvent.createMany({ data: rows });
}

export type ChainCheck = { ok: true; events: number } | { ok: false; events: number; brokenAt: number; problem: string };

/** Walks the chain in id order and names the first row whose hash or link does not hold. */
export async function verifyAuditChain(prisma: PrismaClient, pageSize = 5_000): Promise<ChainCheck> {
  let prevHash = genesis;
  let events = 0;
  let afterId = 0;
  for (;;) {
    const page = await prisma.auditEvent.findMany({ where: { id: { gt: afterId } }, orderBy: { id: 'asc' }, take: pageSize });
    if (page.length === 0) return { ok: true, events };
    for (const row of page) {
      events++;
      if (row.prevHash !== prevHash) {
        return { ok: false, events, brokenAt: row.id, problem: 'its link to the previous event does not match (an event before it was changed or deleted)' };
      }
      const entry: AuditEntry = {
        actor: row.actor,
        action: row.action,
        subject: row.subject,
        channel: row.channel,
        reason: row.reason,
        details: row.details as AuditEntry['details'],
      };
      if (auditHash(prevHash, row.at, entry) !== row.hash) {
        return { ok: false, events, brokenAt: row.id, problem: 'its content does not match its hash (the event was changed)' };
      }
      prevHash = row.hash;
      afterId = row.id;
    }
  }
}
