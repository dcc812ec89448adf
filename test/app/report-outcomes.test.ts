// The trial's outcome report (outcomeReport) on each database, from a small synthetic trial whose every
// event is placed by hand: incidents on both sides of the enrolment day's first instant (in British Summer
// Time, so the day starts at 23:00 UTC), of an exit's end, of the 12-month pre period and of the report's
// day; MARAC flags; victim contacts (a later score replacing an earlier one). The report's events, person-
// time and effects are checked against sums made here from the table, whatever arm the recorded seed puts
// each perpetrator in. Then: byte-identical report.json for the same inputs (twice on one store, and on a
// second store filled in the opposite order), an audit event per run, refusals that audit nothing, and an
// effect that cannot be estimated. All records are synthetic and obviously fictional (TEST-…).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrial, openPhase } from '../../src/app/create-trial.js';
import { enrolTrial } from '../../src/app/enrol-trial.js';
import { exitFromTrial } from '../../src/app/leave-trial.js';
import { outcomeReport, type OutcomeReportRun, type ReportRequest, type ReportSettings } from '../../src/app/report-outcomes.js';
import { TrialRefusal } from '../../src/app/trial-errors.js';
import { parseConfig, scoringSettingsOf } from '../../src/config.js';
import { defaultLeverConfig } from '../../src/domain/levers.js';
import type { Effect, OutcomeReport, PeriodName } from '../../src/domain/outcome-report.js';
import { contactRecordSchema, flagRecordSchema, incidentRecordSchema } from '../../src/domain/records.js';
import { reportJson } from '../../src/report/write-report.js';
import type { Database } from '../../src/store/database.js';
import { upsertContacts, upsertFlags, upsertIncidents } from '../../src/store/records-repository.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { trialIncident } from '../support/trial-data.js';

const timeZone = 'Europe/London';
const actor = 'cli:test-analyst';
const scoring = scoringSettingsOf(parseConfig({}));
const harm = { table: { assault: 10, threats: 6, 'verbal argument': 1, strangulation: 20 }, defaultWeight: 2, source: 'TEST harm table' };
const settings: ReportSettings = { scoring, harm, timeZone };

/** Monday 2 June 2025, in British Summer Time: the day begins at 23:00 UTC on 1 June. */
const enrolDay = '2025-06-02';
const enrolStart = Date.parse('2025-06-01T23:00:00.000Z');
/** 12 months before: Sunday 2 June 2024 began at 23:00 UTC on 1 June. */
const preStart = Date.parse('2024-06-01T23:00:00.000Z');
/** The report's day, in GMT: it ends at midnight UTC. */
const asOf = '2025-12-01';
const asOfEnd = Date.parse('2025-12-02T00:00:00.000Z');
/** TEST-P-R03 exits on Tuesday 30 September 2025 (BST): the day ends at 23:00 UTC. */
const exitDay = '2025-09-30';
const exitEnd = Date.parse('2025-09-30T23:00:00.000Z');
/** TEST-P-R06's exit is after the report's day: not yet an exit in the report. */
const lateExitDay = '2025-12-05';
const yearMs = 365.25 * 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

const mainTrial = 'outcomes-t';
const oneArmTrial = 'one-arm';
const noCrimeTrial = 'no-crime';
const emptyTrial = 'never-enrolled';
const twoPhaseTrial = 'two-phase';

type Period = PeriodName | 'none';
interface Inc {
  ref: string;
  at: string;
  perp: string;
  victim: string;
  category: string;
  crime: boolean;
  /** Where the report must count it. */
  period: Period;
}
interface Contact {
  ref: string;
  victim: string;
  at: string;
  risk: number;
  period: Period;
}
interface Marac {
  perp: string;
  startsOn: string;
  period: Period;
  kind?: 'marac' | 'iom';
}

const pad = (k: number) => String(k).padStart(2, '0');
const R = (k: number) => `TEST-P-R${pad(k)}`;
const RV = (k: number) => `TEST-V-R${pad(k)}`;
const N = (k: number) => `TEST-P-N${pad(k)}`;
const NV = (k: number) => `TEST-V-N${pad(k)}`;
const M = (k: number) => `TEST-P-M${pad(k)}`;
const MV = (k: number) => `TEST-V-M${pad(k)}`;
const mainRefs = [1, 2, 3, 4, 5, 6, 7, 8].map(R);

