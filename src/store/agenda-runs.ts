// The durable record behind "each agenda is posted once": one row per meeting and day, claimed
// before the send, advanced part by part, and marked posted after it.
import type { LocalDate } from '../domain/calendar.js';
import type { PrismaClient } from '../generated/prisma/client.js';

export interface ClaimedRun {
  id: number;
  partsPosted: number;
  messageRef: string | null;
  late: boolean;
}

export type Claim = { outcome: 'claimed'; run: ClaimedRun } | { outcome: 'posted'; messageRef: string | null } | { outcome: 'busy' };

/**
 * Claims the meeting's agenda for `day`, unless it is posted or another process holds a live claim.
 * A claim older than `leaseMs` belongs to a process that died mid-send and is taken over, resuming
 * after the parts it had posted.
 */
export async function claimAgendaRun(
  prisma: PrismaClient,
  meetingKey: string,
  day: LocalDate,
  claimant: string,
  now: Date,
  leaseMs: number,
): Promise<Claim> {
  const meetingDate = new Date(`${day}T00:00:00Z`);
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`
      INSERT INTO agenda_run (meeting_key, meeting_date, status) VALUES (${meetingKey}, ${meetingDate}, 'pending')
      ON CONFLICT (meeting_key, meeting_date) DO NOTHING`;
    const [row] = await tx.$queryRaw<Array<{ id: number; status: string; claimed_by: string | null; claimed_at: Date | null; parts_posted: number; message_ref: string | null; late: boolean }>>`
      SELECT id, status::text AS status, claimed_by, claimed_at, parts_posted, message_ref, late
      FROM agenda_run WHERE meeting_key = ${meetingKey} AND meeting_date = ${meetingDate} FOR UPDATE`;
    if (!row) throw new Error('agenda_run row vanished inside its transaction');
    if (row.status === 'sent') return { outcome: 'posted', messageRef: row.message_ref };
    const liveClaim = row.status === 'claimed' && row.claimed_at !== null && now.getTime() - row.claimed_at.getTime() < leaseMs;
    if (liveClaim) return { outcome: 'busy' };
    await tx.agendaRun.update({
      where: { id: row.id },
      data: { status: 'claimed', claimedBy: claimant, claimedAt: now, attempts: { increment: 1 } },
    });
    return { outcome: 'claimed', run: { id: row.id, partsPosted: row.parts_posted, messageRef: row.message_ref, late: row.late } };
  });
}

/** Records one more part posted; refuses (returns false) if the claim was lost to another process. */
export async function recordPartPosted(prisma: PrismaClient, runId: number, claimant: string, partsPosted: number, messageRef: string, now: Date): Promise<boolean> {
  const updated = await prisma.agendaRun.updateMany({
    where: { id: runId, claimedBy: claimant, status: 'claimed' },
    data: { partsPosted, claimedAt: now, ...(partsPosted === 1 ? { messageRef } : {}) },
  });
  return updated.count === 1;
}

export async function markLate(prisma: PrismaClient, runId: number): Promise<void> {
  await prisma.agendaRun.update({ where: { id: runId }, data: { late: true } });
}

export async function markPosted(prisma: PrismaClient, runId: number, claimant: string, now: Date): Promise<void> {
  await prisma.agendaRun.updateMany({ where: { id: runId, claimedBy: claimant }, data: { status: 'sent', postedAt: now, lastError: null } });
}

export async function markFailed(prisma: PrismaClient, runId: number, claimant: string, reason: string): Promise<void> {
  await prisma.agendaRun.updateMany({
    where: { id: runId, claimedBy: claimant },
    data: { status: 'failed', claimedBy: null, claimedAt: null, lastError: reason.slice(0, 500) },
  });
}
