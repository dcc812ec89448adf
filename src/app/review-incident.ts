// Use case: record that the meeting discussed an incident, and its outcome.
import { localDateOf } from '../domain/agenda-window.js';
import type { Meeting } from '../domain/meeting.js';
import { appendAudit } from '../store/audit.js';
import { dateOf } from '../store/actions.js';
import type { Database } from '../store/database.js';
import { findSubject } from '../store/subjects.js';
import type { Actor } from './actor.js';

export async function reviewIncident(db: Database, meeting: Meeting, actor: Actor, ref: string, outcome: string, now: Date): Promise<{ ok: boolean; message: string }> {
  const subject = await findSubject(db.prisma, ref);
  if (!subject.ok) return { ok: false, message: subject.message };
  if (subject.subject.kind !== 'incident') return { ok: false, message: `${ref} is a person; review takes an incident reference from the agenda.` };
  const incident = subject.subject;
  const day = localDateOf(now, meeting.timeZone);
  await db.prisma.$transaction(async (tx) => {
    await tx.incidentReview.create({ data: { incidentId: incident.incidentId, meetingKey: meeting.key, meetingDate: dateOf(day), outcome, reviewedBy: actor.id } });
    await appendAudit(tx, { actor: actor.id, action: 'incident.review', subject: incident.ref, channel: meeting.key });
  });
  return { ok: true, message: `${incident.ref} reviewed: ${outcome}` };
}
