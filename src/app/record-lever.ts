// Use case: record a lever (a scripted notification) given to a treated perpetrator, from chat or the CLI.
import { leverActionPrefix } from '../domain/agenda.js';
import { localDateOf } from '../domain/agenda-window.js';
import { formatLocal } from '../domain/agenda-text.js';
import { closingOutcomes, defaultLeverConfig, leverConfigSchema, rapidityHours, tierOf, type LeverMode, type LeverOutcome } from '../domain/levers.js';
import { calendarOf, type Meeting } from '../domain/meeting.js';
import { isTreatmentArm } from '../domain/trial.js';
import { Prisma } from '../generated/prisma/client.js';
import { actionInclude, actionViewOf, createActionOnce, localDateOfRow } from '../store/actions.js';
import { appendAuditMany } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { treatedPerpetrators } from '../store/levers-repository.js';
import { findSubject } from '../store/subjects.js';
import type { ActionView } from '../domain/agenda.js';
import type { Actor } from './actor.js';

export interface LeverRequest {
  /** The perpetrator's label or reference, or the triggering incident's reference. */
  subject: string;
  tier: string;
  mode: LeverMode;
  outcome: LeverOutcome;
  script?: string | undefined;
  incident?: string | undefined;
}

export type LeverResult = { ok: true; message: string; victimAction?: ActionView; repeated: boolean } | { ok: false; message: string };

const modePhrase: Record<LeverMode, string> = { letter: 'by letter', 'in-person': 'in person', 'call-in': 'at a call-in' };

const refused = (message: string): LeverResult => ({ ok: false, message: `${message} Nothing was recorded.` });

