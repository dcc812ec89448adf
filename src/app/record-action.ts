// Use case: record an agreed action (from a command or a form), once, with its owner's agency.
import { localDateOf } from '../domain/agenda-window.js';
import type { ActionView } from '../domain/agenda.js';
import { resolveDue } from '../domain/due-date.js';
import type { Meeting } from '../domain/meeting.js';
import { appendAudit } from '../store/audit.js';
import { actionViewOf, createActionOnce, localDateOfRow } from '../store/actions.js';
import type { Database } from '../store/database.js';
import { findMember } from '../store/members.js';
import { findSubject } from '../store/subjects.js';
import type { Actor } from './actor.js';

export interface ActionRequest {
  subject: string;
  ownerUserId: string;
  due: string;
  text: string;
}

/** Problems keyed by the field a form shows them beside. */
export type ActionProblems = Partial<Record<'subject' | 'owner' | 'due' | 'text', string>>;

export type RecordActionResult = { ok: true; action: ActionView; created: boolean } | { ok: false; problems: ActionProblems };

export async function nextPanelDay(db: Database, meeting: Meeting, now: Date): Promise<string | undefined> {
  const panel = await db.prisma.panel.findFirst({
    where: { meetingKey: meeting.key, cancelledAt: null, startsAt: { gt: now } },
    orderBy: { startsAt: 'asc' },
  });
  return panel ? localDateOf(panel.startsAt, meeting.timeZone) : undefined;
}

export async function recordAction(
  db: Database,
  meeting: Meeting,
  actor: Actor,
  request: ActionRequest,
  now: Date,
  idempotencyKey?: string,
): Promise<RecordActionResult> {
  const problems: ActionProblems = {};
  const text = request.text.trim();
  if (!text) problems.text = 'Say what is to be done.';
  else if (text.length > 1_000) problems.text = `At most 1,000 characters (this is ${text.length}).`;
  const today = localDateOf(now, meeting.timeZone);
  const [panelDay, subject, owner] = await Promise.all([
    nextPanelDay(db, meeting, now),
    findSubject(db.prisma, request.subject.trim()),
    findMember(db.prisma, { platform: actor.platform, userId: request.ownerUserId }),
  ]);
  const due = resolveDue(request.due, today, panelDay);
  if (!due.ok) problems.due = due.message;
  if (!subject.ok) problems.subject = subject.message;
  if (!owner) problems.owner = 'The owner must be a member of the meeting (a chair can add them with /dmm member add).';
  if (!due.ok || !subject.ok || !owner || problems.text) return { ok: false, problems };

  const { row, created } = await db.prisma.$transaction(async (tx) => {
    const result = await createActionOnce(tx, {
      meetingKey: meeting.key,
      incidentId: subject.subject.kind === 'incident' ? subject.subject.incidentId : null,
      nominalId: subject.subject.kind === 'incident' ? subject.subject.perpetratorId : subject.subject.nominalId,
      text,
      ownerId: owner.id,
      agency: owner.agency,
      dueOn: due.dueOn,
      createdBy: actor.id,
      idempotencyKey,
    });
    if (result.created) {
      await appendAudit(tx, {
        actor: actor.id,
        action: 'action.add',
        subject: `A-${result.row.id}`,
        channel: meeting.key,
        details: { owner: owner.id, agency: owner.agency, dueOn: localDateOfRow(result.row.dueOn), about: request.subject.trim() },
      });
    }
    return result;
  });
  return { ok: true, action: actionViewOf(row, today), created };
}
