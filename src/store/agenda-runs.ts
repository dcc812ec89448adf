// The durable record behind "each agenda is posted once": one row per meeting and day, claimed
// before the send, advanced part by part, and marked posted after it.
import type { LocalDate } from '../domain/calendar.js';
import type { PrismaClient } from '../generated/prisma/client.js';

export interface ClaimedRun {
  id: number;
  partsPosted: number;
  messageRef: string | null;
  late: boolean;
  /** The next part may already have been posted by an attempt that never heard back (see SendState). */
  unconfirmed: boolean;
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
    const [row] = await tx.$queryRaw<
      Array<{ id: number; status: string; claimed_at: Date | null; parts_posted: number; message_ref: string | null; late: boolean; unconfirmed_since: Date | null }>
    >`
      SELECT id, status::text AS status, claimed_at, parts_posted, message_ref, late, unconfirmed_since
      FROM agenda_run WHERE meeting_key = ${meetingKey} AND meeting_date = ${meetingDate} FOR UPDATE`;
    if (!row) throw new Error('agenda_run row vanished inside its transaction');
    if (row.status === 'sent') return { outcome: 'posted', messageRef: row.message_ref };
    const liveClaim = row.status === 'claimed' && row.claimed_at !== null && now.getTime() - row.claimed_at.getTime() < leaseMs;
    if (liveClaim) return { outcome: 'busy' };
    // A claim taken over from a process that died may have posted its next part without recording it.
    const unconfirmedSince = row.unconfirmed_since ?? (row.status === 'claimed' ? row.claimed_at : null);
    await tx.agendaRun.update({
      where: { id: row.id },
      data: { status: 'claimed', claimedBy: claimant, claimedAt: now, attempts: { increment: 1 }, unconfirmedSince },
    });
    return {
      outcome: 'claimed',
      run: { id: row.id, partsPosted: row.parts_posted, messageRef: row.message_ref, late: row.late, unconfirmed: unconfirmedSince !== null },
    };
  });
}

/** Records one more part posted; refuses (returns false) if the claim was lost to another process. */
export async function recordPartPosted(prisma: PrismaClient, runId: number, claimant: string, partsPosted: number, messageRef: string, now: Date): Promise<boolean> {
  const updated = await prisma.agendaRun.updateMany({
    where: { id: runId, claimedBy: claimant, status: 'claimed' },
    data: { partsPosted, claimedAt: now, unconfirmedSince: null, ...(partsPosted === 1 ? { messageRef } : {}) },
  });
  return updated.count === 1;
}

export async function markLate(prisma: PrismaClient, runId: number): Promise<void> {
  await prisma.agendaRun.update({ where: { id: runId }, data: { late: true } });
}

export async function markPosted(prisma: PrismaClient, runId: number, claimant: string, now: Date): Promise<void> {
  await prisma.agendaRun.updateMany({ where: { id: runId, claimedBy: claimant }, data: { status: 'sent', postedAt: now, lastError: null } });
}

/** `unconfirmed`: the failed part may have been posted all the same, so the next attempt looks for it first. */
export async function markFailed(prisma: PrismaClient, runId: number, claimant: string, reason: string, unconfirmed: boolean, now: Date): Promise<void> {
  await prisma.$executeRaw`
    UPDATE agenda_run
    SET status = 'failed', claimed_by = NULL, claimed_at = NULL, last_error = ${reason.slice(0, 500)},
        unconfirmed_since = CASE WHEN ${unconfirmed}::boolean THEN COALESCE(unconfirmed_since, ${now}::timestamptz) ELSE NULL END
    WHERE id = ${runId} AND claimed_by = ${claimant}`;
}

// A posted agenda's thread never changes, so once found it is remembered: every answer in the
// meeting's channel goes to that thread, and this spares each command a query.
const knownThreads = new WeakMap<PrismaClient, Map<string, string>>();

/** The thread of the meeting's agenda for `day`, if it has been posted. */
export async function agendaThreadOf(prisma: PrismaClient, meetingKey: string, day: LocalDate): Promise<string | undefined> {
  let known = knownThreads.get(prisma);
  if (!known) knownThreads.set(prisma, (known = new Map()));
  const key = `${meetingKey}\n${day}`;
  const cached = known.get(key);
  if (cached) return cached;
  const run = await prisma.agendaRun.findFirst({
    where: { meetingKey, meetingDate: new Date(`${day}T00:00:00Z`), messageRef: { not: null } },
    select: { messageRef: true },
  });
  if (!run?.messageRef) return undefined;
  // Only today's and yesterday's matter; the map never grows past a few days of meetings.
  if (known.size > 200) known.clear();
  known.set(key, run.messageRef);
  return run.messageRef;
}
