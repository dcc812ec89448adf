// Use case: close, note, reassign, re-date or cancel an action; owners change their own, chairs any.
import { localDateOf } from '../domain/agenda-window.js';
import type { ActionView } from '../domain/agenda.js';
import { resolveDue } from '../domain/due-date.js';
import { addCalendarDays } from '../domain/calendar.js';
import type { Meeting } from '../domain/meeting.js';
import { appendAudit } from '../store/audit.js';
import { actionInclude, actionViewOf, dateOf } from '../store/actions.js';
import type { Database } from '../store/database.js';
import { findMember } from '../store/members.js';
import type { Actor } from './actor.js';
import { nextPanelDay } from './record-action.js';

export type ActionChange =
  | { kind: 'done'; note: string }
  | { kind: 'update'; note: string }
  | { kind: 'reassign'; ownerUserId: string }
  | { kind: 'due'; due: string }
  | { kind: 'cancel'; reason: string }
  | { kind: 'snooze'; days: number };

export type ChangeResult = { ok: true; action: ActionView; message: string } | { ok: false; message: string };

export async function changeAction(db: Database, meeting: Meeting, actor: Actor, id: number, change: ActionChange, now: Date): Promise<ChangeResult> {
  const today = localDateOf(now, meeting.timeZone);
  const current = await db.prisma.action.findFirst({ where: { id, meetingKey: meeting.key }, include: actionInclude });
  if (!current) return { ok: false, message: `There is no action A-${id} in this meeting. /dmm action list shows the open ones.` };
  const ownsIt = actor.member !== null && current.ownerId === actor.member.id;
  if (!ownsIt && !actor.isChair) return { ok: false, message: `A-${id} belongs to someone else: only its owner or a chair can change it.` };
  if (current.status !== 'open') return { ok: false, message: `A-${id} is already ${current.status === 'done' ? 'done' : 'cancelled'}; nothing was changed.` };

  let data: Parameters<typeof db.prisma.action.update>[0]['data'] = {};
  let note = '';
  let message: string;
  switch (change.kind) {
    case 'done':
      data = { status: 'done', closedAt: now, closedNote: change.note || null };
      note = change.note;
      message = `A-${id} is done.`;
      break;
    case 'update':
      note = change.note;
      message = `Noted on A-${id}.`;
      break;
    case 'cancel':
      data = { status: 'cancelled', closedAt: now, closedNote: change.reason };
      note = change.reason;
      message = `A-${id} is cancelled.`;
      break;
    case 'due': {
      const due = resolveDue(change.due, today, await nextPanelDay(db, meeting, now));
      if (!due.ok) return { ok: false, message: due.message };
      data = { dueOn: dateOf(due.dueOn) };
      note = `due ${due.dueOn}`;
      message = `A-${id} is now due ${due.dueOn}.`;
      break;
    }
    case 'snooze': {
      const until = addCalendarDays(today, change.days);
      data = { snoozedUntil: dateOf(until) };
      note = `reminders snoozed until ${until}`;
      message = `Reminders about A-${id} are paused until ${until}.`;
      break;
    }
    case 'reassign': {
      const owner = await findMember(db.prisma, { platform: actor.platform, userId: change.ownerUserId });
      if (!owner) return { ok: false, message: 'The new owner must be a member of the meeting (a chair can add them with /dmm member add).' };
      data = { ownerId: owner.id, agency: owner.agency };
      note = `reassigned to member ${owner.id} (${owner.agency})`;
      message = `A-${id} now belongs to ${owner.displayName || 'the new owner'} (${owner.agency}).`;
      break;
    }
  }
  const updated = await db.prisma.$transaction(async (tx) => {
    // Only an open action changes, so a double click on "Done" closes it once.
    const result = await tx.action.updateMany({ where: { id, status: 'open' }, data: { ...data, updatedAt: now } });
    if (result.count === 0) return null;
    await tx.actionUpdate.create({ data: { actionId: id, author: actor.id, kind: change.kind, note } });
    await appendAudit(tx, { actor: actor.id, action: `action.${change.kind}`, subject: `A-${id}`, channel: meeting.key });
    return tx.action.findUniqueOrThrow({ where: { id }, include: actionInclude });
  });
  if (!updated) return { ok: false, message: `A-${id} was closed a moment ago; nothing was changed.` };
  return { ok: true, action: actionViewOf(updated, today), message };
}
