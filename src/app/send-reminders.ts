// Use case: plan the reminders due at an instant, put them in the outbox, and send what is due,
// exactly once across replicas, retries and restarts.
import type { Logger } from 'pino';
import { localDateOf } from '../domain/agenda-window.js';
import { formatLocal, overdueLeverLine } from '../domain/agenda-text.js';
import { leverActionPrefix } from '../domain/agenda.js';
import { treatedPerpetrators } from '../store/levers-repository.js';
import { calendarOf, type Meeting } from '../domain/meeting.js';
import { panelKindName, panelRef } from '../domain/panels.js';
import { inWorkingHours, nextWindowStart, planReminders, type PlanLever, type PlannedReminder, type ReminderPolicy } from '../domain/reminders.js';
import type { ChatPlatform, Clock, ReminderView } from '../ports.js';
import { actionInclude, actionViewOf, dateOf, localDateOfRow } from '../store/actions.js';
import { appendAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { claimDue, enqueue, markFailed, markRetry, markSent, type ClaimedMessage } from '../store/outbox.js';
import { deliveryErrorFrom, mayHaveLanded } from './deliver.js';
import { AdaptivePacer } from './pacer.js';

export interface ReminderDeps {
  db: Database;
  chats: Map<string, ChatPlatform>;
  clock: Clock;
  log: Logger;
  instanceId: string;
  policy: ReminderPolicy;
  maxAttempts?: number;
  baseDelayMs?: number;
  /** Sends in flight at once. */
  concurrency?: number;
  pacer?: AdaptivePacer;
}

/** A claim this old belongs to a process that died between claim and send. */
export const reminderLeaseMs = 2 * 60_000;

interface ReminderPayload {
  kind: PlannedReminder['kind'] | 'failure' | 'fallback';
  actionIds: number[];
  day: string;
  panelId?: number;
  daysBefore?: number;
  failedKey?: string;
  /** For a notice to the chairs: the member the reminder was for. */
  ownerId?: number;
  leverIncidentIds?: number[];
}

/** The meeting's treated perpetrators' levers past their target at `now`, with the open actions agreed to deliver them. */
async function overdueLeversOf(db: Database, meeting: Meeting, now: Date): Promise<PlanLever[]> {
  const overdue = (await treatedPerpetrators(db.prisma, { timeZone: meeting.timeZone, until: now, areas: meeting.areas })).flatMap((t) => t.due.filter((d) => d.overdue));
  if (overdue.length === 0) return [];
  const actions = await db.prisma.action.findMany({
    where: { meetingKey: meeting.key, status: 'open', incidentId: { in: overdue.map((l) => l.incidentId) }, owner: { active: true } },
    select: { id: true, ownerId: true, incidentId: true, text: true },
  });
  return overdue.map((lever) => {
    const own = actions.filter((a) => a.incidentId === lever.incidentId && leverActionPrefix.test(a.text));
    return { incidentId: lever.incidentId, ownerIds: own.map((a) => a.ownerId), actionIds: own.map((a) => a.id) };
  });
}

export async function planFor(db: Database, meeting: Meeting, now: Date, policy: ReminderPolicy): Promise<PlannedReminder[]> {
  const [panels, actions, chairs, overdueLevers] = await Promise.all([
    db.prisma.panel.findMany({ where: { meetingKey: meeting.key, cancelledAt: null, startsAt: { gt: now } }, select: { id: true, startsAt: true } }),
    db.prisma.action.findMany({
      where: { meetingKey: meeting.key, status: 'open', owner: { active: true } },
      select: { id: true, ownerId: true, dueOn: true, snoozedUntil: true, lastNudgedOn: true },
    }),
    db.prisma.member.findMany({ where: { role: 'chair', active: true }, select: { id: true } }),
    overdueLeversOf(db, meeting, now),
  ]);
  return planReminders({
    now,
    timeZone: meeting.timeZone,
    calendar: calendarOf(meeting),
    policy,
    panels,
    openActions: actions.map((a) => ({
      id: a.id,
      ownerId: a.ownerId,
      dueOn: localDateOfRow(a.dueOn),
      snoozedUntil: a.snoozedUntil ? localDateOfRow(a.snoozedUntil) : null,
      lastNudgedOn: a.lastNudgedOn ? localDateOfRow(a.lastNudgedOn) : null,
    })),
    chairIds: chairs.map((c) => c.id),
    overdueLevers,
  });
}

export interface RunSummary {
  planned: number;
  enqueued: number;
  sent: number;
  retried: number;
  failed: number;
}

export async function runReminders(deps: ReminderDeps, meetings: Meeting[]): Promise<RunSummary> {
  const { db, clock } = deps;
  const summary: RunSummary = { planned: 0, enqueued: 0, sent: 0, retried: 0, failed: 0 };
  for (const meeting of meetings) {
    const plan = await planFor(db, meeting, clock.now(), deps.policy);
    summary.planned += plan.length;
    summary.enqueued += await enqueue(
      db.prisma,
      plan.map((r) => ({
        key: `${meeting.key}|${r.key}`,
        kind: r.kind,
        meetingKey: meeting.key,
        recipient: String(r.recipientId),
        payload: {
          kind: r.kind,
          actionIds: r.actionIds,
          day: r.day,
          ...(r.panelId ? { panelId: r.panelId, daysBefore: r.daysBefore } : {}),
          ...(r.leverIncidentIds ? { leverIncidentIds: r.leverIncidentIds } : {}),
        },
      })),
      clock.now(),
    );
  }
  const pacer = deps.pacer ?? new AdaptivePacer(() => clock.now().getTime());
  const byKey = new Map(meetings.map((m) => [m.key, m]));
  const outbox = new ClaimQueue(deps, [...byKey.keys()], deps.concurrency ?? 8);
  await Promise.all(
    Array.from({ length: outbox.concurrency }, async () => {
      for (let message = await outbox.next(); message; message = await outbox.next()) {
        try {
          summary[await deliverOne(deps, byKey.get(message.meetingKey)!, message, pacer)]++;
        } finally {
          outbox.done();
        }
      }
    }),
  );
  return summary;
}

/**
 * The messages this run has claimed, topped up as workers take them, so no worker waits for a batch's
 * slowest send. It holds at most twice the workers' worth, so a claim never waits long enough to
 * outlive its lease.
 */
class ClaimQueue {
  private readonly queue: ClaimedMessage[] = [];
  private claiming: Promise<void> | undefined;
  private inFlight = 0;
  private finished = false;
  private settled: (() => void) | undefined;

  constructor(
    private readonly deps: ReminderDeps,
    private readonly meetingKeys: string[],
    readonly concurrency: number,
  ) {}

  /** The next message to send, or undefined when nothing is due now or in the next half minute. */
  async next(): Promise<ClaimedMessage | undefined> {
    for (;;) {
      if (this.queue.length <= this.concurrency && !this.finished) {
        // Topped up ahead of need; a failed claim surfaces where a worker awaits it.
        this.claim().catch(() => {});
      }
      const message = this.queue.shift();
      if (message) {
        this.inFlight++;
        return message;
      }
      if (this.finished) return undefined;
      await this.claim();
    }
  }

  done(): void {
    this.inFlight--;
    this.settled?.();
  }

  private claim(): Promise<void> {
    this.claiming ??= this.claimOnce().finally(() => {
      this.claiming = undefined;
    });
    return this.claiming;
  }

  private async claimOnce(): Promise<void> {
    const { db, clock, instanceId } = this.deps;
    const room = this.concurrency * 2 - this.queue.length;
    if (room <= 0) return;
    const claimed = await claimDue(db.prisma, instanceId, clock.now(), reminderLeaseMs, room, this.meetingKeys);
    this.queue.push(...claimed);
    if (claimed.length > 0 || this.queue.length > 0) return;
    if (this.inFlight > 0) {
      // A send still under way may be put back for a moment (a rate limit): look again once one ends.
      await new Promise<void>((resolve) => (this.settled = resolve));
      this.settled = undefined;
      return;
    }
    // Messages held back a moment by a rate limit are finished in this run, not the next tick's.
    const soon = await db.prisma.outboxMessage.findFirst({
      where: { meetingKey: { in: this.meetingKeys }, status: 'pending', notBefore: { lte: new Date(clock.now().getTime() + 30_000) } },
      orderBy: { notBefore: 'asc' },
      select: { notBefore: true },
    });
    if (!soon) {
      this.finished = true;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, soon.notBefore.getTime() - clock.now().getTime())));
  }
}

