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
 * died between claim and send): one statement, so two replicas never claim the same row.
 */
export async function claimDue(prisma: PrismaClient, claimant: string, now: Date, leaseMs: number, limit: number, meetingKeys: string[]): Promise<ClaimedMessage[]> {
  const staleBefore = new Date(now.getTime() - leaseMs);
  return prisma.$queryRaw<ClaimedMessage[]>`
    UPDATE outbox_message o
    SET status = 'claimed', claimed_by = ${claimant}, claimed_at = ${now}, attempts = o.attempts + 1
    WHERE o.id IN (
      SELECT id FROM outbox_message
      WHERE meeting_key = ANY(${meetingKeys}::text[])
        AND ((status = 'pending' AND not_before <= ${now}) OR (status = 'claimed' AND claimed_at < ${staleBefore}))
      ORDER BY id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING o.id, o.key, o.kind, o.meeting_key AS "meetingKey", o.recipient, o.payload, o.attempts`;
}

export async function markSent(prisma: PrismaClient | Prisma.TransactionClient, id: number, claimant: string, messageRef: string, now: Date): Promise<boolean> {
  const result = await prisma.outboxMessage.updateMany({
    where: { id, claimedBy: claimant, status: 'claimed' },
    data: { status: 'sent', sentAt: now, messageRef, lastError: null },
  });
  return result.count === 1;
}

/**
 * Back to pending, to be tried again from `notBefore`. A wait that is no failure (outside working
 * hours, a rate limit) gives back the attempt its claim counted.
 */
export async function markRetry(prisma: PrismaClient, id: number, claimant: string, notBefore: Date, error: string, countsAsAttempt = true): Promise<void> {
  await prisma.outboxMessage.updateMany({
    where: { id, claimedBy: claimant, status: 'claimed' },
    data: {
      status: 'pending',
      claimedBy: null,
      claimedAt: null,
      notBefore,
      lastError: error.slice(0, 500),
      ...(countsAsAttempt ? {} : { attempts: { decrement: 1 } }),
    },
  });
}

export async function markFailed(prisma: PrismaClient, id: number, claimant: string, error: string): Promise<boolean> {
  const result = await prisma.outboxMessage.updateMany({
    where: { id, claimedBy: claimant, status: 'claimed' },
    data: { status: 'failed', lastError: error.slice(0, 500) },
  });
  return result.count === 1;
}
