// Use case: a chair flags a perpetrator from today, or ends a flag.
import { localDateOf } from '../domain/agenda-window.js';
import { addCalendarDays } from '../domain/calendar.js';
import type { Meeting } from '../domain/meeting.js';
import type { FlagKind } from '../domain/records.js';
import { appendAudit } from '../store/audit.js';
import { dateOf } from '../store/actions.js';
import type { Database } from '../store/database.js';
import { findSubject } from '../store/subjects.js';
import type { Actor } from './actor.js';

async function perpetratorOf(db: Database, ref: string) {
  const subject = await findSubject(db.prisma, ref);
  if (!subject.ok) return { ok: false as const, message: subject.message };
  if (subject.subject.kind !== 'person') return { ok: false as const, message: `${ref} is an incident; flags go on a perpetrator (their label from the agenda).` };
  const [asPerpetrator, asVictim] = await Promise.all([
    db.prisma.incident.count({ where: { perpetratorId: subject.subject.nominalId } }),
    db.prisma.incident.count({ where: { victimId: subject.subject.nominalId } }),
  ]);
  if (asPerpetrator === 0 && asVictim > 0) {
    return { ok: false as const, message: `${subject.subject.label} is recorded only as a victim; flags go on perpetrators.` };
  }
  return { ok: true as const, person: subject.subject };
}

export async function flagPerpetrator(db: Database, meeting: Meeting, actor: Actor, ref: string, kind: FlagKind, note: string, now: Date): Promise<{ ok: boolean; message: string }> {
  const found = await perpetratorOf(db, ref);
  if (!found.ok) return found;
  const today = localDateOf(now, meeting.timeZone);
  const active = await db.prisma.flag.findFirst({
    where: { perpetratorId: found.person.nominalId, kind, startsOn: { lte: dateOf(today) }, OR: [{ endsOn: null }, { endsOn: { gte: dateOf(today) } }] },
  });
  if (active) return { ok: false, message: `${found.person.label} already has an active ${kind} flag; nothing was changed.` };
  await db.prisma.$transaction(async (tx) => {
    await tx.flag.upsert({
      where: { perpetratorId_kind_startsOn: { perpetratorId: found.person.nominalId, kind, startsOn: dateOf(today) } },
      create: { perpetratorId: found.person.nominalId, kind, note, startsOn: dateOf(today), setBy: actor.id },
      update: { endsOn: null, note, setBy: actor.id, updatedAt: now },
    });
    await appendAudit(tx, { actor: actor.id, action: 'flag.set', subject: found.person.label, channel: meeting.key, details: { kind } });
  });
  return { ok: true, message: `${found.person.label} is flagged ${kind} from ${today}.` };
}

export async function unflagPerpetrator(db: Database, meeting: Meeting, actor: Actor, ref: string, kind: FlagKind, now: Date): Promise<{ ok: boolean; message: string }> {
  const found = await perpetratorOf(db, ref);
  if (!found.ok) return found;
  const today = localDateOf(now, meeting.timeZone);
  const active = await db.prisma.flag.findMany({
    where: { perpetratorId: found.person.nominalId, kind, startsOn: { lte: dateOf(today) }, OR: [{ endsOn: null }, { endsOn: { gte: dateOf(today) } }] },
  });
  if (active.length === 0) return { ok: false, message: `${found.person.label} has no active ${kind} flag; nothing was changed.` };
  const yesterday = addCalendarDays(today, -1);
  await db.prisma.$transaction(async (tx) => {
    for (const flag of active) {
      // A flag set today and ended today never applied: it ends the day before it started.
      const startedToday = flag.startsOn.toISOString().slice(0, 10) === today;
      if (startedToday) await tx.flag.delete({ where: { id: flag.id } });
      else await tx.flag.update({ where: { id: flag.id }, data: { endsOn: dateOf(yesterday), updatedAt: now } });
    }
    await appendAudit(tx, { actor: actor.id, action: 'flag.end', subject: found.person.label, channel: meeting.key, details: { kind } });
  });
  return { ok: true, message: `${found.person.label}'s ${kind} flag has ended.` };
}
