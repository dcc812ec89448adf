// Trials on each database: creating one (and what a bad request leaves behind: nothing), enrolling the
// top-ranked eligible perpetrators once per phase, randomised reproducibly whatever the store's ids and
// row order, only treatment visibly flagged; exclusions and exits; the allocations listing; the
// verification that names a tampered allocation; and the baseline balance worked out by hand.
// All records are synthetic and obviously fictional (TEST-P-…, TEST-V-…, TEST-INC-…).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTrial, openPhase, type NewTrial } from '../../src/app/create-trial.js';
import { enrolTrial, type EnrolOutcome } from '../../src/app/enrol-trial.js';
import { excludeFromTrial, exitFromTrial } from '../../src/app/leave-trial.js';
import { scoreAsOf } from '../../src/app/score-perpetrators.js';
import { TrialRefusal } from '../../src/app/trial-errors.js';
import { trialAllocations, trialBalance, verifyTrial } from '../../src/app/trial-records.js';
import { defaultLeverConfig, scriptVersionOf } from '../../src/domain/levers.js';
import { allocate, MAX_SEED } from '../../src/domain/randomisation.js';
import { incidentRecordSchema, type IncidentRecord } from '../../src/domain/records.js';
import { defaultScoringConfig, scoringConfigHash } from '../../src/domain/scoring.js';
import { treatedPerpetrators } from '../../src/store/levers-repository.js';
import { upsertIncidents } from '../../src/store/records-repository.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { baseTrialIncidents, eligibleInOrder, expectedScores, trialIncident } from '../support/trial-data.js';

const timeZone = 'Europe/London';
const actor = 'cli:test-lead';
const scoring = { config: defaultScoringConfig, hash: scoringConfigHash(defaultScoringConfig), source: 'test' };
/** Monday 9 March 2026: after every base incident. */
const asOf = '2026-03-09';
const baseRecords: IncidentRecord[] = baseTrialIncidents.map((row) => incidentRecordSchema.parse(row));

function trialRequest(overrides: Partial<NewTrial> = {}): NewTrial {
  return { name: 'test-trial', arms: 'treatment,control', seed: '20260309', from: asOf, levers: defaultLeverConfig, ...overrides };
}

/** The refusal a call ends in (failing the test if it resolves or throws something else). */
async function refusalOf(call: Promise<unknown>): Promise<TrialRefusal> {
  let outcome: unknown;
  try {
    outcome = await call;
  } catch (error) {
    expect(error).toBeInstanceOf(TrialRefusal);
    return error as TrialRefusal;
  }
  throw new Error(`expected a TrialRefusal, got ${JSON.stringify(outcome)}`);
}

async function rowCounts(db: TestDatabase) {
  const [row] = await db.prisma.$queryRaw<Record<string, number>[]>`
    SELECT (SELECT count(*) FROM trial)::int AS trial, (SELECT count(*) FROM trial_phase)::int AS trial_phase,
           (SELECT count(*) FROM audit_event)::int AS audit_event, (SELECT count(*) FROM lever_script)::int AS lever_script,
           (SELECT count(*) FROM trial_enrolment)::int AS trial_enrolment, (SELECT count(*) FROM trial_allocation)::int AS trial_allocation,
           (SELECT count(*) FROM trial_exclusion)::int AS trial_exclusion, (SELECT count(*) FROM flag)::int AS flag,
           (SELECT count(*) FROM action)::int AS action, (SELECT count(*) FROM lever_delivery)::int AS lever_delivery`;
  return row!;
}

/** Everything a trial writes, gone; the incidents and people stay. */
async function resetTrials(db: TestDatabase): Promise<void> {
  await db.prisma.leverDelivery.deleteMany();
  await db.prisma.trialAllocation.deleteMany();
  await db.prisma.trialEnrolment.deleteMany();
  await db.prisma.trialExclusion.deleteMany();
  await db.prisma.trialPhase.deleteMany();
  await db.prisma.trial.deleteMany();
  await db.prisma.leverScript.deleteMany();
  await db.prisma.flag.deleteMany();
  await db.prisma.auditEvent.deleteMany();
}

async function allocationsOf(db: TestDatabase, trialName: string) {
  const rows = await db.prisma.trialAllocation.findMany({ where: { trial: { name: trialName } }, include: { nominal: true } });
  return rows.sort((a, b) => (a.nominal.ref < b.nominal.ref ? -1 : 1));
}

const enrolled = (outcome: EnrolOutcome) => {
  if (outcome.kind !== 'enrolled') throw new Error(`expected an enrolment, got ${JSON.stringify(outcome)}`);
  return outcome;
};