export async function recordLever(db: Database, meeting: Meeting, actor: Actor, request: LeverRequest, now: Date, idempotencyKey?: string): Promise<LeverResult> {
  if (idempotencyKey) {
    const earlier = await db.prisma.leverDelivery.findUnique({ where: { idempotencyKey } });
    if (earlier) return { ok: true, repeated: true, message: `That lever was already recorded (L-${earlier.id}).` };
  }
  const found = await findSubject(db.prisma, request.subject.trim());
  if (!found.ok) return refused(found.message);
  const nominalId = found.subject.kind === 'incident' ? found.subject.perpetratorId : found.subject.nominalId;
  const person = await db.prisma.nominal.findUniqueOrThrow({ where: { id: nominalId }, select: { label: true } });
  const allocation = await db.prisma.trialAllocation.findUnique({ where: { nominalId }, include: { trial: true } });
  if (!allocation || !isTreatmentArm(allocation.arm)) {
    // One answer for control and for people in no trial: chat must not learn who is in which arm.
    await audit(db, actor, meeting, 'lever.refused', person.label, { reason: allocation ? 'control arm' : 'not enrolled' });
    return refused(`${person.label} is not in a trial's treatment arm, so no lever may be recorded for them: it would break the trial.`);
  }
  const today = localDateOf(now, meeting.timeZone);
  if (allocation.exitedOn && localDateOfRow(allocation.exitedOn) < today) {
    await audit(db, actor, meeting, 'lever.refused', person.label, { reason: 'exited' });
    return refused(`${person.label} left the trial on ${localDateOfRow(allocation.exitedOn)}; no lever may be recorded for them now.`);
  }
  const [treated] = await treatedPerpetrators(db.prisma, { timeZone: meeting.timeZone, until: now, nominalIds: [nominalId] });
  const levers = treated?.levers ?? leverConfigSchema.parse(allocation.trial.levers);
  const tier = tierOf(levers, request.tier);
  if (!tier) return refused(`Tier ${request.tier} is not one of this trial's tiers (${levers.tiers.map((t) => `${t.tier} ${t.name}`).join(', ')}).`);

  const scripts = await db.prisma.leverScript.findMany({ where: { tier: tier.tier }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  const script = request.script ? scripts.find((s) => s.version === request.script || s.version.startsWith(request.script!)) : scripts[0];
  if (!script) {
    return refused(
      request.script
        ? `Script version ${request.script} of tier ${tier.tier} does not exist; its versions are ${scripts.map((s) => s.version).join(', ') || 'none'}.`
        : `Tier ${tier.tier} has no script yet; add one with dmm trial script.`,
    );
  }

  const due = treated?.due ?? [];
  const incidentRef = request.incident ?? (found.subject.kind === 'incident' ? found.subject.ref : undefined);
  const lever = incidentRef ? due.find((d) => d.incidentRef === incidentRef) : (due.find((d) => d.tier === tier.tier) ?? due[0]);
  if (!lever) {
    return refused(
      incidentRef
        ? `No lever is due for ${person.label} after ${incidentRef}: it is not their incident since enrolment, or its lever was already given.`
        : `No lever is due for ${person.label}: every incident since enrolment has had its lever.`,
    );
  }

  const hours = rapidityHours(lever.reportedAt, now);
  try {
    const outcome = await db.prisma.$transaction(async (tx) => {
      // Two officers recording the same lever at once: the second finds the first's and records nothing.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`lever:${lever.incidentId}`}))`;
      const given = await tx.leverDelivery.findFirst({ where: { incidentId: lever.incidentId, trialId: allocation.trialId, outcome: { in: [...closingOutcomes] } } });
      if (given) return { kind: 'given' as const, given };
      const delivery = await tx.leverDelivery.create({
        data: {
          trialId: allocation.trialId,
          nominalId,
          incidentId: lever.incidentId,
          tier: tier.tier,
          scriptVersion: script.version,
          mode: request.mode,
          outcome: request.outcome,
          deliveredBy: actor.id,
          deliveredAt: now,
          rapidityHours: hours,
          idempotencyKey: idempotencyKey ?? null,
        },
      });
      const closes = closingOutcomes.includes(request.outcome);
      if (closes) {
        // The lever's action (the one its "Add action" button prefilled) is done.
        const leverActions = await tx.action.findMany({ where: { incidentId: lever.incidentId, status: 'open' }, select: { id: true, text: true } });
        for (const a of leverActions.filter((a) => leverActionPrefix.test(a.text))) {
          await tx.action.update({ where: { id: a.id }, data: { status: 'done', closedAt: now, closedNote: `lever L-${delivery.id} ${request.outcome}` } });
          await tx.actionUpdate.create({ data: { actionId: a.id, author: actor.id, kind: 'done', note: `lever L-${delivery.id} ${request.outcome}` } });
        }
      }
      let victimAction: ActionView | undefined;
      let noVictimOwner = false;
      if (request.outcome === 'delivered') {
        // The victim side runs in parallel: their support service contacts them.
        const owner = await tx.member.findFirst({ where: { agency: levers.victim_contact_agency, active: true }, orderBy: { id: 'asc' } });
        if (owner) {
          const calendar = calendarOf(meeting);
          const dueOn = levers.victim_contact_days === 0 ? today : calendar.addWorkingDays(today, levers.victim_contact_days);
          const created = await createActionOnce(tx, {
            meetingKey: meeting.key,
            incidentId: lever.incidentId,
            nominalId,
            text: `Contact the victim: lever ${tier.tier} (${tier.name}) was delivered to ${person.label} after ${lever.incidentRef}`,
            ownerId: owner.id,
            agency: owner.agency,
            dueOn,
            createdBy: actor.id,
          });
          await tx.leverDelivery.update({ where: { id: delivery.id }, data: { victimActionId: created.row.id } });
          const row = await tx.action.findUniqueOrThrow({ where: { id: created.row.id }, include: actionInclude });
          victimAction = actionViewOf(row, today);
        } else {
          noVictimOwner = true;
        }
      }
      await appendAuditMany(tx, [
        {
          actor: actor.id,
          action: 'lever.record',
          subject: person.label,
          channel: meeting.key,
          details: { delivery: delivery.id, trial: allocation.trial.name, tier: tier.tier, script: script.version, mode: request.mode, outcome: request.outcome, incident: lever.incidentRef, hours, victimAction: victimAction?.id ?? null },
        },
      ]);
      return { kind: 'recorded' as const, delivery, victimAction, noVictimOwner };
    });
    if (outcome.kind === 'given') return refused(`The lever after ${lever.incidentRef} was recorded a moment ago (L-${outcome.given.id}).`);
    const within = hours <= levers.target_hours ? `within the ${levers.target_hours}-hour target` : `OVER the ${levers.target_hours}-hour target`;
    const lines = [
      `Lever L-${outcome.delivery.id}: tier ${tier.tier} (${tier.name}) ${request.outcome} ${modePhrase[request.mode]} for ${person.label} after ${lever.incidentRef} ` +
        `(reported ${formatLocal(lever.reportedAt, meeting.timeZone)}), ${hours} hours later, ${within}. Script ${script.version}.`,
    ];
    if (outcome.victimAction) lines.push(`Victim contact: ${outcome.victimAction.id} for ${levers.victim_contact_agency}, due ${outcome.victimAction.dueOn}.`);
    if (outcome.noVictimOwner) lines.push(`No active member of ${levers.victim_contact_agency} owns the victim contact: add one (/dmm member add) and record it with /dmm action add.`);
    if (!closingOutcomes.includes(request.outcome)) lines.push(`The lever is still due: the notification was not given.`);
    return { ok: true, repeated: false, message: lines.join('\n'), ...(outcome.victimAction ? { victimAction: outcome.victimAction } : {}) };
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002' && idempotencyKey) {
      return { ok: true, repeated: true, message: 'That lever was already recorded.' };
    }
    throw error;
  }
}

async function audit(db: Database, actor: Actor, meeting: Meeting, action: string, subject: string, details: Record<string, string>) {
  await db.prisma.$transaction((tx) => appendAuditMany(tx, [{ actor: actor.id, action, subject, channel: meeting.key, details }]));
}

/** The tiers a lever form offers for a perpetrator: their trial's, or the defaults (the submission is checked anyway). */
export async function leverTiersFor(db: Database, label: string): Promise<Array<{ tier: string; name: string; mode: LeverMode }>> {
  const person = await db.prisma.nominal.findFirst({ where: { label: label.toUpperCase() }, select: { allocation: { select: { arm: true, trial: { select: { levers: true } } } } } });
  // Control and people in no trial are offered the same: a form must not tell them apart.
  const treated = person?.allocation && isTreatmentArm(person.allocation.arm);
  const levers = treated ? leverConfigSchema.parse(person.allocation!.trial.levers) : defaultLeverConfig;
  return levers.tiers.map(({ tier, name, mode }) => ({ tier, name, mode }));
}
