// Use case: list open actions, or show one with its history.
import { localDateOf } from '../domain/agenda-window.js';
import { formatLocal } from '../domain/agenda-text.js';
import type { ActionView } from '../domain/agenda.js';
import type { ListFilter } from '../domain/commands.js';
import type { Meeting } from '../domain/meeting.js';
import type { Prisma } from '../generated/prisma/client.js';
import { appendAudit } from '../store/audit.js';
import { actionInclude, actionViewOf, dateOf } from '../store/actions.js';
import type { Database } from '../store/database.js';
import { findMember } from '../store/members.js';
import { findSubject } from '../store/subjects.js';
import type { Actor } from './actor.js';

export type ListResult = { ok: true; actions: ActionView[]; heading: string } | { ok: false; message: string };

const listLimit = 50;

export async function listActions(db: Database, meeting: Meeting, actor: Actor, filter: ListFilter, now: Date): Promise<ListResult> {
  const today = localDateOf(now, meeting.timeZone);
  const where: Prisma.ActionWhereInput = { meetingKey: meeting.key, status: 'open' };
  let heading = 'Open actions';
  switch (filter.kind) {
    case 'mine':
      if (!actor.member) return { ok: false, message: 'The console has no actions of its own; use /dmm action list @user.' };
      where.ownerId = actor.member.id;
      heading = 'Your open actions';
      break;
    case 'overdue':
      where.dueOn = { lt: dateOf(today) };
      heading = 'Overdue actions';
      break;
    case 'user': {
      const member = await findMember(db.prisma, { platform: actor.platform, userId: filter.userId });
      if (!member) return { ok: false, message: 'That person is not a member of the meeting.' };
      where.ownerId = member.id;
      heading = `Open actions of ${member.displayName || 'that member'}`;
      break;
    }
    case 'ref': {
      const subject = await findSubject(db.prisma, filter.ref);
      if (!subject.ok) return { ok: false, message: subject.message };
      if (subject.subject.kind === 'incident') where.incidentId = subject.subject.incidentId;
      else where.nominalId = subject.subject.nominalId;
      heading = `Open actions on ${subject.subject.kind === 'incident' ? subject.subject.ref : subject.subject.label}`;
      break;
    }
    case 'all':
      break;
  }
  const rows = await db.prisma.action.findMany({ where, include: actionInclude, orderBy: [{ dueOn: 'asc' }, { id: 'asc' }], take: listLimit + 1 });
  await appendAudit(db.prisma, { actor: actor.id, action: 'action.list', subject: filter.kind, channel: meeting.key, details: { count: rows.length } });
  const more = rows.length > listLimit ? ` (the first ${listLimit}; narrow the list to see the rest)` : '';
  return { ok: true, actions: rows.slice(0, listLimit).map((r) => actionViewOf(r, today)), heading: `${heading}${more}` };
}

export async function showAction(db: Database, meeting: Meeting, actor: Actor, id: number, now: Date): Promise<{ ok: true; action: ActionView; history: string[] } | { ok: false; message: string }> {
  const row = await db.prisma.action.findFirst({ where: { id, meetingKey: meeting.key }, include: { ...actionInclude, updates: { orderBy: { id: 'asc' } } } });
  if (!row) return { ok: false, message: `There is no action A-${id} in this meeting. /dmm action list shows the open ones.` };
  await appendAudit(db.prisma, { actor: actor.id, action: 'action.show', subject: `A-${id}`, channel: meeting.key });
  const history = row.updates.map((u) => `${formatLocal(u.createdAt, meeting.timeZone, 'yyyy-MM-dd HH:mm')} ${u.kind}${u.note ? `: ${u.note}` : ''}`);
  return { ok: true, action: actionViewOf(row, localDateOf(now, meeting.timeZone)), history };
}