describe.each(databaseTargets)('trials on $name', (target) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await target.create();
    await db.prisma.$transaction((tx) => upsertIncidents(tx, baseRecords, db.labelKey));
  });
  afterAll(() => db.destroy());
  beforeEach(() => resetTrials(db));

  describe('createTrial', () => {
    it('records the arms with their ratio, strata, seed, levers and phase 1, and audits it', async () => {
      const trial = await createTrial(db, trialRequest({ name: 'test-create', ratio: '2:1', strata: 'area,score-band', seed: '4242' }), actor);
      expect(trial.arms).toEqual([{ name: 'treatment', ratio: 2 }, { name: 'control', ratio: 1 }]);
      const stored = await db.prisma.trial.findUniqueOrThrow({ where: { name: 'test-create' }, include: { phases: true } });
      expect(stored).toMatchObject({ arms: [{ name: 'treatment', ratio: 2 }, { name: 'control', ratio: 1 }], strata: ['area', 'score-band'], seed: 4242, createdBy: actor });
      expect(stored.levers).toEqual(JSON.parse(JSON.stringify(defaultLeverConfig)));
      expect(stored.phases.map((p) => ({ number: p.number, startsOn: p.startsOn.toISOString().slice(0, 10) }))).toEqual([{ number: 1, startsOn: asOf }]);
      // Each tier's first script, versioned by the hash of its words.
      const scripts = await db.prisma.leverScript.findMany({ orderBy: { tier: 'asc' } });
      expect(scripts.map((s) => [s.tier, s.version])).toEqual(
        ['A', 'B', 'C', 'D'].map((tier) => [tier, scriptVersionOf(defaultLeverConfig.tiers.find((t) => t.tier === tier)!.script)]),
      );
      const audit = await db.prisma.auditEvent.findMany({ where: { action: 'trial.create' } });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor, subject: 'test-create', details: { arms: 'treatment:2,control:1', strata: 'area,score-band', seed: 4242 } });
      // An equal-shares trial without a ratio.
      const even = await createTrial(db, trialRequest({ name: 'test-even', seed: '1' }), actor);
      expect(even.arms).toEqual([{ name: 'treatment', ratio: 1 }, { name: 'control', ratio: 1 }]);
      expect(even.strata).toEqual([]);
      // The same scripts again add no versions.
      expect(await db.prisma.leverScript.count()).toBe(4);
    });

    it('draws and records a seed when none is given', async () => {
      const { seed: _omit, ...noSeed } = trialRequest();
      const a = await createTrial(db, { ...noSeed, name: 'test-drawn-a' }, actor);
      const b = await createTrial(db, { ...noSeed, name: 'test-drawn-b' }, actor);
      for (const trial of [a, b]) {
        expect(Number.isSafeInteger(trial.seed)).toBe(true);
        expect(trial.seed).toBeGreaterThanOrEqual(0);
        expect(trial.seed).toBeLessThanOrEqual(MAX_SEED);
        expect((await db.prisma.trial.findUniqueOrThrow({ where: { name: trial.name } })).seed).toBe(trial.seed);
      }
      // Two draws of 31 bits agreeing would be a 1-in-2-billion chance: a fixed "drawn" seed would not.
      expect(a.seed).not.toBe(b.seed);
      const audited = await db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'trial.create', subject: 'test-drawn-a' } });
      expect((audited.details as { seed: number }).seed).toBe(a.seed);
    });

    it.each([
      ['a zero share', { ratio: '2:0' }, /ratio "2:0": every arm needs a share of at least 1/],
      ['a fractional seed', { seed: '1.5' }, /seed "1\.5" is not an integer between 0 and 2147483647/],
      ['no control arm', { arms: 'treatment,waitlist' }, /one arm must be named "control"/],
      ['one arm', { arms: 'control' }, /--arms needs two or more arms/],
      ['a duplicate arm name', { arms: 'treatment,treatment,control' }, /arm "treatment" is listed twice/],
      ['an unknown stratum', { strata: 'area,postcode' }, /stratum "postcode" is not one of area, score-band/],
      ['a ratio with too few shares', { ratio: '1:1:1' }, /has 3 share\(s\) but the trial has 2 arms/],
      ['a bad trial name', { name: 'test trial!' }, /trial name "test trial!" must be/],
    ] as const)('refuses %s and writes nothing', async (_what, overrides, message) => {
      const before = await rowCounts(db);
      const refusal = await refusalOf(createTrial(db, trialRequest(overrides), actor));
      expect(refusal.message).toMatch(message);
      expect(await rowCounts(db)).toEqual(before);
    });

    it('refuses a second trial of the same name and writes nothing more', async () => {
      await createTrial(db, trialRequest(), actor);
      const before = await rowCounts(db);
      const refusal = await refusalOf(createTrial(db, trialRequest({ arms: 'treatment,control', seed: '7' }), actor));
      expect(refusal.message).toBe('a trial named "test-trial" already exists');
      expect(await rowCounts(db)).toEqual(before);
    });
  });

  describe('enrolTrial', () => {
    it('enrols the top N eligible by score, balanced within blocks, with only treatment flagged and every allocation audited', async () => {
      const trial = await createTrial(db, trialRequest(), actor);
      const outcome = enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 6 }, actor));
      expect(outcome).toMatchObject({ trial: 'test-trial', phase: 1, asOf, requested: 6, eligible: 12, enrolled: 6 });
      expect(outcome.byArm.treatment! + outcome.byArm.control!).toBe(6);

      // The set is the top six of scoreAsOf's eligible ranking, and the support data agrees.
      const scored = await scoreAsOf(db, scoring, asOf, timeZone);
      const top = scored.ranking.filter((s) => s.eligible).slice(0, 6);
      expect(top.map((s) => s.ref)).toEqual(eligibleInOrder.slice(0, 6));
      const rows = await allocationsOf(db, 'test-trial');
      expect(rows.map((r) => r.nominal.ref).sort()).toEqual(top.map((s) => s.ref).sort());
      // Each allocation keeps the score it was enrolled with, the day and the phase.
      for (const r of rows) {
        expect(r.score).toBe(expectedScores[r.nominal.ref]![0]);
        expect(r).toMatchObject({ phase: 1, trialId: trial.id, stratum: 'all', exitedOn: null, exitReason: null });
        expect(r.enrolledOn.toISOString().slice(0, 10)).toBe(asOf);
      }
      expect(Object.fromEntries(['treatment', 'control'].map((arm) => [arm, rows.filter((r) => r.arm === arm).length]))).toEqual(outcome.byArm);

      // Permuted blocks of 2, 4 or 6 with equal shares: a full block is half and half, a part block never more than half of one arm.
      const blocks = new Map<string, typeof rows>();
      for (const r of rows) blocks.set(`${r.stratum}#${r.block}`, [...(blocks.get(`${r.stratum}#${r.block}`) ?? []), r]);
      for (const members of blocks.values()) {
        const size = members[0]!.blockSize;
        expect([2, 4, 6]).toContain(size);
        expect(members.every((m) => m.blockSize === size)).toBe(true);
        expect(members.map((m) => m.position).sort((a, b) => a - b)).toEqual(members.map((_, i) => i + 1));
        const treated = members.filter((m) => m.arm === 'treatment').length;
        const control = members.filter((m) => m.arm === 'control').length;
        expect(treated + control).toBe(members.length);
        if (members.length === size) expect([treated, control]).toEqual([size / 2, size / 2]);
        else expect(Math.max(treated, control)).toBeLessThanOrEqual(size / 2);
      }
      // And exactly what the recorded seed gives.
      const recomputed = allocate({ seed: 20260309, phase: 1, arms: trial.arms, candidates: rows.map((r) => ({ ref: r.nominal.ref, stratum: 'all' })) });
      expect(rows.map((r) => ({ ref: r.nominal.ref, arm: r.arm, stratum: r.stratum, block: r.block, blockSize: r.blockSize, position: r.position }))).toEqual(recomputed);

      // Cohort flags: exactly the treatment members, from the as-of day, open-ended.
      const treatment = rows.filter((r) => r.arm === 'treatment');
      const control = rows.filter((r) => r.arm === 'control');
      expect(treatment.length).toBeGreaterThan(0);
      expect(control.length).toBeGreaterThan(0);
      const flags = await db.prisma.flag.findMany();
      expect(flags.map((f) => f.perpetratorId).sort()).toEqual(treatment.map((r) => r.nominalId).sort());
      for (const f of flags) {
        expect(f).toMatchObject({ kind: 'cohort', note: 'trial test-trial', endsOn: null, setBy: actor });
        expect(f.startsOn.toISOString().slice(0, 10)).toBe(asOf);
      }
      // Control: nothing anywhere but the allocation itself.
      const controlIds = control.map((r) => r.nominalId);
      expect(await db.prisma.flag.count({ where: { perpetratorId: { in: controlIds } } })).toBe(0);
      expect(await db.prisma.action.count({ where: { nominalId: { in: controlIds } } })).toBe(0);
      expect(await db.prisma.leverDelivery.count({ where: { nominalId: { in: controlIds } } })).toBe(0);
      expect(await db.prisma.trialExclusion.count({ where: { nominalId: { in: controlIds } } })).toBe(0);
      expect(await db.prisma.trialAllocation.count({ where: { nominalId: { in: controlIds } } })).toBe(control.length);

      // Audit: one enrolment event and one allocation event per person, each with the stored arm.
      const enrol = await db.prisma.auditEvent.findMany({ where: { action: 'trial.enrol' } });
      expect(enrol).toHaveLength(1);
      expect(enrol[0]).toMatchObject({ subject: 'test-trial', actor, details: { phase: 1, asOf, top: 6, eligible: 12, enrolled: 6, scoringHash: scoring.hash, seed: 20260309 } });
      const allocate_ = await db.prisma.auditEvent.findMany({ where: { action: 'trial.allocate' } });
      expect(allocate_).toHaveLength(6);
      expect(allocate_.map((e) => e.subject).sort()).toEqual(rows.map((r) => r.nominal.label).sort());
      for (const e of allocate_) {
        const row = rows.find((r) => r.nominal.label === e.subject)!;
        expect(e.details).toMatchObject({ trial: 'test-trial', phase: 1, arm: row.arm, stratum: 'all', block: row.block, position: row.position });
      }
      // The enrolment records the whole eligible ranking and the scoring it used.
      const enrolment = await db.prisma.trialEnrolment.findFirstOrThrow();
      expect(enrolment).toMatchObject({ phase: 1, top: 6, seed: 20260309, scoringHash: scoring.hash });
      expect((enrolment.eligible as Array<{ ref: string; rank: number; stratum?: string }>).map((c) => [c.rank, c.ref, c.stratum ?? null])).toEqual(
        eligibleInOrder.map((ref, i) => [i + 1, ref, i < 6 ? 'all' : null]),
      );
    });

    it('records area and score-band strata as strings from the latest incident and the median score', async () => {
      await createTrial(db, trialRequest({ strata: 'area,score-band' }), actor);
      enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 6 }, actor));
      // Scores 60 55 53 40 28 28: the median is 46.5, so the upper band is P-001, P-002 and P-004.
      const rows = await allocationsOf(db, 'test-trial');
      expect(Object.fromEntries(rows.map((r) => [r.nominal.ref, r.stratum]))).toEqual({
        'TEST-P-001': 'area=Test Area North|score=upper',
        'TEST-P-002': 'area=Test Area South|score=upper',
        'TEST-P-003': 'area=Test Area North|score=lower',
        'TEST-P-004': 'area=Test Area North|score=upper',
        'TEST-P-009': 'area=Test Area South|score=lower',
        'TEST-P-010': 'area=Test Area North|score=lower',
      });
      // Blocks are numbered within each stratum.
      for (const stratum of new Set(rows.map((r) => r.stratum))) {
        expect(Math.min(...rows.filter((r) => r.stratum === stratum).map((r) => r.block))).toBe(1);
      }
      const audited = await db.prisma.auditEvent.findMany({ where: { action: 'trial.allocate' } });
      expect(audited.map((e) => (e.details as { stratum: string }).stratum).sort()).toEqual(rows.map((r) => r.stratum).sort());
    });

    it('does the same enrolment once: again is unchanged and writes nothing; another --top needs a new phase', async () => {
      await createTrial(db, trialRequest(), actor);
      const request = { trial: 'test-trial', asOf, top: 6 };
      enrolled(await enrolTrial(db, scoring, timeZone, request, actor));
      const before = await rowCounts(db);
      const beforeRows = await allocationsOf(db, 'test-trial');

      expect(await enrolTrial(db, scoring, timeZone, request, actor)).toEqual({ kind: 'unchanged', trial: 'test-trial', phase: 1, asOf, enrolled: 6 });
      expect(await rowCounts(db)).toEqual(before);

      const differentTop = await refusalOf(enrolTrial(db, scoring, timeZone, { ...request, top: 8 }, actor));
      expect(differentTop.message).toMatch(/phase 1 of test-trial was enrolled as of 2026-03-09 with --top 6; allocations are never redone/);
      expect(differentTop.message).toMatch(/open a new phase: dmm trial phase test-trial 2 --from <YYYY-MM-DD>/);
      const differentDay = await refusalOf(enrolTrial(db, scoring, timeZone, { ...request, asOf: '2026-03-10' }, actor));
      expect(differentDay.message).toMatch(/open a new phase/);
      expect(await rowCounts(db)).toEqual(before);
      expect(await allocationsOf(db, 'test-trial')).toEqual(beforeRows);
    });

    it('enrols a new phase with only people not yet allocated', async () => {
      await createTrial(db, trialRequest(), actor);
      enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 6 }, actor));
      expect((await refusalOf(openPhase(db, 'test-trial', 3, '2026-03-10', actor))).message).toMatch(/the next phase is 2, not 3/);
      expect((await refusalOf(openPhase(db, 'test-trial', 2, '2026-03-08', actor))).message).toMatch(/cannot start before phase 1 \(2026-03-09\)/);
      await openPhase(db, 'test-trial', 2, '2026-03-10', actor);
      // Phase 2 cannot look back before phase 1's enrolment.
      expect((await refusalOf(enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf: '2026-03-08', top: 4 }, actor))).message).toMatch(
        /phase 2 cannot be enrolled as of a day before phase 1's \(2026-03-09\)/,
      );
      const second = enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf: '2026-03-10', top: 4 }, actor));
      // The eligible pool of phase 2 leaves out phase 1's six.
      expect(second).toMatchObject({ phase: 2, requested: 4, eligible: 6, enrolled: 4 });
      const rows = await allocationsOf(db, 'test-trial');
      expect(rows).toHaveLength(10);
      expect(rows.filter((r) => r.phase === 2).map((r) => r.nominal.ref).sort()).toEqual(eligibleInOrder.slice(6, 10).sort());
      for (const r of rows.filter((r) => r.phase === 2)) expect(r.enrolledOn.toISOString().slice(0, 10)).toBe('2026-03-10');
      expect(await db.prisma.trialEnrolment.count()).toBe(2);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.allocate' } })).toBe(10);
      // Phase 1's allocations are untouched and the whole trial still verifies.
      expect((await verifyTrial(db, 'test-trial', actor)).ok).toBe(true);
    });

    it('takes everyone eligible when --top asks for more, and refuses when nobody is left', async () => {
      await createTrial(db, trialRequest(), actor);
      const outcome = enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 50 }, actor));
      expect(outcome).toMatchObject({ requested: 50, eligible: 12, enrolled: 12 });
      expect(outcome.enrolled).toBeLessThan(outcome.requested);
      expect((await allocationsOf(db, 'test-trial')).map((r) => r.nominal.ref).sort()).toEqual([...eligibleInOrder].sort());
      // Not eligible (one incident, nothing recent, or outside the window): never enrolled.
      const taken = new Set((await allocationsOf(db, 'test-trial')).map((r) => r.nominal.ref));
      for (const ref of ['TEST-P-101', 'TEST-P-102', 'TEST-P-103', 'TEST-P-104']) expect(taken.has(ref)).toBe(false);

      await openPhase(db, 'test-trial', 2, '2026-03-10', actor);
      const before = await rowCounts(db);
      expect((await refusalOf(enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf: '2026-03-10', top: 2 }, actor))).message).toMatch(
        /no perpetrator is eligible as of 2026-03-10/,
      );
      expect(await rowCounts(db)).toEqual(before);
    });

    it('refuses bad requests: a bad day, a bad --top, an unknown trial', async () => {
      await createTrial(db, trialRequest(), actor);
      const before = await rowCounts(db);
      expect((await refusalOf(enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf: '9 March', top: 2 }, actor))).message).toMatch(/--as-of must be a date/);
      expect((await refusalOf(enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 0 }, actor))).message).toMatch(/--top must be a whole number of 1 or more/);
      expect((await refusalOf(enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 1.5 }, actor))).message).toMatch(/--top must be a whole number/);
      expect((await refusalOf(enrolTrial(db, scoring, timeZone, { trial: 'test-missing', asOf, top: 2 }, actor))).message).toBe('there is no trial "test-missing"; trials: test-trial');
      expect(await rowCounts(db)).toEqual(before);
    });

    it('enrols once when two enrolments of the same phase race', async () => {
      await createTrial(db, trialRequest(), actor);
      const request = { trial: 'test-trial', asOf, top: 6 };
      const results = await Promise.allSettled([enrolTrial(db, scoring, timeZone, request, actor), enrolTrial(db, scoring, timeZone, request, actor)]);
      const outcomes = results.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      });
      // One did it; the other found it done (or, if they ran one after the other, found it done too).
      expect(outcomes.map((o) => o.kind).sort()).toEqual(['enrolled', 'unchanged']);
      for (const o of outcomes) expect(o).toMatchObject({ phase: 1, asOf, enrolled: 6 });
      expect(await db.prisma.trialEnrolment.count()).toBe(1);
      expect(await db.prisma.trialAllocation.count()).toBe(6);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.enrol' } })).toBe(1);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.allocate' } })).toBe(6);
      const treated = (await allocationsOf(db, 'test-trial')).filter((r) => r.arm === 'treatment').length;
      expect(await db.prisma.flag.count({ where: { kind: 'cohort' } })).toBe(treated);
      expect((await verifyTrial(db, 'test-trial', actor)).ok).toBe(true);
    });

    it('never puts one person in two trials, even when two trials enrol at once', async () => {
      await createTrial(db, trialRequest({ name: 'test-race-a', seed: '11' }), actor);
      await createTrial(db, trialRequest({ name: 'test-race-b', seed: '22' }), actor);
      const results = await Promise.allSettled([
        enrolTrial(db, scoring, timeZone, { trial: 'test-race-a', asOf, top: 4 }, actor),
        enrolTrial(db, scoring, timeZone, { trial: 'test-race-b', asOf, top: 4 }, actor),
      ]);
      // Whoever lost either was refused (and wrote nothing) or, having seen the winner's allocations, took the next four.
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(TrialRefusal);
      const won = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<EnrolOutcome>).value);
      expect(won.length).toBeGreaterThanOrEqual(1);
      for (const o of won) expect(o.kind).toBe('enrolled');
      const rows = await db.prisma.trialAllocation.findMany({ include: { nominal: true, trial: true } });
      expect(rows).toHaveLength(4 * won.length);
      expect(new Set(rows.map((r) => r.nominalId)).size).toBe(rows.length);
      expect(await db.prisma.trialEnrolment.count()).toBe(won.length);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.enrol' } })).toBe(won.length);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.allocate' } })).toBe(rows.length);
      const treated = rows.filter((r) => r.arm === 'treatment').length;
      expect(await db.prisma.flag.count()).toBe(treated);
      const losers = results.filter((r) => r.status === 'rejected');
      for (const r of losers) expect(((r as PromiseRejectedResult).reason as Error).message).toMatch(/someone else enrolled some of these perpetrators at the same moment; nothing was written/);
      // Afterwards each trial verifies on its own.
      for (const trial of new Set(rows.map((r) => r.trial.name))) expect((await verifyTrial(db, trial, actor)).ok).toBe(true);
    });
  });

  describe('exclusion and exit', () => {
    it('keeps an excluded person out of the next enrolment, and refuses to exclude an enrolled one', async () => {
      await createTrial(db, trialRequest(), actor);
      expect((await refusalOf(excludeFromTrial(db, 'test-trial', 'TEST-P-001', '  ', actor))).message).toMatch(/--reason must say why/);
      expect((await refusalOf(excludeFromTrial(db, 'test-trial', 'TEST-P-999', 'victim-safety concern (test)', actor))).message).toBe(
        'no perpetrator has the reference "TEST-P-999"',
      );
      const excluded = await excludeFromTrial(db, 'test-trial', 'TEST-P-001', 'victim-safety concern (test)', actor);
      expect(excluded.changed).toBe(true);
      expect((await excludeFromTrial(db, 'test-trial', 'TEST-P-001', 'again', actor)).changed).toBe(false);
      expect(await db.prisma.trialExclusion.count()).toBe(1);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.exclude' } })).toBe(1);

      const outcome = enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 6 }, actor));
      expect(outcome.eligible).toBe(11);
      const refs = (await allocationsOf(db, 'test-trial')).map((r) => r.nominal.ref);
      expect(refs).not.toContain('TEST-P-001');
      expect(refs.sort()).toEqual(eligibleInOrder.filter((r) => r !== 'TEST-P-001').slice(0, 6).sort());

      const before = await rowCounts(db);
      expect((await refusalOf(excludeFromTrial(db, 'test-trial', 'TEST-P-002', 'victim-safety concern (test)', actor))).message).toBe(
        'TEST-P-002 is already enrolled in test-trial; an enrolled person leaves by dmm trial exit, never by exclusion',
      );
      expect(await rowCounts(db)).toEqual(before);
    });

    it('exits an enrolled person once: the arm stays, a treatment member’s cohort flag ends on the exit day', async () => {
      await createTrial(db, trialRequest(), actor);
      enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 6 }, actor));
      const rows = await allocationsOf(db, 'test-trial');
      const treated = rows.find((r) => r.arm === 'treatment')!;
      const control = rows.find((r) => r.arm === 'control')!;
      const before = await rowCounts(db);

      expect((await refusalOf(exitFromTrial(db, { trial: 'test-trial', ref: 'TEST-P-011', on: '2026-03-20', reason: 'moved' }, actor))).message).toBe(
        'TEST-P-011 is not enrolled in test-trial; only an enrolled person can exit',
      );
      expect((await refusalOf(exitFromTrial(db, { trial: 'test-trial', ref: treated.nominal.ref, on: '2026-03-20', reason: 'bored' }, actor))).message).toBe(
        '--reason must be one of safety, custody, moved, died, other, not "bored"',
      );
      expect((await refusalOf(exitFromTrial(db, { trial: 'test-trial', ref: treated.nominal.ref, on: '2026-03-08', reason: 'moved' }, actor))).message).toMatch(
        /is before .* was enrolled \(2026-03-09\)/,
      );
      expect(await rowCounts(db)).toEqual(before);

      const message = await exitFromTrial(db, { trial: 'test-trial', ref: treated.nominal.ref, on: '2026-03-20', reason: 'moved', note: 'test note' }, actor);
      expect(message).toMatch(/stay in their arm/);
      const after = await db.prisma.trialAllocation.findUniqueOrThrow({ where: { id: treated.id } });
      expect(after.exitedOn!.toISOString().slice(0, 10)).toBe('2026-03-20');
      expect(after).toMatchObject({ exitReason: 'moved', exitNote: 'test note', arm: 'treatment', stratum: treated.stratum, block: treated.block, position: treated.position });
      const flag = await db.prisma.flag.findFirstOrThrow({ where: { perpetratorId: treated.nominalId, kind: 'cohort' } });
      expect(flag.endsOn!.toISOString().slice(0, 10)).toBe('2026-03-20');
      // Other treatment members' flags stay open.
      const others = rows.filter((r) => r.arm === 'treatment' && r.id !== treated.id).map((r) => r.nominalId);
      expect(await db.prisma.flag.count({ where: { perpetratorId: { in: others }, endsOn: null } })).toBe(others.length);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.exit', subject: treated.nominal.label } })).toBe(1);

      expect((await refusalOf(exitFromTrial(db, { trial: 'test-trial', ref: treated.nominal.ref, on: '2026-03-25', reason: 'custody' }, actor))).message).toBe(
        `${treated.nominal.ref} already exited test-trial on 2026-03-20 (moved); an exit is not changed`,
      );
      expect((await db.prisma.trialAllocation.findUniqueOrThrow({ where: { id: treated.id } })).exitReason).toBe('moved');

      // A control member exits too, keeping the arm, with no flag written for them.
      await exitFromTrial(db, { trial: 'test-trial', ref: control.nominal.ref, on: '2026-03-21', reason: 'custody' }, actor);
      expect(await db.prisma.trialAllocation.findUniqueOrThrow({ where: { id: control.id } })).toMatchObject({ arm: 'control', exitReason: 'custody' });
      expect(await db.prisma.flag.count({ where: { perpetratorId: control.nominalId } })).toBe(0);
      // Still the same allocation as the seed gives: exits do not upset verification.
      expect((await verifyTrial(db, 'test-trial', actor)).ok).toBe(true);
    });
  });

  describe('records of a trial', () => {
    it('lists the allocations with exactly the documented fields, by phase and reference, and audits the view', async () => {
      await createTrial(db, trialRequest(), actor);
      enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 4 }, actor));
      await openPhase(db, 'test-trial', 2, '2026-03-10', actor);
      enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf: '2026-03-10', top: 2 }, actor));
      const stored = await allocationsOf(db, 'test-trial');
      const exiting = stored.find((r) => r.phase === 1)!;
      await exitFromTrial(db, { trial: 'test-trial', ref: exiting.nominal.ref, on: '2026-03-12', reason: 'safety' }, actor);

      const rows = await trialAllocations(db, 'test-trial', actor, 'test: checking the listing');
      expect(rows).toHaveLength(6);
      for (const row of rows) expect(Object.keys(row).sort()).toEqual(['arm', 'enrolled_on', 'exit_reason', 'exited_on', 'perpetrator_ref', 'phase', 'stratum']);
      const expected = stored
        .map((r) => ({
          perpetrator_ref: r.nominal.ref,
          arm: r.arm,
          phase: r.phase,
          enrolled_on: r.phase === 1 ? asOf : '2026-03-10',
          stratum: 'all',
          exited_on: r.id === exiting.id ? '2026-03-12' : null,
          exit_reason: r.id === exiting.id ? 'safety' : null,
        }))
        .sort((a, b) => a.phase - b.phase || (a.perpetrator_ref < b.perpetrator_ref ? -1 : 1));
      expect(rows).toEqual(expected);
      expect(rows.map((r) => r.phase)).toEqual([1, 1, 1, 1, 2, 2]);
      const viewed = await db.prisma.auditEvent.findMany({ where: { action: 'trial.allocations.view' } });
      expect(viewed).toHaveLength(1);
      expect(viewed[0]).toMatchObject({ subject: 'test-trial', reason: 'test: checking the listing', details: { rows: 6 } });
    });

    it('verifies an untouched trial and names the person whose arm was changed behind its back', async () => {
      await createTrial(db, trialRequest(), actor);
      enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 6 }, actor));
      expect(await verifyTrial(db, 'test-trial', actor)).toEqual({ ok: true, enrolments: 1, allocations: 6, problems: [] });

      const rows = await allocationsOf(db, 'test-trial');
      const victim = rows.find((r) => r.arm === 'control')!;
      const changed = await db.prisma.$executeRawUnsafe(`UPDATE trial_allocation SET arm = 'treatment' WHERE id = ${Number(victim.id)}`);
      expect(changed).toBe(1);
      const verification = await verifyTrial(db, 'test-trial', actor);
      expect(verification.ok).toBe(false);
      expect(verification.problems.length).toBeGreaterThan(0);
      expect(verification.problems.some((p) => p.includes(victim.nominal.ref) && /is in treatment but the recomputed allocation says control/.test(p))).toBe(true);
      // Only that person is named.
      for (const other of rows.filter((r) => r.id !== victim.id)) expect(verification.problems.join('\n')).not.toContain(other.nominal.ref);
      const audits = await db.prisma.auditEvent.findMany({ where: { action: 'trial.verify' }, orderBy: { id: 'asc' } });
      expect(audits.map((a) => (a.details as { ok: boolean }).ok)).toEqual([true, false]);
    });

    it('gives no standardised difference when an arm has fewer than two people', async () => {
      await createTrial(db, trialRequest(), actor);
      enrolled(await enrolTrial(db, scoring, timeZone, { trial: 'test-trial', asOf, top: 2 }, actor));
      const rows = await allocationsOf(db, 'test-trial');
      const balance = await trialBalance(db, 'test-trial', timeZone, actor);
      expect(balance.arms.map((a) => [a.arm, a.count])).toEqual([
        ['treatment', rows.filter((r) => r.arm === 'treatment').length],
        ['control', rows.filter((r) => r.arm === 'control').length],
      ]);
      expect(balance.arms.reduce((n, a) => n + a.count, 0)).toBe(2);
      // Two people: either one in each arm or both in one, so some arm has fewer than two.
      expect(balance.standardisedDifferences).toEqual([{ arm: 'treatment', score: null, incidents: null, gravity: null }]);
      for (const arm of balance.arms) if (arm.count < 2) expect(arm.score.sd).toBeNull();
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.balance' } })).toBe(1);
    });
  });

  it('allocates the same people the same way in two stores filled in a different order (different ids)', async () => {
    const [a, b] = await Promise.all([target.create(), target.create()]);
    try {
      await a.prisma.$transaction((tx) => upsertIncidents(tx, baseRecords, a.labelKey));
      // B: an unrelated person first, then the incidents backwards in three batches.
      const unrelated = incidentRecordSchema.parse(trialIncident('TEST-INC-900', '2021-01-01T10:00:00Z', 'TEST-P-900', 'TEST-V-900', 'assault', true));
      await b.prisma.$transaction((tx) => upsertIncidents(tx, [unrelated], b.labelKey));
      const reversed = [...baseRecords].reverse();
      for (let i = 0; i < reversed.length; i += 11) await b.prisma.$transaction((tx) => upsertIncidents(tx, reversed.slice(i, i + 11), b.labelKey));

      const idsA = new Map((await a.prisma.nominal.findMany()).map((n) => [n.ref, n.id]));
      const idsB = new Map((await b.prisma.nominal.findMany()).map((n) => [n.ref, n.id]));
      expect(eligibleInOrder.filter((ref) => idsA.get(ref) !== idsB.get(ref)).length).toBeGreaterThan(0);

      const byRef = async (store: TestDatabase) => {
        await createTrial(store, trialRequest({ name: 'test-repro', strata: 'area,score-band', seed: '777' }), actor);
        enrolled(await enrolTrial(store, scoring, timeZone, { trial: 'test-repro', asOf, top: 10 }, actor));
        const rows = await allocationsOf(store, 'test-repro');
        const enrolment = await store.prisma.trialEnrolment.findFirstOrThrow();
        return {
          digest: enrolment.allocationDigest,
          rows: rows.map((r) => ({ ref: r.nominal.ref, arm: r.arm, stratum: r.stratum, block: r.block, blockSize: r.blockSize, position: r.position })),
        };
      };
      const [fromA, fromB] = [await byRef(a), await byRef(b)];
      expect(fromA.rows).toHaveLength(10);
      expect(fromB).toEqual(fromA);
      expect(new Set(fromA.rows.map((r) => r.arm))).toEqual(new Set(['treatment', 'control']));
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });

  it('treats an incident on the as-of day as follow-up, never also as baseline', async () => {
    const store = await target.create();
    try {
      const rec = (...args: Parameters<typeof trialIncident>) => incidentRecordSchema.parse(trialIncident(...args));
      await store.prisma.$transaction((tx) =>
        upsertIncidents(
          tx,
          [
            rec('TEST-INC-401A', '2026-02-01T10:00:00Z', 'TEST-P-401', 'TEST-V-401', 'assault', true),
            rec('TEST-INC-401B', '2026-02-02T10:00:00Z', 'TEST-P-401', 'TEST-V-401', 'assault', true),
            // Reported at 10:00 on the as-of day: after the enrolment "as of" that day began.
            rec('TEST-INC-401-ASOF', '2026-03-09T10:00:00Z', 'TEST-P-401', 'TEST-V-401', 'strangulation', true),
            ...['402', '403', '404'].flatMap((n) => [
              rec(`TEST-INC-${n}A`, '2026-02-01T10:00:00Z', `TEST-P-${n}`, `TEST-V-${n}`, 'assault', true),
              rec(`TEST-INC-${n}B`, '2026-02-02T10:00:00Z', `TEST-P-${n}`, `TEST-V-${n}`, 'assault', true),
            ]),
          ],
          store.labelKey,
        ),
      );
      await createTrial(store, trialRequest({ name: 'test-as-of', seed: '4242' }), actor);
      enrolled(await enrolTrial(store, scoring, timeZone, { trial: 'test-as-of', asOf, top: 4 }, actor));
      const p401 = (await allocationsOf(store, 'test-as-of')).find((r) => r.nominal.ref === 'TEST-P-401')!;
      expect(p401.arm).toBe('treatment');
      // The baseline score leaves out the as-of day's strangulation ...
      const scored = await scoreAsOf(store, scoring, asOf, timeZone);
      expect(scored.ranking.find((s) => s.ref === 'TEST-P-401')).toMatchObject({ incidents: 2, gravity: { value: 20 }, total: p401.score });
      // ... which is follow-up instead: the new incident since enrolment that makes a lever due.
      const treated = await treatedPerpetrators(store.prisma, { timeZone, until: new Date('2026-03-10T12:00:00Z'), nominalIds: [p401.nominalId] });
      expect(treated.flatMap((t) => t.due.map((d) => d.incidentRef))).toEqual(['TEST-INC-401-ASOF']);
    } finally {
      await store.destroy();
    }
  });

  it('computes the baseline balance per arm as worked out by hand', async () => {
    const store = await target.create();
    try {
      // Four perpetrators; the balance looks at the 12 months before 2026-03-09 (2025-03-09 to the end of 2026-03-08).
      const rec = (...args: Parameters<typeof trialIncident>) => incidentRecordSchema.parse(trialIncident(...args));
      await store.prisma.$transaction((tx) =>
        upsertIncidents(
          tx,
          [
            // P-201: score 41 (R10 F5 G26 V0); last 12 months: 2 incidents, gravity 10 + 6 = 16.
            rec('TEST-INC-201A', '2026-02-01T10:00:00Z', 'TEST-P-201', 'TEST-V-201', 'assault', true),
            rec('TEST-INC-201B', '2025-06-01T10:00:00Z', 'TEST-P-201', 'TEST-V-201', 'threats', false),
            rec('TEST-INC-201C', '2024-06-01T10:00:00Z', 'TEST-P-201', 'TEST-V-201', 'assault', true),
            // P-202: score 50 (R10 F5 G30 V5); 2 incidents, gravity 30.
            rec('TEST-INC-202A', '2026-03-01T10:00:00Z', 'TEST-P-202', 'TEST-V-202', 'strangulation', true),
            rec('TEST-INC-202B', '2026-01-10T10:00:00Z', 'TEST-P-202', 'TEST-V-203', 'assault', true),
            // P-203: score 20 (R7 F2 G11 V0); 3 incidents, gravity 5 + 5 + 1 = 11.
            rec('TEST-INC-203A', '2025-12-01T10:00:00Z', 'TEST-P-203', 'TEST-V-204', 'harassment', false),
            rec('TEST-INC-203B', '2025-11-01T10:00:00Z', 'TEST-P-203', 'TEST-V-204', 'harassment', false),
            rec('TEST-INC-203C', '2025-10-01T10:00:00Z', 'TEST-P-203', 'TEST-V-204', 'verbal argument', false),
            // P-204: score 26 (R10 F5 G11 V0); 1 incident in the last 12 months, gravity 3.
            rec('TEST-INC-204A', '2026-02-20T10:00:00Z', 'TEST-P-204', 'TEST-V-205', 'criminal damage', true),
            rec('TEST-INC-204B', '2023-09-01T10:00:00Z', 'TEST-P-204', 'TEST-V-205', 'stalking', true),
          ],
          store.labelKey,
        ),
      );
      await createTrial(store, trialRequest({ name: 'test-balance' }), actor);
      enrolled(await enrolTrial(store, scoring, timeZone, { trial: 'test-balance', asOf, top: 4 }, actor));
      const rows = await allocationsOf(store, 'test-balance');
      expect(Object.fromEntries(rows.map((r) => [r.nominal.ref, r.score]))).toEqual({ 'TEST-P-201': 41, 'TEST-P-202': 50, 'TEST-P-203': 20, 'TEST-P-204': 26 });
      // Seed 20260309 puts P-202 and P-204 in treatment, P-201 and P-203 in control.
      expect(Object.fromEntries(rows.map((r) => [r.nominal.ref, r.arm]))).toEqual({
        'TEST-P-201': 'control',
        'TEST-P-202': 'treatment',
        'TEST-P-203': 'control',
        'TEST-P-204': 'treatment',
      });

      const balance = await trialBalance(store, 'test-balance', timeZone, actor);
      expect(balance.trial).toBe('test-balance');
      const [treatment, control] = balance.arms;
      expect(treatment).toMatchObject({ arm: 'treatment', count: 2 });
      expect(control).toMatchObject({ arm: 'control', count: 2 });
      // Treatment: scores 50, 26; incidents 2, 1; gravity 30, 3.
      expect(treatment!.score.mean).toBeCloseTo(38, 9);
      expect(treatment!.score.sd).toBeCloseTo(Math.sqrt(288), 9);
      expect(treatment!.incidents.mean).toBeCloseTo(1.5, 9);
      expect(treatment!.incidents.sd).toBeCloseTo(Math.sqrt(0.5), 9);
      expect(treatment!.gravity.mean).toBeCloseTo(16.5, 9);
      expect(treatment!.gravity.sd).toBeCloseTo(Math.sqrt(364.5), 9);
      // Control: scores 41, 20; incidents 2, 3; gravity 16, 11.
      expect(control!.score.mean).toBeCloseTo(30.5, 9);
      expect(control!.score.sd).toBeCloseTo(Math.sqrt(220.5), 9);
      expect(control!.incidents.mean).toBeCloseTo(2.5, 9);
      expect(control!.incidents.sd).toBeCloseTo(Math.sqrt(0.5), 9);
      expect(control!.gravity.mean).toBeCloseTo(13.5, 9);
      expect(control!.gravity.sd).toBeCloseTo(Math.sqrt(12.5), 9);
      // d = (mean difference) / sqrt((sd_t² + sd_c²) / 2).
      const [d] = balance.standardisedDifferences;
      expect(d!.arm).toBe('treatment');
      expect(d!.score).toBeCloseTo(7.5 / Math.sqrt((288 + 220.5) / 2), 9);
      expect(d!.incidents).toBeCloseTo(-1 / Math.sqrt(0.5), 9);
      expect(d!.gravity).toBeCloseTo(3 / Math.sqrt((364.5 + 12.5) / 2), 9);
    } finally {
      await store.destroy();
    }
  });
});
