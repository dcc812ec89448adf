// What a trial has recorded: its allocations, a recomputation that checks them, and the arms' balance at baseline.
import { mean, sampleStandardDeviation } from 'simple-statistics';
import { type LocalDate } from '../domain/calendar.js';
import { allocate, allocationDigest, type Allocation } from '../domain/randomisation.js';
import { scorePerpetrator, scoringConfigSchema } from '../domain/scoring.js';
import { scoreWindowFor } from '../domain/score-window.js';
import { controlArm } from '../domain/trial.js';
import { rapidityByTier, type RapiditySummary } from '../domain/levers.js';
import { treatedPerpetrators } from '../store/levers-repository.js';
import { localDateOfRow } from '../store/actions.js';
import { appendAuditMany } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { perpetratorActivityIn } from '../store/scoring-repository.js';
import { trialNamed } from './create-trial.js';
import type { RecordedCandidate } from './enrol-trial.js';

export interface AllocationRow {
  perpetrator_ref: string;
  arm: string;
  phase: number;
  enrolled_on: LocalDate;
  stratum: string;
  exited_on: LocalDate | null;
  exit_reason: string | null;
}

export async function trialAllocations(db: Database, trialName: string, actor: string, reason: string): Promise<AllocationRow[]> {
  const trial = await trialNamed(db.prisma, trialName);
  const rows = await db.prisma.trialAllocation.findMany({ where: { trialId: trial.id }, include: { nominal: { select: { ref: true } } } });
  await appendAuditMany(db.prisma, [{ actor, action: 'trial.allocations.view', subject: trial.name, channel: 'cli', reason, details: { rows: rows.length } }]);
  return rows
    .map((r) => ({
      perpetrator_ref: r.nominal.ref,
      arm: r.arm,
      phase: r.phase,
      enrolled_on: localDateOfRow(r.enrolledOn),
      stratum: r.stratum,
      exited_on: r.exitedOn ? localDateOfRow(r.exitedOn) : null,
      exit_reason: r.exitReason,
    }))
    .sort((a, b) => a.phase - b.phase || (a.perpetrator_ref < b.perpetrator_ref ? -1 : a.perpetrator_ref > b.perpetrator_ref ? 1 : 0));
}

export interface Verification {
  ok: boolean;
  enrolments: number;
  allocations: number;
  problems: string[];
}

/**
 * Recomputes every phase's allocation from what its enrolment recorded (candidates, strata, seed) and
 * compares it with the stored allocations and with the hash-chained audit events written at the time.
 */
export async function verifyTrial(db: Database, trialName: string, actor: string): Promise<Verification> {
  const trial = await trialNamed(db.prisma, trialName);
  const enrolments = await db.prisma.trialEnrolment.findMany({ where: { trialId: trial.id }, orderBy: { phase: 'asc' } });
  const stored = await db.prisma.trialAllocation.findMany({ where: { trialId: trial.id }, include: { nominal: { select: { ref: true, label: true } } } });
  const audited = await db.prisma.auditEvent.findMany({ where: { action: 'trial.allocate', details: { path: ['trial'], equals: trial.name } }, select: { subject: true, details: true } });
  const auditedArm = new Map(audited.map((e) => [e.subject, (e.details as { arm?: string }).arm]));
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const enrolment of enrolments) {
    if (enrolment.seed !== trial.seed) problems.push(`phase ${enrolment.phase}: recorded seed ${enrolment.seed} is not the trial's seed ${trial.seed}`);
    const candidates = (enrolment.eligible as unknown as RecordedCandidate[]).filter((c) => c.stratum !== undefined);
    const expected = allocate({ seed: enrolment.seed, phase: enrolment.phase, arms: trial.arms, candidates: candidates.map((c) => ({ ref: c.ref, stratum: c.stratum! })) });
    if (allocationDigest(expected) !== enrolment.allocationDigest) problems.push(`phase ${enrolment.phase}: the recomputed allocation does not match the digest recorded at enrolment`);
    const actual = new Map(stored.filter((s) => s.enrolmentId === enrolment.id).map((s) => [s.nominal.ref, s]));
    for (const want of expected) {
      const got = actual.get(want.ref);
      if (!got) {
        problems.push(`phase ${enrolment.phase}: ${want.ref} should be allocated to ${want.arm} but has no allocation`);
        continue;
      }
      seen.add(got.id);
      const differences = differencesOf(want, got);
      if (differences.length) problems.push(`phase ${enrolment.phase}: ${want.ref} ${differences.join(', ')}`);
      const armAudited = auditedArm.get(got.nominal.label);
      if (armAudited !== want.arm) problems.push(`phase ${enrolment.phase}: ${want.ref}'s audited allocation is ${armAudited ?? 'missing'}, recomputed ${want.arm}`);
    }
  }
  for (const extra of stored.filter((s) => !seen.has(s.id))) problems.push(`${extra.nominal.ref} has an allocation (${extra.arm}) that no recorded enrolment produces`);
  await appendAuditMany(db.prisma, [{ actor, action: 'trial.verify', subject: trial.name, channel: 'cli', details: { ok: problems.length === 0, problems: problems.length } }]);
  return { ok: problems.length === 0, enrolments: enrolments.length, allocations: stored.length, problems };
}

