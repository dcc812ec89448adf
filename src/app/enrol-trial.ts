// Enrols the top-ranked eligible perpetrators into a trial's current phase and randomises them, once and for good.
import type { ScoringSettings } from '../config.js';
import type { LocalDate } from '../domain/calendar.js';
import { isLocalDate } from '../domain/calendar.js';
import { allocate, allocationDigest, type Allocation } from '../domain/randomisation.js';
import type { RankedScore } from '../domain/scoring.js';
import { isTreatmentArm, strataOf, type StratumKind } from '../domain/trial.js';
import { Prisma } from '../generated/prisma/client.js';
import { dateOf, localDateOfRow } from '../store/actions.js';
import { appendAuditMany, type AuditEntry } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { latestAreasOf } from '../store/scoring-repository.js';
import { trialNamed } from './create-trial.js';
import { scoreAsOf } from './score-perpetrators.js';
import { TrialRefusal } from './trial-errors.js';

export interface EnrolRequest {
  trial: string;
  asOf: LocalDate;
  top: number;
}

/** One eligible candidate as the enrolment records it: enough to audit the ranking and recompute the allocation. */
export interface RecordedCandidate {
  rank: number;
  ref: string;
  label: string;
  score: number;
  recency: number;
  frequency: number;
  gravity: number;
  victims: number;
  /** Set for the candidates taken into this phase. */
  stratum?: string;
}

export type EnrolOutcome =
  | { kind: 'enrolled'; trial: string; phase: number; asOf: LocalDate; requested: number; eligible: number; enrolled: number; byArm: Record<string, number>; warnings: string[] }
  | { kind: 'unchanged'; trial: string; phase: number; asOf: LocalDate; enrolled: number };