/** Every record of the stores, with the period each must land in (for the main trial's participants). */
function tables(): { incidents: Inc[]; contacts: Contact[]; flags: Marac[] } {
  const incidents: Inc[] = [];
  let n = 0;
  const add = (perp: string, victim: string, at: string, category: string, crime: boolean, period: Period) =>
    incidents.push({ ref: `TEST-INC-O${String(++n).padStart(3, '0')}`, at, perp, victim, category, crime, period });

  for (let k = 1; k <= 8; k++) {
    add(R(k), RV(k), `2025-01-${10 + k}T10:00:00Z`, 'assault', true, 'pre');
    add(R(k), RV(k), `2025-04-${10 + k}T10:00:00Z`, 'assault', true, 'pre');
    add(R(k), RV(k), `2025-07-${10 + k}T10:00:00Z`, 'assault', true, 'during');
    if (k % 2 === 1) add(R(k), RV(k), `2025-08-${10 + k}T10:00:00Z`, 'threats', false, 'during');
    else add(R(k), RV(k), `2024-11-${10 + k}T10:00:00Z`, 'threats', false, 'pre');
    if (k <= 3) add(R(k), RV(k), `2025-09-0${k}T10:00:00Z`, 'TEST unlisted', true, 'during');
  }
  // The enrolment day's first instant is 'during'; a millisecond before it is 'pre'.
  add(R(1), RV(1), iso(enrolStart), 'assault', true, 'during');
  add(R(2), RV(2), iso(enrolStart - 1), 'assault', true, 'pre');
  // The exit day's last millisecond is 'during'; its end is 'post', and so is what follows.
  add(R(3), RV(3), iso(exitEnd - 1), 'assault', true, 'during');
  add(R(3), RV(3), iso(exitEnd), 'assault', true, 'post');
  add(R(3), RV(3), '2025-11-15T12:00:00Z', 'threats', false, 'post');
  // The pre period starts exactly 12 months before the enrolment day began.
  add(R(4), RV(4), iso(preStart - 1), 'assault', true, 'none');
  add(R(4), RV(4), iso(preStart), 'assault', true, 'pre');
  // The report's day ends at midnight GMT.
  add(R(5), RV(5), iso(asOfEnd - 1), 'assault', true, 'during');
  add(R(5), RV(5), iso(asOfEnd), 'assault', true, 'none');
  // Exiting after the report's day: still 'during' on the report's day.
  add(R(6), RV(6), '2025-11-20T10:00:00Z', 'assault', true, 'during');

  // The one-arm trial's only perpetrator: the highest score of all.
  for (const at of ['2025-03-01T10:00:00Z', '2025-04-01T10:00:00Z', '2025-05-01T10:00:00Z']) add('TEST-P-S01', 'TEST-V-S01', at, 'strangulation', true, 'none');
  // The no-crime trial: no crimes before enrolment, crimes and other incidents during.
  for (let k = 1; k <= 8; k++) {
    add(N(k), NV(k), `2025-02-${10 + k}T10:00:00Z`, 'verbal argument', false, 'none');
    add(N(k), NV(k), `2025-05-${10 + k}T10:00:00Z`, 'verbal argument', false, 'none');
    add(N(k), NV(k), `2025-07-${10 + k}T10:00:00Z`, 'assault', true, 'none');
    add(N(k), NV(k), `2025-08-${10 + k}T10:00:00Z`, 'verbal argument', false, 'none');
  }

  // The two-phase trial, after the others enrolled: four perpetrators in each phase.
  for (let k = 1; k <= 8; k++) {
    add(M(k), MV(k), `2025-06-${10 + k}T10:00:00Z`, 'assault', true, 'none');
    add(M(k), MV(k), `2025-06-${20 + k}T10:00:00Z`, 'threats', false, 'none');
    add(M(k), MV(k), `2025-08-${10 + k}T10:00:00Z`, 'assault', true, 'none');
  }

  const contacts: Contact[] = [];
  let c = 0;
  const contact = (victim: string, at: string, risk: number, period: Period) => contacts.push({ ref: `TEST-C-${String(++c).padStart(3, '0')}`, victim, at, risk, period });
  for (let k = 1; k <= 8; k++) {
    // Two scores before enrolment: the later one is the victim's.
    contact(RV(k), '2025-02-01T12:00:00Z', k, 'none');
    contact(RV(k), '2025-05-01T12:00:00Z', k + 1, 'pre');
    contact(RV(k), '2025-08-01T12:00:00Z', k - 1, 'during');
  }
  // Two scores at the same instant: the higher one is kept, whatever order they were stored in.
  contact(RV(7), '2025-05-01T12:00:00Z', 10, 'pre');
  contact(RV(3), '2025-11-01T12:00:00Z', 1, 'post');
  contact(RV(1), iso(asOfEnd), 9, 'none');
  contact('TEST-V-X99', '2025-08-01T12:00:00Z', 10, 'none');
  for (let k = 1; k <= 8; k++) contact(NV(k), '2025-05-01T12:00:00Z', 5, 'none');

  const flags: Marac[] = [
    { perp: R(1), startsOn: enrolDay, period: 'during' },
    { perp: R(2), startsOn: '2025-06-01', period: 'pre' },
    { perp: R(3), startsOn: '2025-10-01', period: 'post' },
    { perp: R(5), startsOn: '2025-12-02', period: 'none' },
    { perp: R(7), startsOn: '2024-12-01', period: 'pre' },
    { perp: R(8), startsOn: '2025-08-01', period: 'during' },
    { perp: R(4), startsOn: '2025-07-01', period: 'none', kind: 'iom' },
  ];
  return { incidents, contacts, flags };
}

