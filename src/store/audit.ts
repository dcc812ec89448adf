// The append-only audit trail: each event's hash covers the previous one's, so an edit or a
// deletion anywhere breaks the chain from that row on.
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string;
  channel?: string;
  reason?: string;
  details?: Record<string, string | number | boolean | null>;
}

/** A transaction, so the event commits with the change it records; or the client, for an event on its own. */
type AuditWriter = Pick<Prisma.TransactionClient, 'auditEvent'>;

const genesis = '0'.repeat(64);

/**
 * Appends inside the caller's transaction, so the record and its audit row commit together. The
 * database links the row into the chain as that transaction commits (see the migration
 * audit_chain_at_commit), so no writer waits on another before then.
 */
export async function appendAudit(tx: AuditWriter, entry: AuditEntry, at = new Date()): Promise<void> {
  await appendAuditMany(tx, [entry], at);
}

/** Many events in one insert, chained in order: an enrolment audits every allocation without a round trip each. */
export async function appendAuditMany(tx: AuditWriter, entries: AuditEntry[], at = new Date()): Promise<void> {
  if (entries.length === 0) return;
  // createMany inserts in the order given, and the commit-time links follow insertion order.
  await tx.auditEvent.createMany({
    data: entries.map((entry) => ({
      at,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject ?? '',
      channel: entry.channel ?? '',
      reason: entry.reason ?? '',
      details: entry.details ?? {},
    })),
  });
}

export type ChainCheck =
  | { ok: true; events: number }
  | { ok: false; events: number; /** The id of the first event found wrong, where one is. */ brokenAt?: number; problem: string };

interface ChainRow {
  id: number;
  seq: number;
  prev_hash: string | null;
  hash: string | null;
  recomputed: string | null;
}

/** Walks the chain in its order and names the first event whose hash or link does not hold. */
export async function verifyAuditChain(prisma: PrismaClient, pageSize = 5_000): Promise<ChainCheck> {
  let prevHash = genesis;
  let prevSeq = 0;
  let lastId: number | undefined;
  let events = 0;
  for (;;) {
    // The hash is recomputed by the same SQL function that made it, so there is one definition.
    const page = await prisma.$queryRaw<ChainRow[]>`
      SELECT id, seq, prev_hash, hash,
             audit_event_hash(prev_hash, at, actor, action, subject, channel, reason, details) AS recomputed
      FROM audit_event WHERE seq > ${prevSeq} ORDER BY seq LIMIT ${pageSize}`;
    if (page.length === 0) break;
    for (const row of page) {
      events++;
      if (row.seq !== prevSeq + 1 || row.prev_hash !== prevHash) {
        return { ok: false, events, brokenAt: row.id, problem: 'its link to the previous event does not match (an event before it was changed or deleted)' };
      }
      if (row.recomputed !== row.hash) {
        return { ok: false, events, brokenAt: row.id, problem: 'its content does not match its hash (the event was changed)' };
      }
      prevHash = row.hash!;
      prevSeq = row.seq;
      lastId = row.id;
    }
  }
  const head = await prisma.auditChainHead.findUnique({ where: { id: 1 } });
  if ((head?.seq ?? 0) !== prevSeq || (head?.hash ?? genesis) !== prevHash) {
    const removed = (head?.seq ?? 0) - prevSeq;
    const problem =
      removed <= 0
        ? "the chain's head does not match its newest event (the head or the event was changed)"
        : lastId === undefined
          ? `all ${removed} events were deleted`
          : `the ${removed} newest event(s) after it were deleted`;
    return { ok: false, events, ...(lastId === undefined ? {} : { brokenAt: lastId }), problem };
  }
  // Every committed event is linked by the trigger, so an unlinked one was written around it.
  const unlinked = await prisma.auditEvent.findFirst({ where: { seq: null }, orderBy: { id: 'asc' }, select: { id: true } });
  if (unlinked) {
    return { ok: false, events: events + 1, brokenAt: unlinked.id, problem: 'it is not on the chain (it was written with the chain switched off)' };
  }
  return { ok: true, events };
}
