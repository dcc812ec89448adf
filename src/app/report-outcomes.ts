// Use case: the trial's outcome report (the protocol's four measures, effects with bootstrap intervals,
// the CONSORT flow and the chart data), for `dmm report outcomes` and `/dmm report`.
import type { HarmSettings, ScoringSettings } from '../config.js';
import { addCalendarDays, isLocalDate, type LocalDate } from '../domain/calendar.js';
import type { OutcomeReport, PeriodName } from '../domain/outcome-report.js';
import { consortOf, outcomeMeasures, outcomeMethod, periodsOf, type ParticipantRecord } from '../domain/outcomes.js';
import { cutoffOf } from '../domain/agenda-window.js';
import { localDateOfRow } from '../store/actions.js';
import { appendAuditMany } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { participantsOf } from '../store/outcomes-repository.js';
import { trialNamed } from './create-trial.js';
import type { RecordedCandidate } from './enrol-trial.js';
import { scoreAsOf } from './score-perpetrators.js';
import { TrialRefusal } from './trial-errors.js';

/** The protocol asks for at least this many bootstrap resamples. */
export const minimumResamples = 2_000;

export interface ReportSettings {
  scoring: ScoringSettings;
  harm: HarmSettings;
  timeZone: string;
}

export interface ReportRequest {
  trial: string;
  /** The report's day; default today. */
  asOf: LocalDate;
  resamples?: number;
  /** Why the report is run: recorded in the audit trail with who ran it. */
  reason: string;
  actor: string;
  channel: string;
}

/** The report, and per perpetrator their arm and events by period (with references: for the analysts' CSV only). */
export interface OutcomeReportRun {
  report: OutcomeReport;
  participants: ParticipantRow[];
}

export interface ParticipantRow {
  perpetrator_ref: string;
  arm: string;
  enrolled_on: string;
  exited_on: string;
  exit_reason: string;
  incidents_pre: number;
  incidents_during: number;
  incidents_post: number;
  crimes_pre: number;
  crimes_during: number;
  crimes_post: number;
}

