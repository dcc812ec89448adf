// Use case: post a meeting's agenda for a working day to its channel, exactly once across retries,
// restarts and replicas.
import type { Logger } from 'pino';
import { cutoffOf } from '../domain/agenda-window.js';
import type { LocalDate } from '../domain/calendar.js';
import type { Meeting } from '../domain/meeting.js';
import type { ChatPlatform, Clock } from '../ports.js';
import { appendAudit } from '../store/audit.js';
import { claimAgendaRun, markFailed, markLate, markPosted, recordPartPosted } from '../store/agenda-runs.js';
import type { Database } from '../store/database.js';
import { buildAgenda } from './build-agenda.js';
import { defaultRetryPolicy, withRetries, type RetryPolicy, type SendState } from './deliver.js';

/** A claim this old belongs to a process that died mid-send. */
export const agendaClaimLeaseMs = 5 * 60_000;
/** Posted this long after the meeting time, an agenda says it is late. */
export const lateAfterMs = 5 * 60_000;

export interface PostAgendaDeps {
  db: Database;
  chat: ChatPlatform;
  clock: Clock;
  log: Logger;
  /** Names this process in claims: host, pid and a random part. */
  instanceId: string;
  retry?: RetryPolicy;
}

export type PostAgendaOutcome =
  | { outcome: 'posted'; messageRef: string; parts: number; late: boolean }
  | { outcome: 'already-posted'; messageRef: string | null }
  | { outcome: 'in-progress' }
  | { outcome: 'not-due'; cutoff: Date }
  | { outcome: 'failed'; reason: string };

export async function postAgenda(deps: PostAgendaDeps, meeting: Meeting, day: LocalDate): Promise<PostAgendaOutcome> {
  const { db, chat, clock, log, instanceId } = deps;
  // Before the meeting time its window is still open: posting now would miss incidents and use up the day's one post.
  const cutoff = cutoffOf(day, meeting.time, meeting.timeZone);
  if (clock.now().getTime() < cutoff.getTime()) return { outcome: 'not-due', cutoff };
  const claim = await claimAgendaRun(db.prisma, meeting.key, day, instanceId, clock.now(), agendaClaimLeaseMs);
  if (claim.outcome === 'posted') return { outcome: 'already-posted', messageRef: claim.messageRef };
  if (claim.outcome === 'busy') return { outcome: 'in-progress' };
  const { run } = claim;
  const send: SendState = { unconfirmed: run.unconfirmed };
  try {
    let late = run.late;
    if (run.partsPosted === 0 && clock.now().getTime() - cutoff.getTime() > lateAfterMs) {
      late = true;
      await markLate(db.prisma, run.id);
    }
    const agenda = await buildAgenda(db, meeting, day);
    const messages = chat.agendaMessages(agenda, { late });
    let threadRef = run.messageRef ?? undefined;
    for (let part = run.partsPosted; part < messages.length; part++) {
      const message = { ...messages[part]!, deliveryKey: `agenda|${meeting.key}|${day}|part ${part + 1}` };
      const ref = await withRetries(
        (options) => chat.post(meeting.channel, message, part === 0 ? undefined : threadRef, options),
        deps.retry ?? defaultRetryPolicy,
        send,
      );
      send.unconfirmed = false;
      threadRef ??= ref;
      if (!(await recordPartPosted(db.prisma, run.id, instanceId, part + 1, ref, clock.now()))) {
        // Another process took the claim over: it will finish from the parts it sees recorded.
        log.warn({ meeting: meeting.key, day, part }, 'agenda claim lost mid-post');
        return { outcome: 'in-progress' };
      }
    }
    await db.prisma.$transaction(async (tx) => {
      await appendAudit(tx, {
        actor: `bot:${instanceId}`,
        action: 'agenda.post',
        subject: day,
        channel: meeting.key,
        reason: 'daily management meeting agenda',
        details: {
          highRiskIncidents: agenda.highRiskIncidents.length,
          flaggedPerpetrators: agenda.flaggedPerpetrators.length,
          repeatVictims: agenda.repeatVictims.length,
          actionsDue: agenda.actionsDue.length,
          parts: messages.length,
          late,
        },
      });
    });
    await markPosted(db.prisma, run.id, instanceId, clock.now());
    log.info({ meeting: meeting.key, day, parts: messages.length, late }, 'agenda posted');
    return { outcome: 'posted', messageRef: threadRef ?? '', parts: messages.length, late };
  } catch (error) {
    const reason = (error as Error)?.message ?? String(error);
    await markFailed(db.prisma, run.id, instanceId, reason, send.unconfirmed, clock.now());
    log.error({ meeting: meeting.key, day, err: { message: reason } }, 'agenda post failed');
    return { outcome: 'failed', reason };
  }
}