function differencesOf(want: Allocation, got: { arm: string; stratum: string; block: number; blockSize: number; position: number; phase: number }): string[] {
  const out: string[] = [];
  if (got.arm !== want.arm) out.push(`is in ${got.arm} but the recomputed allocation says ${want.arm}`);
  if (got.stratum !== want.stratum) out.push(`stratum ${got.stratum}, recomputed ${want.stratum}`);
  if (got.block !== want.block || got.position !== want.position || got.blockSize !== want.blockSize) {
    out.push(`block ${got.block}/${got.blockSize} position ${got.position}, recomputed block ${want.block}/${want.blockSize} position ${want.position}`);
  }
  return out;
}

export interface BalanceMeasure {
  mean: number | null;
  sd: number | null;
}

export interface ArmBalance {
  arm: string;
  count: number;
  score: BalanceMeasure;
  incidents: BalanceMeasure;
  gravity: BalanceMeasure;
}

export interface TrialBalance {
  trial: string;
  arms: ArmBalance[];
  /** Each treated arm against control: (mean difference) / pooled SD; |d| above 0.1 is commonly read as imbalance. */
  standardisedDifferences: { arm: string; score: number | null; incidents: number | null; gravity: number | null }[];
}

/** Per arm, the scores at enrolment and the incidents and gravity of the 12 months before it. */
export async function trialBalance(db: Database, trialName: string, timeZone: string, actor: string): Promise<TrialBalance> {
  const trial = await trialNamed(db.prisma, trialName);
  const enrolments = await db.prisma.trialEnrolment.findMany({ where: { trialId: trial.id }, include: { allocations: true } });
  const values = new Map<string, { score: number[]; incidents: number[]; gravity: number[] }>(trial.arms.map((a) => [a.name, { score: [], incidents: [], gravity: [] }]));
  for (const enrolment of enrolments) {
    const config = scoringConfigSchema.parse(enrolment.scoringConfig);
    const enrolledOn = localDateOfRow(enrolment.asOf);
    const before = scoreWindowFor(enrolledOn, 12, 12, timeZone);
    const activity = new Map((await perpetratorActivityIn(db.prisma, before, enrolment.allocations.map((a) => a.nominalId))).map((a) => [a.perpetratorId, a]));
    for (const allocation of enrolment.allocations) {
      const arm = values.get(allocation.arm)!;
      const seen = activity.get(allocation.nominalId);
      const scored = seen ? scorePerpetrator(config, seen, before.end) : undefined;
      arm.score.push(allocation.score);
      arm.incidents.push(scored?.incidents ?? 0);
      arm.gravity.push(scored?.gravity.value ?? 0);
    }
  }
  const summary = (xs: number[]): BalanceMeasure => ({ mean: xs.length ? mean(xs) : null, sd: xs.length > 1 ? sampleStandardDeviation(xs) : null });
  const arms = trial.arms.map((a) => {
    const v = values.get(a.name)!;
    return { arm: a.name, count: v.score.length, score: summary(v.score), incidents: summary(v.incidents), gravity: summary(v.gravity) };
  });
  const control = arms.find((a) => a.arm === controlArm)!;
  const standardisedDifferences = arms
    .filter((a) => a.arm !== controlArm)
    .map((a) => ({
      arm: a.arm,
      score: standardisedDifference(a.score, control.score),
      incidents: standardisedDifference(a.incidents, control.incidents),
      gravity: standardisedDifference(a.gravity, control.gravity),
    }));
  await appendAuditMany(db.prisma, [{ actor, action: 'trial.balance', subject: trial.name, channel: 'cli' }]);
  return { trial: trial.name, arms, standardisedDifferences };
}

function standardisedDifference(treated: BalanceMeasure, control: BalanceMeasure): number | null {
  if (treated.mean === null || control.mean === null || treated.sd === null || control.sd === null) return null;
  const pooled = Math.sqrt((treated.sd ** 2 + control.sd ** 2) / 2);
  if (pooled === 0) return treated.mean === control.mean ? 0 : null;
  return (treated.mean - control.mean) / pooled;
}

export interface RapidityReport {
  trial: string;
  targetHours: number;
  tiers: RapiditySummary[];
  /** Levers due now and past their target. */
  overdue: number;
  due: number;
}

/** How fast levers followed incidents, per tier: median and 90th percentile hours from report to delivery. */
export async function trialRapidity(db: Database, trialName: string, timeZone: string, now: Date, actor: string): Promise<RapidityReport> {
  const trial = await trialNamed(db.prisma, trialName);
  const deliveries = await db.prisma.leverDelivery.findMany({ where: { trialId: trial.id, outcome: 'delivered' }, select: { tier: true, rapidityHours: true } });
  const treated = (await treatedPerpetrators(db.prisma, { timeZone, until: now })).filter((t) => t.trialId === trial.id);
  const due = treated.flatMap((t) => t.due);
  await appendAuditMany(db.prisma, [{ actor, action: 'trial.rapidity', subject: trial.name, channel: 'cli' }]);
  return {
    trial: trial.name,
    targetHours: trial.levers.target_hours,
    tiers: rapidityByTier(trial.levers, deliveries.map((d) => ({ tier: d.tier, hours: d.rapidityHours }))),
    overdue: due.filter((d) => d.overdue).length,
    due: due.length,
  };
}