export async function outcomeReport(db: Database, settings: ReportSettings, request: ReportRequest): Promise<OutcomeReportRun> {
  if (!isLocalDate(request.asOf)) throw new TrialRefusal(`--as-of must be a date as YYYY-MM-DD, not "${request.asOf}"`);
  if (request.reason.trim() === '') throw new TrialRefusal('--reason must say why the report is run (it is recorded with who ran it)');
  const resamples = request.resamples ?? minimumResamples;
  if (!Number.isInteger(resamples) || resamples < minimumResamples) throw new TrialRefusal(`--resamples must be a whole number of at least ${minimumResamples}`);
  const trial = await trialNamed(db.prisma, request.trial);
  const enrolments = await db.prisma.trialEnrolment.findMany({ where: { trialId: trial.id }, orderBy: { phase: 'asc' } });
  if (enrolments.length === 0) throw new TrialRefusal(`trial ${trial.name} has enrolled nobody yet (dmm trial enrol ${trial.name} …)`);
  const firstEnrolled = localDateOfRow(enrolments[0]!.asOf);
  if (request.asOf < firstEnrolled) throw new TrialRefusal(`--as-of ${request.asOf} is before the trial's first enrolment (${firstEnrolled}): there is nothing to report yet`);

  const { timeZone } = settings;
  const end = cutoffOf(addCalendarDays(request.asOf, 1), '00:00', timeZone);
  // People enrolled after the report's day are not yet in it.
  const participants = (await participantsOf(db.prisma, trial.id, timeZone, end)).filter((p) => p.enrolledOn <= request.asOf);
  const armNames = trial.arms.map((a) => a.name);
  const empty = armNames.filter((arm) => !participants.some((p) => p.arm === arm));
  if (empty.length) throw new TrialRefusal(`arm ${empty.join(' and ')} of ${trial.name} has nobody in it by ${request.asOf}: the arms cannot be compared`);

  const inputs = { asOf: request.asOf, timeZone, participants, harm: settings.harm, bootstrap: { resamples, seed: trial.bootstrapSeed }, arms: armNames };
  const measured = outcomeMeasures(inputs);
  const exclusions = await db.prisma.trialExclusion.findMany({ where: { trialId: trial.id }, select: { reason: true } });
  const allocations = await db.prisma.trialAllocation.findMany({ where: { trialId: trial.id }, select: { arm: true, exitReason: true, exitedOn: true, enrolledOn: true, nominal: { select: { ref: true } } } });
  // People, not enrolments: someone passed over in phase 1 and enrolled in phase 2 is counted once.
  const allocatedRefs = new Set(allocations.map((a) => a.nominal.ref));
  const eligibleRefs = new Set(enrolments.flatMap((e) => (e.eligible as unknown as RecordedCandidate[]).map((c) => c.ref)));
  const notTaken = [...eligibleRefs].filter((ref) => !allocatedRefs.has(ref)).length;
  // Each phase scores everyone again; the largest phase's count is the number of people scored.
  const scored = Math.max(eligibleRefs.size, ...enrolments.map((e) => e.scored));
  const eligible = eligibleRefs.size;
  const consort = consortOf({
    scored,
    eligible: Math.min(scored, eligible + exclusions.length),
    exclusions: [...exclusions.map((e) => ({ reason: e.reason })), ...Array.from({ length: Math.max(0, notTaken) }, () => ({ reason: 'not among the highest scores enrolled' }))],
    participants: allocations.map((a) => ({
      arm: a.arm,
      exitReason: a.exitedOn && localDateOfRow(a.exitedOn) <= request.asOf ? a.exitReason : null,
      analysed: localDateOfRow(a.enrolledOn) <= request.asOf,
    })),
    arms: armNames,
  });
  const powerFew = (await scoreAsOf(db, settings.scoring, request.asOf, timeZone)).powerFew.curve;

  await appendAuditMany(db.prisma, [
    {
      actor: request.actor,
      action: 'report.outcomes',
      subject: trial.name,
      channel: request.channel,
      reason: request.reason.trim(),
      details: { asOf: request.asOf, resamples, participants: participants.length },
    },
  ]);
  const exitReasons = new Map(allocations.map((a) => [a.nominal.ref, a.exitReason ?? '']));
  const report: OutcomeReport = {
    trial: { name: trial.name, arms: trial.arms, strata: trial.strata, seed: trial.seed, bootstrapSeed: trial.bootstrapSeed },
    asOf: request.asOf,
    timeZone,
    arms: measured.arms,
    consort,
    measures: measured.measures,
    method: outcomeMethod(inputs),
    charts: { cumulative: measured.cumulative, powerFew },
  };
  return { report, participants: participants.map((p) => participantRow(p, request.asOf, timeZone, exitReasons.get(p.ref) ?? '')).sort((a, b) => (a.perpetrator_ref < b.perpetrator_ref ? -1 : 1)) };
}

function participantRow(p: ParticipantRecord, asOf: LocalDate, timeZone: string, exitReason: string): ParticipantRow {
  const periods = periodsOf(p, asOf, timeZone);
  const count = (name: PeriodName, crimesOnly: boolean) => {
    const period = periods[name];
    if (!period) return 0;
    return p.incidents.filter((i) => (!crimesOnly || i.crime) && i.reportedAt >= period.start && i.reportedAt < period.end).length;
  };
  return {
    perpetrator_ref: p.ref,
    arm: p.arm,
    enrolled_on: p.enrolledOn,
    exited_on: p.exitedOn && p.exitedOn <= asOf ? p.exitedOn : '',
    exit_reason: p.exitedOn && p.exitedOn <= asOf ? exitReason : '',
    incidents_pre: count('pre', false),
    incidents_during: count('during', false),
    incidents_post: count('post', false),
    crimes_pre: count('pre', true),
    crimes_during: count('during', true),
    crimes_post: count('post', true),
  };
}
