// The outbox: every reminder is a row with a unique key, claimed (FOR UPDATE SKIP LOCKED) before it is
// sent and marked after, so any number of replicas send each one exactly once.
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

export interface OutboxItem {
  key: string;
  kind: string;
  meetingKey: string;
  recipient: string;
  payload: Prisma.InputJsonValue;
  notBefore?: Date;
}

export interface ClaimedMessage {
  id: number;
  key: string;
  kind: string;
  meetingKey: string;
  recipient: string;
  payload: unknown;
  attempts: number;
  /** An earlier attempt may have reached the platform without our knowing (a process died mid-send, an answer was lost). */
  unconfirmed: boolean;
}

/** Adds the items not already there; returns how many were new. */
export async function enqueue(prisma: PrismaClient, items: OutboxItem[], now: Date): Promise<number> {
  if (items.length === 0) return 0;
  const result = await prisma.outboxMessage.createMany({
    data: items.map((item) => ({ ...item, notBefore: item.notBefore ?? now })),
    skipDuplicates: true,
  });
  return result.count;
}

/**
 * Claims up to `limit` messages that are due, or whose claim has outlived `leaseMs` (a process that
 * died between claim and send): one statement, so two replicas never claim the same row. A dead
 * process's claim may have sent its message unrecorded, so a takeover marks the message unconfirmed.
 */
export async function claimDue(prisma: PrismaClient, claimant: string, now: Date, leaseMs: number, limit: number, meetingKeys: string[]): Promise<ClaimedMessage[]> {
  const staleBefore = new Date(now.getTime() - leaseMs);
  return prisma.$queryRaw<ClaimedMessage[]>`
    UPDATE outbox_message o
    SET status = 'claimed', claimed_by = ${claimant}, claimed_at = ${now}, attempts = o.attempts + 1,
        unconfirmed_since = CASE WHEN o.status = 'claimed' THEN COALESCE(o.unconfirmed_since, o.claimed_at) ELSE o.unconfirmed_since END
    WHERE o.id IN (
      SELECT id FROM outbox_message
      WHERE meeting_key = ANY(${meetingKeys}::text[])
        AND ((status = 'pending' AND not_before <= ${now}) OR (status = 'claimed' AND claimed_at < ${staleBefore}))
      ORDER BY id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING o.id, o.key, o.kind, o.meeting_key AS "meetingKey", o.recipient, o.payload, o.attempts,
              o.unconfirmed_since IS NOT NULL AS unconfirmed`;
}

export async function markSent(prisma: PrismaClient | Prisma.TransactionClient, id: number, claimant: string, messageRef: string, now: Date): Promise<boolean> {
  const result = await prisma.outboxMessage.updateMany({
    where: { id, claimedBy: claimant, status: 'claimed' },
    data: { status: 'sent', sentAt: now, messageRef, lastError: null },
  });
  return result.count === 1;
}

export interface RetryNote {
  /** False for a wait that is no failure (outside working hours, a rate limit): it gives back the attempt its claim counted. */
  countsAsAttempt: boolean;
  /** The failed attempt may have reached the platform (see `mayHaveLanded`), as of this instant. */
  unconfirmedSince?: Date;
}

/** Back to pending, to be tried again from `notBefore`. */
export async function markRetry(prisma: PrismaClient, id: number, claimant: string, notBefore: Date, error: string, note: RetryNote): Promise<void> {
  await prisma.$executeRaw`
    UPDATE outbox_message
    SET status = 'pending', claimed_by = NULL, claimed_at = NULL, not_before = ${notBefore}, last_error = ${error.slice(0, 500)},
        attempts = attempts - ${note.countsAsAttempt ? 0 : 1}::int,
        unconfirmed_since = COALESCE(unconfirmed_since, ${note.unconfirmedSince ?? null}::timestamptz)
    WHERE id = ${id} AND claimed_by = ${claimant} AND status = 'claimed'`;
}

export async function markFailed(prisma: PrismaClient, id: number, claimant: string, error: string): Promise<boolean> {
  const result = await prisma.outboxMessage.updateMany({
    where: { id, claimedBy: claimant, status: 'claimed' },
    data: { status: 'failed', lastError: error.slice(0, 500) },
  });
  return result.count === 1;
}