const data = tables();

/** Fills a store and runs the trials' enrolments and exits; `reverse` stores every record in the opposite order. */
async function build(db: Database, reverse: boolean): Promise<void> {
  const order = <T>(rows: T[]) => (reverse ? [...rows].reverse() : rows);
  const incidents = order(data.incidents).map((i) =>
    incidentRecordSchema.parse(trialIncident(i.ref, i.at, i.perp, i.victim, i.category, i.crime, { risk_level: i.crime ? 'medium' : 'standard' })),
  );
  const contacts = order(data.contacts).map((c) => contactRecordSchema.parse({ source_ref: c.ref, victim_ref: c.victim, contacted_at: c.at, perceived_risk: c.risk, agency: 'idva' }));
  const flags = order(data.flags).map((f) => flagRecordSchema.parse({ perpetrator_ref: f.perp, kind: f.kind ?? 'marac', note: 'TEST referral', starts_on: f.startsOn, ends_on: '' }));
  const half = Math.floor(incidents.length / 2);
  // Two batches, so the second store also differs in which statement created which person.
  await db.prisma.$transaction((tx) => upsertIncidents(tx, incidents.slice(0, half), db.labelKey));
  await db.prisma.$transaction(async (tx) => {
    if (reverse) {
      await upsertFlags(tx, flags, db.labelKey, 'test');
      await upsertContacts(tx, contacts, db.labelKey);
    } else {
      await upsertContacts(tx, contacts, db.labelKey);
      await upsertFlags(tx, flags, db.labelKey, 'test');
    }
    await upsertIncidents(tx, incidents.slice(half), db.labelKey);
  });

  const trial = (name: string, seed: string) => createTrial(db, { name, arms: 'treatment,control', seed, from: enrolDay, levers: defaultLeverConfig }, actor);
  const enrol = (name: string, top: number) => enrolTrial(db, scoring, timeZone, { trial: name, asOf: enrolDay, top }, actor);
  await trial(oneArmTrial, '11');
  expect(await enrol(oneArmTrial, 1)).toMatchObject({ kind: 'enrolled', enrolled: 1 });
  await trial(mainTrial, '4242');
  expect(await enrol(mainTrial, 8)).toMatchObject({ kind: 'enrolled', enrolled: 8 });
  await trial(noCrimeTrial, '99');
  expect(await enrol(noCrimeTrial, 8)).toMatchObject({ kind: 'enrolled', enrolled: 8 });
  await trial(emptyTrial, '5');
  await createTrial(db, { name: twoPhaseTrial, arms: 'treatment,control', seed: '77', from: '2025-07-01', levers: defaultLeverConfig }, actor);
  expect(await enrolTrial(db, scoring, timeZone, { trial: twoPhaseTrial, asOf: '2025-07-01', top: 4 }, actor)).toMatchObject({ kind: 'enrolled', eligible: 8, enrolled: 4 });
  await openPhase(db, twoPhaseTrial, 2, '2025-07-08', actor);
  expect(await enrolTrial(db, scoring, timeZone, { trial: twoPhaseTrial, asOf: '2025-07-08', top: 4 }, actor)).toMatchObject({ kind: 'enrolled', eligible: 4, enrolled: 4 });
  await exitFromTrial(db, { trial: mainTrial, ref: R(3), on: exitDay, reason: 'moved' }, actor);
  await exitFromTrial(db, { trial: mainTrial, ref: R(6), on: lateExitDay, reason: 'custody' }, actor);
}