async function deliverOne(deps: ReminderDeps, meeting: Meeting, message: ClaimedMessage, pacer: AdaptivePacer): Promise<'sent' | 'retried' | 'failed'> {
  const { db, clock, log, instanceId } = deps;
  const payload = message.payload as ReminderPayload;
  const now = clock.now();
  const calendar = calendarOf(meeting);
  if (!inWorkingHours(now, meeting.timeZone, calendar, deps.policy)) {
    // Never at night or at the weekend: it waits for the next working morning, at no cost to its retries.
    await markRetry(db.prisma, message.id, instanceId, nextWindowStart(now, meeting.timeZone, calendar, deps.policy), 'outside working hours', { countsAsAttempt: false });
    return 'retried';
  }
  if (await superseded(db, payload, localDateOf(now, meeting.timeZone), now)) {
    // A day's nudge held back overnight is replaced by the new day's; a panel that has begun needs no reminder.
    await markSent(db.prisma, message.id, instanceId, 'superseded', now);
    return 'sent';
  }
  const chat = deps.chats.get(meeting.platform);
  const recipient = await db.prisma.member.findUnique({ where: { id: Number(message.recipient) } });
  if (!chat || !recipient || !recipient.active) {
    await markFailed(db.prisma, message.id, instanceId, !chat ? `no chat platform for ${meeting.key}` : 'the recipient is no longer a member');
    return 'failed';
  }
  const { view, levers } = await reminderView(db, meeting, payload, now, deps.policy);
  if (view.actions.length === 0 && levers === 0 && payload.kind !== 'failure' && payload.kind !== 'fallback') {
    // Everything in it was closed since it was planned: nothing to say.
    await markSent(db.prisma, message.id, instanceId, 'nothing-left', now);
    return 'sent';
  }
  let sentAt = clock.now().getTime();
  try {
    await pacer.turn();
    sentAt = clock.now().getTime();
    const delivery = await chat.sendDirect(
      { memberId: recipient.id, name: recipient.displayName, slackUserId: recipient.slackUserId, teamsUserId: recipient.teamsUserId },
      { ...chat.reminderMessage(view), deliveryKey: message.key },
      meeting.channel,
      { earlierAttemptUnconfirmed: message.unconfirmed },
    );
    pacer.succeeded();
    await db.prisma.$transaction(async (tx) => {
      // A claim lost to another process (ours outlived its lease) records nothing more here.
      if (!(await markSent(tx, message.id, instanceId, delivery.via === 'channel' ? `channel:${delivery.ref}` : delivery.ref, clock.now()))) return;
      if (payload.kind === 'nudge') {
        await tx.action.updateMany({ where: { id: { in: payload.actionIds } }, data: { lastNudgedOn: dateOf(payload.day) } });
      }
      await appendAudit(tx, {
        actor: `bot:${instanceId}`,
        action: 'reminder.sent',
        subject: message.key,
        channel: `${meeting.platform}:direct`,
        reason: `${payload.kind} reminder`,
        details: { recipient: recipient.id, actions: view.actions.length, via: delivery.via },
      });
    });
    if (delivery.via === 'channel') await tellChairs(deps, meeting, message, 'channel');
    return 'sent';
  } catch (error) {
    const failure = deliveryErrorFrom(error);
    if (failure.kind === 'rate-limited') {
      const wait = failure.retryAfterMs ?? 1_000;
      pacer.rateLimited(wait, sentAt);
      await markRetry(db.prisma, message.id, instanceId, new Date(clock.now().getTime() + wait), failure.message, { countsAsAttempt: false });
      return 'retried';
    }
    if (failure.kind === 'transient' && message.attempts < (deps.maxAttempts ?? 5)) {
      const backoff = (deps.baseDelayMs ?? 2_000) * 2 ** (message.attempts - 1);
      await markRetry(db.prisma, message.id, instanceId, new Date(clock.now().getTime() + backoff), failure.message, {
        countsAsAttempt: true,
        ...(mayHaveLanded(failure) ? { unconfirmedSince: new Date(sentAt) } : {}),
      });
      return 'retried';
    }
    if (await markFailed(db.prisma, message.id, instanceId, failure.message)) {
      log.warn({ outbox: message.id, kind: payload.kind }, 'reminder failed for good');
      await tellChairs(deps, meeting, message, 'failure');
    }
    return 'failed';
  }
}