export async function enrolTrial(db: Database, scoring: ScoringSettings, timeZone: string, request: EnrolRequest, actor: string): Promise<EnrolOutcome> {
  if (!isLocalDate(request.asOf)) throw new TrialRefusal(`--as-of must be a date as YYYY-MM-DD, not "${request.asOf}"`);
  if (!Number.isSafeInteger(request.top) || request.top < 1) throw new TrialRefusal(`--top must be a whole number of 1 or more`);
  const trial = await trialNamed(db.prisma, request.trial);
  const phase = await db.prisma.trialPhase.findFirstOrThrow({ where: { trialId: trial.id }, orderBy: { number: 'desc' } });
  const already = await sameOrRefused(db, trial.id, trial.name, phase.number, request);
  if (already) return already;
  const previous = await db.prisma.trialEnrolment.findFirst({ where: { trialId: trial.id, phase: { lt: phase.number } }, orderBy: { phase: 'desc' } });
  if (previous && dateOf(request.asOf) < previous.asOf) {
    throw new TrialRefusal(`phase ${phase.number} cannot be enrolled as of a day before phase ${previous.phase}'s (${localDateOfRow(previous.asOf)})`);
  }

  const scored = await scoreAsOf(db, scoring, request.asOf, timeZone);
  const [taken, excluded] = await Promise.all([
    db.prisma.trialAllocation.findMany({ select: { nominalId: true } }),
    db.prisma.trialExclusion.findMany({ where: { trialId: trial.id }, select: { nominalId: true } }),
  ]);
  const unavailable = new Set([...taken, ...excluded].map((r) => r.nominalId));
  const eligible = scored.ranking.filter((s) => s.eligible && !unavailable.has(s.perpetratorId));
  if (eligible.length === 0) throw new TrialRefusal(`no perpetrator is eligible as of ${request.asOf} (eligible, not excluded and in no trial yet); nothing was enrolled`);
  const selected = eligible.slice(0, request.top);

  const strataKinds = trial.strata as StratumKind[];
  const areas = strataKinds.includes('area') ? await latestAreasOf(db.prisma, scored.window, selected.map((s) => s.perpetratorId)) : new Map<number, string>();
  const strata = strataOf(strataKinds, selected.map((s) => ({ ref: s.ref, score: s.total, area: areas.get(s.perpetratorId) ?? '' })));
  const allocations = allocate({ seed: trial.seed, phase: phase.number, arms: trial.arms, candidates: selected.map((s) => ({ ref: s.ref, stratum: strata.get(s.ref)! })) });
  const byRef = new Map(selected.map((s) => [s.ref, s]));
  const recorded = eligible.map((s, i) => recordOf(s, i + 1, strata.get(s.ref)));

  try {
    await db.prisma.$transaction(async (tx) => {
      const enrolment = await tx.trialEnrolment.create({
        data: {
          trialId: trial.id,
          phase: phase.number,
          asOf: dateOf(request.asOf),
          top: request.top,
          scored: scored.ranking.length,
          seed: trial.seed,
          scoringHash: scoring.hash,
          scoringConfig: scoring.config as unknown as Prisma.InputJsonValue,
          eligible: recorded as unknown as Prisma.InputJsonValue,
          allocationDigest: allocationDigest(allocations),
          createdBy: actor,
        },
      });
      await tx.trialAllocation.createMany({
        data: allocations.map((a) => ({
          trialId: trial.id,
          enrolmentId: enrolment.id,
          nominalId: byRef.get(a.ref)!.perpetratorId,
          phase: phase.number,
          arm: a.arm,
          stratum: a.stratum,
          block: a.block,
          blockSize: a.blockSize,
          position: a.position,
          enrolledOn: dateOf(request.asOf),
          score: byRef.get(a.ref)!.total,
        })),
      });
      // Treatment shows on the agenda as a flagged perpetrator for as long as they take part; control gets nothing.
      await tx.flag.createMany({
        data: allocations
          .filter((a) => isTreatmentArm(a.arm))
          .map((a) => ({ perpetratorId: byRef.get(a.ref)!.perpetratorId, kind: 'cohort' as const, note: `trial ${trial.name}`, startsOn: dateOf(request.asOf), setBy: actor })),
        skipDuplicates: true,
      });
      await appendAuditMany(tx, [
        {
          actor,
          action: 'trial.enrol',
          subject: trial.name,
          channel: 'cli',
          details: { phase: phase.number, asOf: request.asOf, top: request.top, eligible: eligible.length, enrolled: allocations.length, scoringHash: scoring.hash, seed: trial.seed },
        },
        ...allocations.map((a): AuditEntry => ({
          actor,
          action: 'trial.allocate',
          subject: byRef.get(a.ref)!.label,
          channel: 'cli',
          details: { trial: trial.name, phase: phase.number, arm: a.arm, stratum: a.stratum, block: a.block, position: a.position },
        })),
      ]);
    }, { timeout: 120_000 });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      // Another enrolment won the race: if it was this one, all is well; if not, nothing of ours was written.
      const winner = await sameOrRefused(db, trial.id, trial.name, phase.number, request);
      if (winner) return winner;
      throw new TrialRefusal(`someone else enrolled some of these perpetrators at the same moment; nothing was written, run it again`);
    }
    throw error;
  }
  const byArm = Object.fromEntries(trial.arms.map((arm) => [arm.name, allocations.filter((a: Allocation) => a.arm === arm.name).length]));
  return { kind: 'enrolled', trial: trial.name, phase: phase.number, asOf: request.asOf, requested: request.top, eligible: eligible.length, enrolled: allocations.length, byArm, warnings: scored.warnings };
}

/** The same enrolment again changes nothing; a different one for an enrolled phase is refused. */
async function sameOrRefused(db: Database, trialId: number, trialName: string, phase: number, request: EnrolRequest): Promise<EnrolOutcome | undefined> {
  const existing = await db.prisma.trialEnrolment.findUnique({ where: { trialId_phase: { trialId, phase } }, include: { _count: { select: { allocations: true } } } });
  if (!existing) return undefined;
  const asOf = localDateOfRow(existing.asOf);
  if (asOf === request.asOf && existing.top === request.top) {
    return { kind: 'unchanged', trial: trialName, phase, asOf, enrolled: existing._count.allocations };
  }
  throw new TrialRefusal(
    `phase ${phase} of ${trialName} was enrolled as of ${asOf} with --top ${existing.top}; allocations are never redone. ` +
      `To enrol more people, open a new phase: dmm trial phase ${trialName} ${phase + 1} --from <YYYY-MM-DD>`,
  );
}

function recordOf(score: RankedScore, rank: number, stratum: string | undefined): RecordedCandidate {
  return {
    rank,
    ref: score.ref,
    label: score.label,
    score: score.total,
    recency: score.recency.points,
    frequency: score.frequency.points,
    gravity: score.gravity.points,
    victims: score.victims.points,
    ...(stratum === undefined ? {} : { stratum }),
  };
}