const request = (overrides: Partial<ReportRequest> = {}): ReportRequest => ({ trial: mainTrial, asOf, reason: 'TEST quarterly analysis', actor, channel: 'cli', ...overrides });

/** The refusal a call ends in (failing the test if it resolves or throws something else). */
async function refusalOf(call: Promise<unknown>): Promise<TrialRefusal> {
  let outcome: unknown;
  try {
    outcome = await call;
  } catch (error) {
    expect(error).toBeInstanceOf(TrialRefusal);
    return error as TrialRefusal;
  }
  throw new Error(`expected a TrialRefusal, got ${JSON.stringify(outcome).slice(0, 300)}`);
}

const rateMeasures = ['offending', 'severity', 'incidents', 'referrals'] as const;
type RateName = (typeof rateMeasures)[number];
const periods: PeriodName[] = ['pre', 'during', 'post'];

interface Sums {
  offending: number;
  severity: number;
  incidents: number;
  referrals: number;
  years: number;
  /** Each victim's latest score in the period. */
  risks: number[];
}

/** The report's figures for the main trial, summed here from the table by the arm each person is in. */
function expectedSums(armOf: Map<string, string>): Record<string, Record<PeriodName, Sums>> {
  const out: Record<string, Record<PeriodName, Sums>> = {};
  const empty = (): Sums => ({ offending: 0, severity: 0, incidents: 0, referrals: 0, years: 0, risks: [] });
  for (const arm of new Set(armOf.values())) out[arm] = { pre: empty(), during: empty(), post: empty() };
  const weight = (category: string) => (harm.table as Record<string, number>)[category] ?? harm.defaultWeight;
  for (const i of data.incidents) {
    const arm = armOf.get(i.perp);
    if (!arm || i.period === 'none') continue;
    const s = out[arm]![i.period];
    s.incidents++;
    if (i.crime) s.offending++;
    s.severity += weight(i.category);
  }
  for (const f of data.flags) {
    const arm = armOf.get(f.perp);
    if (arm && f.period !== 'none' && (f.kind ?? 'marac') === 'marac') out[arm]![f.period].referrals++;
  }
  // The latest score per victim and period (victim TEST-V-Rnn belongs to TEST-P-Rnn).
  const latest = new Map<string, { at: number; risk: number; arm: string; period: PeriodName }>();
  for (const c of data.contacts) {
    const arm = armOf.get(c.victim.replace('TEST-V-', 'TEST-P-'));
    if (!arm) continue;
    const at = Date.parse(c.at);
    const period: Period = at >= asOfEnd ? 'none' : at < enrolStart ? (at >= preStart ? 'pre' : 'none') : c.victim === RV(3) && at >= exitEnd ? 'post' : 'during';
    if (period === 'none') continue;
    const key = `${c.victim}|${period}`;
    const seen = latest.get(key);
    if (!seen || at > seen.at || (at === seen.at && c.risk > seen.risk)) latest.set(key, { at, risk: c.risk, arm, period });
  }
  for (const { risk, arm, period } of latest.values()) out[arm]![period].risks.push(risk);
  for (const ref of mainRefs) {
    const s = out[armOf.get(ref)!]!;
    s.pre.years += (enrolStart - preStart) / yearMs;
    s.during.years += ((ref === R(3) ? exitEnd : asOfEnd) - enrolStart) / yearMs;
    if (ref === R(3)) s.post.years += (asOfEnd - exitEnd) / yearMs;
  }
  return out;
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

function expectEffectShape(effect: Effect, what: string): void {
  expect(Object.keys(effect).filter((k) => k !== 'note').sort(), what).toEqual(['ci95', 'estimate', 'method', 'n']);
  expect(typeof effect.method, what).toBe('string');
  expect(effect.method.length, what).toBeGreaterThan(0);
  expect(Number.isInteger(effect.n), what).toBe(true);
  if (effect.estimate === null) {
    expect(effect.ci95, what).toBeNull();
    expect(effect.note, what).toMatch(/^not available: /);
  } else {
    expect(Number.isFinite(effect.estimate), what).toBe(true);
    if (effect.ci95 !== null) {
      expect(effect.ci95, what).toHaveLength(2);
      expect(effect.ci95.every(Number.isFinite), what).toBe(true);
      expect(effect.ci95[0], what).toBeLessThanOrEqual(effect.ci95[1]);
    }
  }
}

describe.each(databaseTargets)('the outcome report on $name', (target) => {
  let db: TestDatabase;
  let first: OutcomeReportRun;
  let report: OutcomeReport;
  const armOf = new Map<string, string>();
  let bootstrapSeed: number;

  const auditCounts = async () => ({ reports: await db.prisma.auditEvent.count({ where: { action: 'report.outcomes' } }), all: await db.prisma.auditEvent.count() });

  beforeAll(async () => {
    db = await target.create();
    await build(db, false);
    const allocations = await db.prisma.trialAllocation.findMany({ where: { trial: { name: mainTrial } }, include: { nominal: true } });
    for (const a of allocations) armOf.set(a.nominal.ref, a.arm);
    bootstrapSeed = (await db.prisma.trial.findUniqueOrThrow({ where: { name: mainTrial } })).bootstrapSeed;
  }, 300_000);

  afterAll(async () => {
    await db?.destroy();
  });

  it('enrolled the eight TEST-P-R perpetrators in the main trial, at least two in each arm (the premise of what follows)', () => {
    expect([...armOf.keys()].sort()).toEqual(mainRefs);
    const counts = [...armOf.values()].reduce<Record<string, number>>((acc, arm) => ({ ...acc, [arm]: (acc[arm] ?? 0) + 1 }), {});
    expect(counts.treatment).toBeGreaterThanOrEqual(2);
    expect(counts.control).toBeGreaterThanOrEqual(2);
  });

  it('returns the documented shape: trial, asOf, arms, consort, and each measure per arm and period with its effect', async () => {
    const before = await auditCounts();
    first = await outcomeReport(db, settings, request());
    report = first.report;
    expect(await auditCounts()).toEqual({ reports: before.reports + 1, all: before.all + 1 });

    expect(Object.keys(report).sort()).toEqual(['arms', 'asOf', 'charts', 'consort', 'measures', 'method', 'timeZone', 'trial']);
    expect(report.trial).toEqual({ name: mainTrial, arms: [{ name: 'treatment', ratio: 1 }, { name: 'control', ratio: 1 }], strata: [], seed: 4242, bootstrapSeed });
    expect(report.asOf).toBe(asOf);
    expect(report.timeZone).toBe(timeZone);
    expect(report.arms.map((a) => a.name)).toEqual(['treatment', 'control']);
    expect(Object.keys(report.measures).sort()).toEqual(['incidents', 'offending', 'referrals', 'severity', 'victimRisk']);
    for (const [name, measure] of Object.entries(report.measures)) {
      expect(typeof measure.definition, name).toBe('string');
      expect(Object.keys(measure.byArm), name).toEqual(['treatment', 'control']);
      for (const arm of ['treatment', 'control']) {
        expect(Object.keys(measure.byArm[arm]!), `${name} ${arm}`).toEqual(['pre', 'during', 'post']);
        for (const period of periods) {
          const cell = measure.byArm[arm]![period] as unknown as Record<string, unknown>;
          const keys = name === 'victimRisk' ? ['events', 'mean', 'personYears', 'rate', 'victims'] : ['events', 'personYears', 'rate'];
          expect(Object.keys(cell).sort(), `${name} ${arm} ${period}`).toEqual(keys);
          expect(typeof cell.events).toBe('number');
          expect(typeof cell.personYears).toBe('number');
          expect(cell.rate === null || typeof cell.rate === 'number').toBe(true);
        }
      }
      expectEffectShape(measure.effect, name);
      // Two arms: no further comparisons.
      expect(measure.effects, name).toBeUndefined();
    }
    expect(report.method.bootstrap).toMatchObject({ resamples: 2000, seed: bootstrapSeed });
    expect(Object.keys(report.charts.cumulative)).toEqual(['treatment', 'control']);
    expect(report.charts.powerFew.length).toBeGreaterThan(0);
  });

  it('counts each hand-placed event in its period for the perpetrators at the boundaries', () => {
    const rows = new Map(first.participants.map((p) => [p.perpetrator_ref, p]));
    expect(first.participants.map((p) => p.perpetrator_ref)).toEqual(mainRefs);
    const counts = (ref: string) => {
      const { perpetrator_ref: _ref, arm, ...rest } = rows.get(ref)!;
      expect(arm).toBe(armOf.get(ref));
      return rest;
    };
    // R01: four incidents during, one of them at the enrolment day's very first instant.
    expect(counts(R(1))).toEqual({ enrolled_on: enrolDay, exited_on: '', exit_reason: '', incidents_pre: 2, incidents_during: 4, incidents_post: 0, crimes_pre: 2, crimes_during: 3, crimes_post: 0 });
    // R02: the crime a millisecond before the enrolment day is 'pre'.
    expect(counts(R(2))).toEqual({ enrolled_on: enrolDay, exited_on: '', exit_reason: '', incidents_pre: 4, incidents_during: 2, incidents_post: 0, crimes_pre: 3, crimes_during: 2, crimes_post: 0 });
    // R03 exited on 30 September: its last millisecond is 'during', what follows 'post'.
    expect(counts(R(3))).toEqual({ enrolled_on: enrolDay, exited_on: exitDay, exit_reason: 'moved', incidents_pre: 2, incidents_during: 4, incidents_post: 2, crimes_pre: 2, crimes_during: 3, crimes_post: 1 });
    // R04: the pre period starts exactly 12 months before; a millisecond earlier counts nowhere.
    expect(counts(R(4))).toEqual({ enrolled_on: enrolDay, exited_on: '', exit_reason: '', incidents_pre: 4, incidents_during: 1, incidents_post: 0, crimes_pre: 3, crimes_during: 1, crimes_post: 0 });
    // R05: the report's day's last millisecond counts; midnight after it does not.
    expect(counts(R(5))).toEqual({ enrolled_on: enrolDay, exited_on: '', exit_reason: '', incidents_pre: 2, incidents_during: 3, incidents_post: 0, crimes_pre: 2, crimes_during: 2, crimes_post: 0 });
    // R06 exits after the report's day: not an exit yet.
    expect(counts(R(6))).toEqual({ enrolled_on: enrolDay, exited_on: '', exit_reason: '', incidents_pre: 3, incidents_during: 2, incidents_post: 0, crimes_pre: 2, crimes_during: 2, crimes_post: 0 });
  });

  it('sums events, harm, referrals, person-years and victim scores per arm and period as the table says', () => {
    const expected = expectedSums(armOf);
    for (const arm of ['treatment', 'control']) {
      for (const period of periods) {
        const s = expected[arm]![period];
        const where = `${arm} ${period}`;
        for (const measure of rateMeasures) {
          const cell = report.measures[measure].byArm[arm]![period];
          expect(cell.events, `${measure} ${where}`).toBe(s[measure]);
          expect(cell.personYears, `${measure} ${where}`).toBeCloseTo(s.years, 6);
          if (s.years === 0) expect(cell.rate, `${measure} ${where}`).toBeNull();
          else expect(cell.rate!, `${measure} ${where}`).toBeCloseTo(s[measure] / s.years, 5);
        }
        const risk = report.measures.victimRisk.byArm[arm]![period];
        expect([risk.events, risk.victims], `risk ${where}`).toEqual([s.risks.length, s.risks.length]);
        const m = mean(s.risks);
        if (m === null) expect([risk.mean, risk.rate], `risk ${where}`).toEqual([null, null]);
        else {
          expect(risk.mean!, `risk ${where}`).toBeCloseTo(m, 6);
          expect(risk.rate, `risk ${where}`).toBe(risk.mean);
        }
      }
      const row = report.arms.find((a) => a.name === arm)!;
      expect(row.n).toBe([...armOf.values()].filter((a) => a === arm).length);
      expect(row.exited).toBe(armOf.get(R(3)) === arm ? 1 : 0);
      for (const period of periods) expect(row.personYears[period], `${arm} ${period} person-years`).toBeCloseTo(expected[arm]![period].years, 6);
    }
    // Only R03 has post time: its 62 days and an hour (the clocks went back on 26 October).
    expect(report.arms.find((a) => a.name === armOf.get(R(3)))!.personYears.post).toBeCloseTo((62 * 24 + 1) / (365.25 * 24), 6);
  });

  it('estimates each effect as the ratio of the arms\u2019 rate ratios (and the difference in mean change for risk), from the same sums', () => {
    const e = expectedSums(armOf);
    for (const measure of rateMeasures) {
      const effect = report.measures[measure].effect;
      const [tPre, tDuring, cPre, cDuring] = [e.treatment!.pre[measure], e.treatment!.during[measure], e.control!.pre[measure], e.control!.during[measure]];
      expect(effect.n, measure).toBe(8);
      if ([tPre, tDuring, cPre, cDuring].some((v) => v === 0)) {
        expect([effect.estimate, effect.ci95], measure).toEqual([null, null]);
        expect(effect.note, measure).toMatch(/^not available: .*no MARAC referrals/);
        continue;
      }
      const rate = (arm: 'treatment' | 'control', period: 'pre' | 'during') => e[arm]![period][measure] / e[arm]![period].years;
      const expected = rate('treatment', 'during') / rate('treatment', 'pre') / (rate('control', 'during') / rate('control', 'pre'));
      expect(effect.estimate!, measure).toBeCloseTo(expected, 5);
      expect(effect.ci95, measure).not.toBeNull();
    }
    // Every perpetrator has crimes before and during: the offending effect and its interval exist.
    expect(report.measures.offending.effect.estimate).not.toBeNull();
    expect(report.measures.offending.effect.ci95).toHaveLength(2);
    const m = (arm: string, period: PeriodName) => mean(e[arm]![period].risks)!;
    const risk = report.measures.victimRisk.effect;
    expect(risk.estimate!).toBeCloseTo(m('treatment', 'during') - m('treatment', 'pre') - (m('control', 'during') - m('control', 'pre')), 5);
  });

  it('counts the CONSORT flow: 17 scored, 16 eligible (one already in a trial), 8 not among the highest, 8 randomised, one exit by the report\u2019s day', () => {
    const treated = [...armOf.values()].filter((a) => a === 'treatment').length;
    const exitArm = armOf.get(R(3))!;
    const otherArm = exitArm === 'treatment' ? 'control' : 'treatment';
    expect(report.consort).toEqual({
      scored: 17,
      eligible: 16,
      excluded: { total: 8, byReason: { 'not among the highest scores enrolled': 8 } },
      randomised: 8,
      allocated: { treatment: treated, control: 8 - treated },
      exited: { [exitArm]: { total: 1, byReason: { moved: 1 } }, [otherArm]: { total: 0, byReason: {} } },
      analysed: { treatment: treated, control: 8 - treated },
    });
  });

  it('gives byte-identical report.json for the same inputs, run after run', async () => {
    const again = await outcomeReport(db, settings, request({ reason: 'TEST the same again' }));
    expect(reportJson(again.report)).toBe(reportJson(report));
    expect(again.participants).toEqual(first.participants);
  });

  it('gives byte-identical report.json from a second store filled in the opposite order (with the same recorded bootstrap seed)', async () => {
    const other = await target.create();
    try {
      await build(other, true);
      // The bootstrap seed is drawn when a trial is created: the second store records the first one's.
      await other.prisma.trial.update({ where: { name: mainTrial }, data: { bootstrapSeed } });
      // The stores really differ in their ids: the same person has another id in each.
      const idIn = async (store: Database, ref: string) => (await store.prisma.nominal.findUniqueOrThrow({ where: { ref } })).id;
      expect(await idIn(other, R(1))).not.toBe(await idIn(db, R(1)));
      const run = await outcomeReport(other, settings, request());
      expect(reportJson(run.report)).toBe(reportJson(report));
      expect(run.participants).toEqual(first.participants);
    } finally {
      await other.destroy();
    }
  }, 300_000);

  it('audits every run with the reason, the actor, the channel and the trial', async () => {
    const before = await auditCounts();
    await outcomeReport(db, settings, request({ reason: '  TEST audit check  ', actor: 'slack:U0TESTCHAIR', channel: 'slack:C0TESTDMM' }));
    expect(await auditCounts()).toEqual({ reports: before.reports + 1, all: before.all + 1 });
    const event = await db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'report.outcomes' }, orderBy: { id: 'desc' } });
    expect([event.actor, event.subject, event.channel, event.reason]).toEqual(['slack:U0TESTCHAIR', mainTrial, 'slack:C0TESTDMM', 'TEST audit check']);
    expect(event.details).toEqual({ asOf, resamples: 2000, participants: 8 });
    const runs = await db.prisma.auditEvent.findMany({ where: { action: 'report.outcomes' }, orderBy: { id: 'asc' } });
    expect(runs.map((r) => r.reason)).toEqual(['TEST quarterly analysis', 'TEST the same again', 'TEST audit check']);
  });

  it('refuses, auditing nothing: an unknown trial, a day before the first enrolment, an empty arm, no enrolment, no reason, too few resamples, a day that is not a date', async () => {
    const before = await auditCounts();
    const cases: Array<[Partial<ReportRequest>, RegExp]> = [
      [{ trial: 'nosuch' }, /^there is no trial "nosuch"; trials: /],
      [{ asOf: '2025-06-01' }, /^--as-of 2025-06-01 is before the trial's first enrolment \(2025-06-02\)/],
      [{ trial: oneArmTrial }, new RegExp(`^arm (treatment|control) of ${oneArmTrial} has nobody in it by ${asOf}`)],
      [{ trial: emptyTrial }, new RegExp(`^trial ${emptyTrial} has enrolled nobody yet`)],
      [{ reason: '' }, /^--reason must say why/],
      [{ reason: '   ' }, /^--reason must say why/],
      [{ resamples: 100 }, /^--resamples must be a whole number of at least 2000/],
      [{ resamples: 2000.5 }, /^--resamples must be a whole number of at least 2000/],
      [{ asOf: '2025-13-01' }, /^--as-of must be a date as YYYY-MM-DD/],
    ];
    for (const [overrides, message] of cases) {
      const refusal = await refusalOf(outcomeReport(db, settings, request(overrides)));
      expect(refusal.message, JSON.stringify(overrides)).toMatch(message);
    }
    expect(await auditCounts()).toEqual(before);
  });

  it('reports on the enrolment day itself, with a day of follow-up', async () => {
    const run = await outcomeReport(db, settings, request({ asOf: enrolDay, reason: 'TEST enrolment day' }));
    for (const row of run.report.arms) expect(row.personYears.during).toBeCloseTo((24 * row.n) / (365.25 * 24), 6);
    // R01's incident at the day's first instant is its only one so far.
    expect(run.participants.find((p) => p.perpetrator_ref === R(1))).toMatchObject({ incidents_during: 1, crimes_during: 1 });
  });

  it('counts people, not enrolments, in the CONSORT flow of a trial enrolled in two phases: all 8 eligible were randomised, none left out', async () => {
    const allocations = await db.prisma.trialAllocation.findMany({ where: { trial: { name: twoPhaseTrial } }, include: { nominal: true } });
    expect(allocations.map((a) => a.nominal.ref).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map(M));
    for (const arm of ['treatment', 'control']) expect(allocations.filter((a) => a.arm === arm).length, arm).toBeGreaterThanOrEqual(1);
    // 25 perpetrators have incidents (S01, eight R, eight N, eight M); both enrolments scored the same 25.
    expect(await db.prisma.nominal.count({ where: { incidentsAsPerpetrator: { some: {} } } })).toBe(25);
    const run = await outcomeReport(db, settings, request({ trial: twoPhaseTrial, reason: 'TEST two phases' }));
    const c = run.report.consort;
    expect(c.randomised).toBe(8);
    // Every eligible perpetrator not already in a trial was enrolled, in one phase or the other.
    expect({ scored: c.scored, eligible: c.eligible, excluded: c.excluded }).toEqual({ scored: 25, eligible: 8, excluded: { total: 0, byReason: {} } });
  });

  it('withholds the offending effect of a trial whose control arm had no crimes before enrolment, saying why', async () => {
    const allocations = await db.prisma.trialAllocation.findMany({ where: { trial: { name: noCrimeTrial } }, include: { nominal: true } });
    expect(allocations.map((a) => a.nominal.ref).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map(N));
    for (const arm of ['treatment', 'control']) expect(allocations.filter((a) => a.arm === arm).length, arm).toBeGreaterThanOrEqual(2);
    const run = await outcomeReport(db, settings, request({ trial: noCrimeTrial, reason: 'TEST no crimes before' }));
    const offending = run.report.measures.offending;
    expect(offending.byArm.control!.pre.events).toBe(0);
    expect(offending.effect.estimate).toBeNull();
    expect(offending.effect.ci95).toBeNull();
    expect(offending.effect.note).toMatch(/^not available: /);
    expect(offending.effect.note).toContain('the control arm has no crimes before enrolment');
    // Incidents of any kind there were, in both periods: that effect is estimated.
    const incidents = run.report.measures.incidents.effect;
    expect(incidents.estimate).not.toBeNull();
    expect(incidents.ci95).toHaveLength(2);
    expect(incidents.note).toBeUndefined();
  });
});