/**
 * Chairs hear of a reminder that could not be delivered, or that went to the meeting channel because
 * its owner could not be messaged privately (but not of a failed notice to themselves).
 */
async function tellChairs(deps: ReminderDeps, meeting: Meeting, message: ClaimedMessage, what: 'failure' | 'channel'): Promise<void> {
  if (message.kind === 'failure' || message.kind === 'fallback') return;
  const chairs = await deps.db.prisma.member.findMany({ where: { role: 'chair', active: true }, select: { id: true } });
  const payload = message.payload as ReminderPayload;
  await enqueue(
    deps.db.prisma,
    chairs.map((chair) => ({
      key: `${message.key}|${what === 'failure' ? 'failed' : 'in-channel'}|to:${chair.id}`,
      kind: what === 'failure' ? 'failure' : 'fallback',
      meetingKey: meeting.key,
      recipient: String(chair.id),
      payload: {
        kind: what === 'failure' ? 'failure' : 'fallback',
        actionIds: payload.actionIds,
        day: payload.day,
        failedKey: message.key,
        ownerId: Number(message.recipient),
      },
    })),
    deps.clock.now(),
  );
}

async function superseded(db: Database, payload: ReminderPayload, today: string, now: Date): Promise<boolean> {
  if ((payload.kind === 'nudge' || payload.kind === 'digest') && payload.day < today) return true;
  if (payload.kind === 'panel' && payload.panelId) {
    const panel = await db.prisma.panel.findUnique({ where: { id: payload.panelId }, select: { startsAt: true, cancelledAt: true } });
    return !panel || panel.cancelledAt !== null || panel.startsAt.getTime() <= now.getTime();
  }
  return false;
}

