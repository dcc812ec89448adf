// Keeps a perpetrator out of a trial before enrolment, or ends their participation after it (analysis stays intention-to-treat).
import { isLocalDate, type LocalDate } from '../domain/calendar.js';
import { isTreatmentArm, parseExitReason } from '../domain/trial.js';
import { Prisma } from '../generated/prisma/client.js';
import { dateOf, localDateOfRow } from '../store/actions.js';
import { appendAuditMany } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { trialNamed } from './create-trial.js';
import { TrialRefusal } from './trial-errors.js';

async function perpetratorByRef(tx: Prisma.TransactionClient, ref: string) {
  const person = await tx.nominal.findUnique({ where: { ref } });
  if (!person) throw new TrialRefusal(`no perpetrator has the reference "${ref}"`);
  return person;
}

export async function excludeFromTrial(db: Database, trialName: string, ref: string, reason: string, actor: string): Promise<{ changed: boolean; message: string }> {
  if (reason.trim() === '') throw new TrialRefusal('--reason must say why (e.g. a victim-safety concern)');
  try {
    return await db.prisma.$transaction(async (tx) => {
      const trial = await trialNamed(tx, trialName);
      const person = await perpetratorByRef(tx, ref);
      const allocation = await tx.trialAllocation.findUnique({ where: { nominalId: person.id }, include: { trial: { select: { name: true } } } });
      if (allocation) {
        throw new TrialRefusal(
          allocation.trialId === trial.id
            ? `${ref} is already enrolled in ${trial.name}; an enrolled person leaves by dmm trial exit, never by exclusion`
            : `${ref} is enrolled in another trial (${allocation.trial.name}) and cannot be enrolled in ${trial.name} anyway`,
        );
      }
      const existing = await tx.trialExclusion.findUnique({ where: { trialId_nominalId: { trialId: trial.id, nominalId: person.id } } });
      if (existing) return { changed: false, message: `${ref} was already excluded from ${trial.name} (${existing.reason}); nothing changed.` };
      await tx.trialExclusion.create({ data: { trialId: trial.id, nominalId: person.id, reason: reason.trim(), excludedBy: actor } });
      await appendAuditMany(tx, [{ actor, action: 'trial.exclude', subject: person.label, channel: 'cli', reason: reason.trim(), details: { trial: trial.name } }]);
      return { changed: true, message: `${ref} is excluded from ${trial.name}: later enrolments pass them over.` };
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return { changed: false, message: `${ref} was excluded from ${trialName} at the same moment by someone else; nothing changed.` };
    throw error;
  }
}

export interface TrialExit {
  trial: string;
  ref: string;
  on: LocalDate;
  reason: string;
  note?: string;
}

export async function exitFromTrial(db: Database, request: TrialExit, actor: string): Promise<string> {
  if (!isLocalDate(request.on)) throw new TrialRefusal(`--on must be a date as YYYY-MM-DD, not "${request.on}"`);
  const reason = parseExitReason(request.reason);
  if (!reason.ok) throw new TrialRefusal(reason.error);
  return db.prisma.$transaction(async (tx) => {
    const trial = await trialNamed(tx, request.trial);
    const person = await perpetratorByRef(tx, request.ref);
    const allocation = await tx.trialAllocation.findUnique({ where: { nominalId: person.id } });
    if (!allocation || allocation.trialId !== trial.id) throw new TrialRefusal(`${request.ref} is not enrolled in ${trial.name}; only an enrolled person can exit`);
    if (allocation.exitedOn) {
      throw new TrialRefusal(`${request.ref} already exited ${trial.name} on ${localDateOfRow(allocation.exitedOn)} (${allocation.exitReason}); an exit is not changed`);
    }
    const enrolledOn = localDateOfRow(allocation.enrolledOn);
    if (request.on < enrolledOn) throw new TrialRefusal(`--on ${request.on} is before ${request.ref} was enrolled (${enrolledOn})`);
    // Only the exit fields change; the arm stays, so the analysis remains intention-to-treat.
    await tx.trialAllocation.update({
      where: { id: allocation.id },
      data: { exitedOn: dateOf(request.on), exitReason: reason.value, exitNote: request.note?.trim() ?? '' },
    });
    if (isTreatmentArm(allocation.arm)) {
      await tx.flag.updateMany({
        // Only this trial's flag: a cohort flag from the records system is not the trial's to end.
        where: { perpetratorId: person.id, kind: 'cohort', note: `trial ${trial.name}`, startsOn: { lte: dateOf(request.on) }, OR: [{ endsOn: null }, { endsOn: { gt: dateOf(request.on) } }] },
        data: { endsOn: dateOf(request.on), updatedAt: new Date() },
      });
    }
    await appendAuditMany(tx, [{ actor, action: 'trial.exit', subject: person.label, channel: 'cli', reason: reason.value, details: { trial: trial.name, on: request.on } }]);
    return `${request.ref} exited ${trial.name} on ${request.on} (${reason.value}). They stay in their arm for the analysis (intention to treat).`;
  });
}