/** The levers of these incidents still overdue at `now`, as lines for a reminder. */
async function overdueLeverLines(db: Database, meeting: Meeting, incidentIds: number[] | undefined, now: Date): Promise<string[]> {
  if (!incidentIds?.length) return [];
  const incidents = await db.prisma.incident.findMany({ where: { id: { in: incidentIds } }, select: { perpetratorId: true } });
  const treated = await treatedPerpetrators(db.prisma, { timeZone: meeting.timeZone, until: now, nominalIds: [...new Set(incidents.map((i) => i.perpetratorId))] });
  return treated
    .flatMap((t) => t.due.filter((d) => d.overdue && incidentIds.includes(d.incidentId)).map((d) => ({ ...d, label: t.label, ref: t.ref })))
    .sort((a, b) => a.dueBy.getTime() - b.dueBy.getTime())
    .map((d) => `${overdueLeverLine({ ...d, ref: d.ref, label: d.label }, meeting.timeZone)}. Record it with /dmm lever ${d.label} tier ${d.tier} mode ${d.mode} outcome delivered`);
}

/** Who a reminder the chairs are told about was for: a member's name (staff, never a victim). */
async function ownerNameOf(db: Database, payload: ReminderPayload): Promise<string> {
  const owner = payload.ownerId === undefined ? null : await db.prisma.member.findUnique({ where: { id: payload.ownerId }, select: { displayName: true, agency: true } });
  return owner ? `${owner.displayName || 'a member'} (${owner.agency})` : 'a member';
}

async function reminderView(db: Database, meeting: Meeting, payload: ReminderPayload, now: Date, policy: ReminderPolicy): Promise<{ view: ReminderView; levers: number }> {
  const today = localDateOf(now, meeting.timeZone);
  const rows = await db.prisma.action.findMany({ where: { id: { in: payload.actionIds }, status: 'open' }, include: actionInclude, orderBy: [{ dueOn: 'asc' }, { id: 'asc' }] });
  const actions = rows.map((r) => actionViewOf(r, today));
  const levers = await overdueLeverLines(db, meeting, payload.leverIncidentIds, now);
  let heading: string;
  switch (payload.kind) {
    case 'panel': {
      const panel = payload.panelId ? await db.prisma.panel.findUnique({ where: { id: payload.panelId } }) : null;
      const what = panel ? `${panel.title || panelKindName(panel.kind)} (${panelRef(panel.id)}) on ${formatLocal(panel.startsAt, meeting.timeZone)}` : 'the next panel';
      heading = `Before ${what}: please report progress on your ${actions.length === 1 ? 'open action' : `${actions.length} open actions`}.`;
      break;
    }
    case 'nudge':
      heading = `${actions.length === 1 ? 'This action is' : `These ${actions.length} actions are`} overdue. Please close, update or re-date ${actions.length === 1 ? 'it' : 'them'}.`;
      break;
    case 'digest':
      heading = `Chairs' digest: ${actions.length} action(s) overdue by more than ${policy.escalateAfterWorkingDays} working days` + (levers.length ? `, and ${levers.length} trial lever(s) past their target:\n${levers.join('\n')}` : '.');
      break;
    case 'lever':
      heading = `A trial lever is past its target and not yet recorded:\n${levers.join('\n')}`;
      break;
    case 'failure':
      heading = `A reminder to ${await ownerNameOf(db, payload)} could not be delivered. They may not know their actions are due; please contact them. (\`dmm reminders status\` lists it.)`;
      break;
    case 'fallback':
      heading = `A reminder to ${await ownerNameOf(db, payload)} went to the meeting channel with a mention, because they could not be messaged privately: the app may not be installed for them.`;
      break;
  }
  return { view: { kind: payload.kind, heading, actions, timeZone: meeting.timeZone }, levers: levers.length };
}
