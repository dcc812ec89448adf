// End to end, as a force analyst and a trial lead run it: `dmm import`, `dmm score` and `dmm trial …` as
// child processes on one store (embedded PGlite; PostgreSQL too when TEST_DATABASE_URL is set), filled
// with synthetic, obviously fictional incidents whose scores are known. Each step is checked on what the
// command printed and in the store; a change made behind dmm's back, straight in the database, is named
// by `dmm trial verify`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocate } from '../../src/domain/randomisation.js';
import { verifyAuditChain } from '../../src/store/audit.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { createServerDatabase, type TestDatabase } from '../support/databases.js';
import { baseEnv, runDmm, type DmmRun } from '../support/dmm-process.js';
import { baseTrialIncidents, eligibleInOrder, expectedScores, trialIncident, trialIncidentsCsv } from '../support/trial-data.js';

/** Tuesday 10 March 2026, 12:00 GMT: "today" for every command. */
const now = '2026-03-10T12:00:00Z';
const today = '2026-03-10';
/** Enrolment day: Monday, after every base incident. */
const asOf = '2026-03-09';
/** The next working day's agenda: incidents from Tuesday 09:00 to Wednesday 09:00. */
const nextWorkingDay = '2026-03-11';
const allocationColumns = ['perpetrator_ref', 'arm', 'phase', 'enrolled_on', 'stratum', 'exited_on', 'exit_reason'];
const scoreCsvHeader = 'rank,perpetrator_ref,label,score,recency,frequency,gravity,victims,incidents,crimes,distinct_victims,days_since_latest,eligible';

// Each `dmm` process starts through tsx and opens PGlite or PostgreSQL: 5–30 s apiece on a busy machine.
const processMs = 150_000;
const slow = 400_000;
const dmm = (args: string[], env: NodeJS.ProcessEnv): Promise<DmmRun> => runDmm(args, env, processMs);

function expectRan(run: DmmRun, code = 0): void {
  expect(run.code, `exit code; stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(code);
}

/** A refusal: exit 1, one `dmm: …` line on standard error, no stack trace, nothing on standard output. */
function expectRefused(run: DmmRun, message: string): void {
  expectRan(run, 1);
  expect(run.stderr.trim().split('\n'), run.stderr).toEqual([`dmm: ${message}`]);
  expect(run.stdout).toBe('');
}

const tmpDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tmpDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tmpDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

function cliEnv(store: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return baseEnv({
    ...store,
    DMM_NOW: now,
    DMM_TIMEZONE: 'Europe/London',
    DMM_HOLIDAYS: 'england-and-wales',
    DMM_SCORING_FILE: '',
    DMM_LEVERS_FILE: '',
    DMM_TEAMS_CHANNEL: '',
    TEAMS_CLIENT_ID: '',
    TEAMS_CLIENT_SECRET: '',
    TEAMS_TENANT_ID: '',
    ...extra,
  });
}

// ---- a store the CLI and the test share ----

interface Store {
  env: Record<string, string>;
  /** The store, opened only while no dmm process holds it (PGlite is one process's database). */
  use<T>(fn: (db: Database) => Promise<T>): Promise<T>;
  destroy(): Promise<void>;
}

async function embeddedStore(): Promise<Store> {
  const dir = await tmpDir('dmm-trial-cli-');
  return {
    env: { DMM_DATA_DIR: dir },
    async use(fn) {
      const db = await openDatabase({ DMM_DATA_DIR: dir });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    },
    async destroy() {},
  };
}

async function serverStore(): Promise<Store> {
  const db: TestDatabase = await createServerDatabase(process.env.TEST_DATABASE_URL!);
  return { env: db.env, use: (fn) => fn(db), destroy: () => db.destroy() };
}

const targets = [
  { name: 'embedded', create: embeddedStore },
  ...(process.env.TEST_DATABASE_URL ? [{ name: 'postgres', create: serverStore }] : []),
];

interface ScoreRow {
  rank: number;
  perpetrator_ref: string;
  label: string;
  score: number;
  recency: number;
  frequency: number;
  gravity: number;
  victims: number;
  incidents: number;
  crimes: number;
  distinct_victims: number;
  days_since_latest: number;
  eligible: boolean;
}

interface AllocationRow {
  perpetrator_ref: string;
  arm: string;
  phase: number;
  enrolled_on: string;
  stratum: string;
  exited_on: string | null;
  exit_reason: string | null;
}

describe.each(targets)('dmm score and dmm trial on the $name store', (target) => {
  let store: Store;
  let env: NodeJS.ProcessEnv;
  const labels = new Map<string, string>();
  let phase1Arms: { treatment: number; control: number };
  let allocations: AllocationRow[];
  let treated: AllocationRow;
  let control: AllocationRow;
  const exiting = 'TEST-P-005';
  const phase1 = ['TEST-P-001', 'TEST-P-002', 'TEST-P-009', 'TEST-P-003', 'TEST-P-010', 'TEST-P-007'];
  const phase2 = ['TEST-P-008', 'TEST-P-012', 'TEST-P-005', 'TEST-P-006', 'TEST-P-011'];

  beforeAll(async () => {
    store = await target.create();
    env = cliEnv(store.env);
  }, slow);

  afterAll(async () => {
    await store?.destroy();
  });

  it('imports the synthetic incidents', async () => {
    const file = path.join(await tmpDir('dmm-trial-csv-'), 'incidents.csv');
    await writeFile(file, trialIncidentsCsv(baseTrialIncidents));
    const run = await dmm(['import', 'incidents', file], env);
    expectRan(run);
    expect(run.stdout).toBe(`incidents: inserted ${baseTrialIncidents.length}, updated 0, unchanged 0, rejected 0\n`);
  }, slow);

  // ---- dmm score ----

  it('dmm score --json prints JSON alone: the ranking with its components and the power few; the unknown category is warned of on stderr', async () => {
    const run = await dmm(['score', '--json'], env);
    expectRan(run);
    // Nothing but the JSON on standard output: it parses whole.
    const json = JSON.parse(run.stdout) as {
      asOf: string;
      scoringHash: string;
      perpetrators: number;
      eligible: number;
      ranking: ScoreRow[];
      powerFew: Record<string, unknown>;
      warnings: string[];
    };
    expect(json.asOf).toBe(today);
    expect(json.scoringHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(json.perpetrators).toBe(Object.keys(expectedScores).length);
    expect(json.eligible).toBe(eligibleInOrder.length);
    // Highest first, ties by reference; the perpetrator with only 2022 incidents is outside the window.
    const byScore = Object.entries(expectedScores).sort(([a, x], [b, y]) => y[0] - x[0] || (a < b ? -1 : 1));
    expect(json.ranking.map((r) => r.perpetrator_ref)).toEqual(byScore.map(([ref]) => ref));
    expect(json.ranking.map((r) => r.rank)).toEqual(byScore.map((_, i) => i + 1));
    expect(json.ranking.filter((r) => r.eligible).map((r) => r.perpetrator_ref)).toEqual(eligibleInOrder);
    for (const row of json.ranking) {
      const [total, recency, frequency, gravity, victims, eligible] = expectedScores[row.perpetrator_ref]!;
      expect({ ref: row.perpetrator_ref, score: row.score, recency: row.recency, frequency: row.frequency, gravity: row.gravity, victims: row.victims, eligible: row.eligible }).toEqual({
        ref: row.perpetrator_ref,
        score: total,
        recency,
        frequency,
        gravity,
        victims,
        eligible,
      });
      expect(row.label).toMatch(/^N-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
      labels.set(row.perpetrator_ref, row.label);
    }
    expect(json.ranking[0]).toMatchObject({ perpetrator_ref: 'TEST-P-001', incidents: 3, crimes: 3, distinct_victims: 2, days_since_latest: 7 });
    expect(new Set(labels.values()).size).toBe(labels.size);
    expect(run.stdout).not.toContain('TEST-P-104');
    // Gravity 40 of 256 for the top 1% (one person of 15), 80 of 256 for the top 10% (two).
    expect(json.powerFew).toMatchObject({
      perpetrators: 15,
      totalGravity: 256,
      top1: { count: 1, share: 0.15625 },
      top5: { count: 1, share: 0.15625 },
      top10: { count: 2, share: 0.3125 },
    });
    const warning = 'category "test unlisted category" is not in the gravity table: 1 incident scored with the default weight 1';
    expect(json.warnings).toEqual([warning]);
    expect(run.stderr).toContain(`warning: ${warning}`);
  }, slow);

  let csvRows: Record<string, string>[];

  it('dmm score --csv prints a header and a row per perpetrator; the power few go to stderr', async () => {
    const run = await dmm(['score', '--csv'], env);
    expectRan(run);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(scoreCsvHeader);
    const rows = parse(run.stdout, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    csvRows = rows;
    expect(rows).toHaveLength(15);
    expect(rows.map((r) => r.perpetrator_ref)).toEqual(Object.entries(expectedScores).sort(([a, x], [b, y]) => y[0] - x[0] || (a < b ? -1 : 1)).map(([ref]) => ref));
    const { eligible: _eligible, ...first } = rows[0]!;
    expect(first).toEqual({
      rank: '1',
      perpetrator_ref: 'TEST-P-001',
      label: labels.get('TEST-P-001'),
      score: '60',
      recency: '10',
      frequency: '5',
      gravity: '40',
      victims: '5',
      incidents: '3',
      crimes: '3',
      distinct_victims: '2',
      days_since_latest: '7',
    });
    expect(rows.find((r) => r.perpetrator_ref === 'TEST-P-102')).toMatchObject({ score: '32' });
    expect(run.stdout).not.toContain('Power few');
    expect(run.stderr).toContain('Power few: of 15 perpetrators (total gravity 256.0),');
  }, slow);

  it('dmm score --csv writes the eligible column as true or false, as --json does (not 1 and an empty cell)', () => {
    expect(csvRows.map((r) => [r.perpetrator_ref, r.eligible])).toEqual(
      csvRows.map((r) => [r.perpetrator_ref, String(expectedScores[r.perpetrator_ref!]![5])]),
    );
  });

  it('dmm score --explain shows how one score was made, component by component', async () => {
    const run = await dmm(['score', '--explain', 'TEST-P-001'], env);
    expectRan(run);
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 9)).toEqual([
      `TEST-P-001 (${labels.get('TEST-P-001')}): rank 1 of 15 as of ${today}`,
      `  Recency: latest incident 7 days before the as-of date → band 0–90 days → 10 points × weight 1 = 10`,
      '  Frequency: 3 crimes × 1 + 0 non-crimes × 0.5 = 3 → band 2–4 → 5 points × weight 1 = 5',
      '  Gravity (sum of category weights): 40 points × weight 1 = 40',
      '    assault: 2 incidents × 10 = 20',
      '    strangulation: 1 incident × 20 = 20',
      '  Victims: 2 distinct victims (serial) → band 2–3 → 5 points × weight 1 = 5',
      '  Total: 10 + 5 + 40 + 5 = 60',
      `  Eligible: yes (3 incidents in the last 36 months, at least 2 needed; 3 in the last 12 months, at least 1 needed)`,
    ]);
    expect(lines[9]).toMatch(/^Scoring: the shipped illustrative defaults \(set DMM_SCORING_FILE\) \(sha256:[0-9a-f]{64}\)$/);
    expect(run.stdout).toContain('Power few: of 15 perpetrators');
  }, slow);

  // ---- dmm trial create ----

  it('creates t1; refuses a ratio of 2:0 and a seed of 1.5 with a clear line, writing nothing', async () => {
    const created = await dmm(['trial', 'create', 't1', '--arms', 'treatment,control', '--seed', '7', '--from', asOf], env);
    expectRan(created);
    expect(created.stdout).toContain(`Created trial t1: arms treatment (1), control (1); strata none; seed 7; phase 1 from ${asOf}.`);

    const ratio = await dmm(['trial', 'create', 't2', '--arms', 'treatment,control', '--ratio', '2:0', '--seed', '7'], env);
    expectRefused(ratio, 'ratio "2:0": every arm needs a share of at least 1');
    const seed = await dmm(['trial', 'create', 't2', '--arms', 'treatment,control', '--seed', '1.5'], env);
    expectRefused(seed, 'seed "1.5" is not an integer between 0 and 2147483647');

    await store.use(async (db) => {
      expect(await db.prisma.trial.findMany({ select: { name: true, seed: true } })).toEqual([{ name: 't1', seed: 7 }]);
      expect(await db.prisma.trialPhase.count()).toBe(1);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.create' } })).toBe(1);
      // The four default tiers' first scripts, written once.
      expect(await db.prisma.leverScript.count()).toBe(4);
    });
  }, slow);

  it('refuses to enrol into, or exit from, a trial that does not exist, and writes nothing', async () => {
    const enrol = await dmm(['trial', 'enrol', 't9', '--as-of', asOf, '--top', '3'], env);
    expectRefused(enrol, 'there is no trial "t9"; trials: t1');
    const exit = await dmm(['trial', 'exit', 't9', 'TEST-P-001', '--on', today, '--reason', 'safety'], env);
    expectRefused(exit, 'there is no trial "t9"; trials: t1');
    await store.use(async (db) => {
      expect(await db.prisma.trialEnrolment.count()).toBe(0);
      expect(await db.prisma.trialAllocation.count()).toBe(0);
      expect(await db.prisma.flag.count()).toBe(0);
      expect(await db.prisma.auditEvent.count({ where: { action: { in: ['trial.enrol', 'trial.allocate', 'trial.exit'] } } })).toBe(0);
    });
  }, slow);

  // ---- exclusion and enrolment ----

  it('excludes a perpetrator before enrolment; enrols the 6 highest eligible others, once; the same enrolment again changes nothing', async () => {
    const excluded = await dmm(['trial', 'exclude', 't1', 'TEST-P-004', '--reason', 'TEST victim-safety concern'], env);
    expectRan(excluded);
    expect(excluded.stdout).toBe('TEST-P-004 is excluded from t1: later enrolments pass them over.\n');

    const enrol = await dmm(['trial', 'enrol', 't1', '--as-of', asOf, '--top', '6'], env);
    expectRan(enrol);
    const m = new RegExp(`^Enrolled 6 into phase 1 of t1 as of ${asOf}: treatment (\\d+), control (\\d+)\\.$`, 'm').exec(enrol.stdout);
    expect(m, enrol.stdout).not.toBeNull();
    phase1Arms = { treatment: Number(m![1]), control: Number(m![2]) };
    expect(phase1Arms.treatment + phase1Arms.control).toBe(6);
    expect(enrol.stdout).not.toContain('Only');

    const again = await dmm(['trial', 'enrol', 't1', '--as-of', asOf, '--top', '6'], env);
    expectRan(again);
    expect(again.stdout).toBe(`Phase 1 of t1 was already enrolled as of ${asOf} (6 people); nothing changed.\n`);

    await store.use(async (db) => {
      const rows = await db.prisma.trialAllocation.findMany({ include: { nominal: true } });
      // The excluded TEST-P-004 and the ineligible TEST-P-102 (ranked above some) were passed over.
      expect(rows.map((r) => r.nominal.ref).sort()).toEqual([...phase1].sort());
      expect(await db.prisma.trialEnrolment.count()).toBe(1);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.enrol' } })).toBe(1);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.allocate' } })).toBe(6);
      const flags = await db.prisma.flag.findMany({ include: { perpetrator: true } });
      const treatedRefs = rows.filter((r) => r.arm === 'treatment').map((r) => r.nominal.ref).sort();
      expect(treatedRefs).toHaveLength(phase1Arms.treatment);
      // Treatment members are flagged "cohort" from the enrolment day; control members get nothing.
      expect(flags.map((f) => f.perpetrator.ref).sort()).toEqual(treatedRefs);
      for (const f of flags) expect([f.kind, f.startsOn.toISOString().slice(0, 10), f.endsOn]).toEqual(['cohort', asOf, null]);
    });
  }, slow);

  it('opens phase 2 and, asked for more than are eligible, enrols all of them and says so', async () => {
    const phase = await dmm(['trial', 'phase', 't1', '2', '--from', asOf], env);
    expectRan(phase);
    expect(phase.stdout).toContain(`Opened phase 2 of t1 from ${asOf}.`);
    const enrol = await dmm(['trial', 'enrol', 't1', '--as-of', asOf, '--top', '50'], env);
    expectRan(enrol);
    expect(enrol.stdout).toContain('Only 5 perpetrators are eligible, fewer than --top 50: all of them were enrolled.');
    expect(enrol.stdout).toMatch(new RegExp(`^Enrolled 5 into phase 2 of t1 as of ${asOf}: treatment \\d+, control \\d+\\.$`, 'm'));
  }, slow);

  it('refuses to exclude someone already enrolled; exits an enrolled person once, and refuses a second exit', async () => {
    const exclude = await dmm(['trial', 'exclude', 't1', 'TEST-P-001', '--reason', 'TEST too late'], env);
    expectRefused(exclude, 'TEST-P-001 is already enrolled in t1; an enrolled person leaves by dmm trial exit, never by exclusion');

    const exit = await dmm(['trial', 'exit', 't1', exiting, '--on', today, '--reason', 'safety'], env);
    expectRan(exit);
    expect(exit.stdout).toBe(`${exiting} exited t1 on ${today} (safety). They stay in their arm for the analysis (intention to treat).\n`);
    const again = await dmm(['trial', 'exit', 't1', exiting, '--on', today, '--reason', 'custody'], env);
    expectRefused(again, `${exiting} already exited t1 on ${today} (safety); an exit is not changed`);

    await store.use(async (db) => {
      expect(await db.prisma.trialExclusion.count()).toBe(1);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.exclude' } })).toBe(1);
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.exit' } })).toBe(1);
      const row = await db.prisma.trialAllocation.findFirstOrThrow({ where: { nominal: { ref: exiting } } });
      expect([row.exitedOn?.toISOString().slice(0, 10), row.exitReason]).toEqual([today, 'safety']);
    });
  }, slow);

  // ---- allocations, verify, balance ----

  it('lists the allocations as JSON alone, with exactly the documented keys, and as CSV', async () => {
    const run = await dmm(['trial', 'allocations', 't1', '--json'], env);
    expectRan(run);
    allocations = JSON.parse(run.stdout) as AllocationRow[];
    expect(Array.isArray(allocations)).toBe(true);
    expect(allocations).toHaveLength(11);
    for (const row of allocations) expect(Object.keys(row).sort()).toEqual([...allocationColumns].sort());
    expect(allocations.filter((r) => r.phase === 1).map((r) => r.perpetrator_ref).sort()).toEqual([...phase1].sort());
    expect(allocations.filter((r) => r.phase === 2).map((r) => r.perpetrator_ref).sort()).toEqual([...phase2].sort());
    for (const row of allocations) {
      expect(['treatment', 'control']).toContain(row.arm);
      expect([row.enrolled_on, row.stratum]).toEqual([asOf, 'all']);
      expect([row.exited_on, row.exit_reason]).toEqual(row.perpetrator_ref === exiting ? [today, 'safety'] : [null, null]);
    }
    expect(allocations.filter((r) => r.phase === 1 && r.arm === 'treatment')).toHaveLength(phase1Arms.treatment);
    // The arms are the ones the recorded seed gives: recomputed here, independently of `dmm trial verify`.
    const arms = [
      { name: 'treatment', ratio: 1 },
      { name: 'control', ratio: 1 },
    ];
    for (const [phase, refs] of [[1, phase1], [2, phase2]] as const) {
      const expected = allocate({ seed: 7, phase, arms, candidates: refs.map((ref) => ({ ref, stratum: 'all' })) });
      expect(allocations.filter((r) => r.phase === phase).map((r) => [r.perpetrator_ref, r.arm])).toEqual(expected.map((a) => [a.ref, a.arm]));
    }
    await store.use(async (db) => {
      const stored = await db.prisma.trialAllocation.findMany({ include: { nominal: true } });
      expect(new Map(stored.map((s) => [s.nominal.ref, s.arm]))).toEqual(new Map(allocations.map((a) => [a.perpetrator_ref, a.arm])));
      expect(await db.prisma.auditEvent.count({ where: { action: 'trial.allocations.view', reason: 'dmm trial allocations' } })).toBe(1);
    });

    const csv = await dmm(['trial', 'allocations', 't1', '--csv'], env);
    expectRan(csv);
    expect(csv.stdout.split('\n')[0]).toBe(allocationColumns.join(','));
    const rows = parse(csv.stdout, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    expect(rows).toEqual(allocations.map((a) => ({ ...a, phase: String(a.phase), exited_on: a.exited_on ?? '', exit_reason: a.exit_reason ?? '' })));

    treated = allocations.find((a) => a.phase === 1 && a.arm === 'treatment')!;
    control = allocations.find((a) => a.phase === 1 && a.arm === 'control')!;
    expect(treated).toBeDefined();
    expect(control).toBeDefined();
  }, slow);

  it('verifies the allocation against its record, and shows the balance of both arms', async () => {
    const verify = await dmm(['trial', 'verify', 't1'], env);
    expectRan(verify);
    expect(verify.stdout).toBe('Trial t1: the 11 allocation(s) of 2 enrolment(s) match their recomputation from the recorded seed, candidates and strata, and the audit trail.\n');

    const balance = await dmm(['trial', 'balance', 't1'], env);
    expectRan(balance);
    expect(balance.stdout).toContain('Balance of t1 at enrolment (means, with standard deviations):');
    for (const arm of ['treatment', 'control']) {
      const n = allocations.filter((a) => a.arm === arm).length;
      expect(balance.stdout, arm).toMatch(new RegExp(`^${arm}\\t${n}\\t\\d+\\.\\d{2} \\(`, 'm'));
    }
    expect(balance.stdout).toMatch(/^Standardised difference, treatment vs control: score -?\d+\.\d{2}, incidents/m);
  }, slow);

  // ---- the agenda and levers ----

  it("puts the treated member's new incident on the next agenda with its lever due, and nothing of the control member's", async () => {
    const file = path.join(await tmpDir('dmm-trial-csv-'), 'after.csv');
    await writeFile(
      file,
      trialIncidentsCsv([
        trialIncident('TEST-INC-201', '2026-03-10T10:00:00Z', treated.perpetrator_ref, 'TEST-V-201', 'assault', true),
        trialIncident('TEST-INC-202', '2026-03-10T10:30:00Z', control.perpetrator_ref, 'TEST-V-202', 'verbal argument', false, { risk_level: 'standard' }),
      ]),
    );
    expectRan(await dmm(['import', 'incidents', file], env));

    const run = await dmm(['agenda', '--date', nextWorkingDay, '--json'], env);
    expectRan(run);
    const agenda = JSON.parse(run.stdout) as {
      meetingDate: string;
      flaggedPerpetrators: Array<{ label: string; ref: string; flags: unknown[]; incidents: Array<{ ref: string }>; leversDue?: unknown[] }>;
      leversOverdue: unknown[];
    };
    expect(agenda.meetingDate).toBe(nextWorkingDay);
    const treatedLabel = labels.get(treated.perpetrator_ref)!;
    const controlLabel = labels.get(control.perpetrator_ref)!;
    expect(agenda.flaggedPerpetrators.map((p) => p.label)).toEqual([treatedLabel]);
    const entry = agenda.flaggedPerpetrators[0]!;
    expect(entry.flags).toEqual([{ kind: 'cohort', startsOn: asOf, endsOn: null }]);
    expect(entry.incidents.map((i) => i.ref)).toEqual(['TEST-INC-201']);
    // A first crime since enrolment triggers tier C, due 72 hours after the report.
    expect(entry.leversDue).toEqual([
      { tier: 'C', tierName: 'face-to-face notice', mode: 'in-person', incidentRef: 'TEST-INC-201', dueBy: '2026-03-13T10:00:00.000Z', overdue: false },
    ]);
    expect(agenda.leversOverdue).toEqual([]);
    // The control member appears nowhere: not by label, reference or incident.
    expect(run.stdout).not.toContain(controlLabel);
    expect(run.stdout).not.toContain(`"${control.perpetrator_ref}"`);
    expect(run.stdout).not.toContain('TEST-INC-202');
  }, slow);

  it('records a lever for the treated member, opening the victim contact; refuses one for the control member', async () => {
    const treatedLabel = labels.get(treated.perpetrator_ref)!;
    const controlLabel = labels.get(control.perpetrator_ref)!;
    await store.use((db) => db.prisma.member.create({ data: { slackUserId: 'U0TESTIDVA', agency: 'idva', displayName: 'Test IDVA' } }));

    const lever = await dmm(['trial', 'lever', treated.perpetrator_ref, '--tier', 'C', '--mode', 'in-person', '--outcome', 'delivered', '--at', '2026-03-10T11:30:00Z'], env);
    expectRan(lever);
    const given = new RegExp(
      `^Lever L-(\\d+): tier C \\(face-to-face notice\\) delivered in person for ${treatedLabel} after TEST-INC-201 \\(reported Tue 10 Mar 10:00\\), 1\\.5 hours later, within the 72-hour target\\. Script ([0-9a-f]{12})\\.$`,
      'm',
    ).exec(lever.stdout);
    expect(given, lever.stdout).not.toBeNull();
    const contact = /^Victim contact: A-(\d+) for idva, due 2026-03-11\.$/m.exec(lever.stdout);
    expect(contact, lever.stdout).not.toBeNull();

    const refused = await dmm(['trial', 'lever', control.perpetrator_ref, '--tier', 'C', '--mode', 'in-person', '--outcome', 'delivered', '--at', '2026-03-10T11:45:00Z'], env);
    expectRefused(refused, `${controlLabel} is not in a trial's treatment arm, so no lever may be recorded for them: it would break the trial. Nothing was recorded.`);

    await store.use(async (db) => {
      const deliveries = await db.prisma.leverDelivery.findMany({ include: { nominal: true, incident: true } });
      expect(deliveries).toHaveLength(1);
      const d = deliveries[0]!;
      expect([d.id, d.nominal.ref, d.incident.sourceRef, d.tier, d.mode, d.outcome, d.rapidityHours, d.deliveredAt.toISOString(), d.scriptVersion]).toEqual([
        Number(given![1]),
        treated.perpetrator_ref,
        'TEST-INC-201',
        'C',
        'in-person',
        'delivered',
        1.5,
        '2026-03-10T11:30:00.000Z',
        given![2],
      ]);
      const action = await db.prisma.action.findUniqueOrThrow({ where: { id: Number(contact![1]) }, include: { owner: true } });
      expect(action).toMatchObject({ status: 'open', agency: 'idva', text: `Contact the victim: lever C (face-to-face notice) was delivered to ${treatedLabel} after TEST-INC-201` });
      expect(action.owner.slackUserId).toBe('U0TESTIDVA');
      expect(action.dueOn.toISOString().slice(0, 10)).toBe('2026-03-11');
      expect(d.victimActionId).toBe(action.id);
      expect(await db.prisma.action.count()).toBe(1);
      const refusal = await db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'lever.refused' } });
      expect([refusal.subject, refusal.details]).toEqual([controlLabel, { reason: 'control arm' }]);
    });
  }, slow);

  it('dmm trial rapidity --json shows the delivery in tier C, and no lever due', async () => {
    const run = await dmm(['trial', 'rapidity', 't1', '--json'], env);
    expectRan(run);
    const report = JSON.parse(run.stdout) as { trial: string; targetHours: number; tiers: Array<Record<string, unknown>>; due: number; overdue: number };
    expect(report).toMatchObject({ trial: 't1', targetHours: 72, due: 0, overdue: 0 });
    expect(report.tiers.map((t) => t.tier)).toEqual(['D', 'C', 'B', 'A']);
    expect(report.tiers.find((t) => t.tier === 'C')).toEqual({ tier: 'C', deliveries: 1, medianHours: 1.5, p90Hours: 1.5, withinTarget: 1 });
    for (const t of report.tiers.filter((x) => x.tier !== 'C')) expect(t.deliveries, String(t.tier)).toBe(0);
  }, slow);

  // ---- a change behind dmm's back ----

  it("names the perpetrator whose arm was changed in the database", async () => {
    const victim = allocations.find((a) => a.phase === 2 && a.perpetrator_ref !== exiting)!;
    const flipped = victim.arm === 'treatment' ? 'control' : 'treatment';
    const changed = await store.use((db) =>
      db.prisma.$executeRawUnsafe(`UPDATE trial_allocation SET arm = $1 WHERE nominal_id = (SELECT id FROM nominal WHERE ref = $2)`, flipped, victim.perpetrator_ref),
    );
    expect(changed).toBe(1);
    const run = await dmm(['trial', 'verify', 't1'], env);
    expectRan(run, 1);
    expect(run.stdout.trim().split('\n')).toEqual([
      'Trial t1: the allocation does NOT match its record (1 problem(s)):',
      `  phase 2: ${victim.perpetrator_ref} is in ${flipped} but the recomputed allocation says ${victim.arm}`,
    ]);
    // The audit trail itself was not touched, and still checks out.
    await store.use(async (db) => expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: true }));
  }, slow);
});

// ---- a scoring file with a mistake: refused before anything is opened ----

describe('dmm score with a DMM_SCORING_FILE that has a mistake', () => {
  const cases: Array<{ name: string; yaml: string; problem: string }> = [
    {
      name: 'a negative weight',
      yaml: 'weights:\n  recency: -1\n  frequency: 1\n  gravity: 1\n  victims: 1\n',
      problem: 'weights.recency: must not be negative',
    },
    {
      name: 'overlapping bands',
      yaml: 'recency:\n  bands:\n    - { from: 0, to: 100, points: 10 }\n    - { from: 90, to: 180, points: 7 }\n    - { from: 180, points: 1 }\n',
      problem: "recency.bands[1]: overlaps the band before it (its from 90 is below that band's to 100)",
    },
    { name: 'an unknown key', yaml: 'window_months: 36\ncolour: blue\n', problem: 'colour: is not a known setting' },
  ];

  it.each(cases)('refuses $name: exit non-zero, one line naming the problem, no stack trace', async ({ yaml, problem }) => {
    const dir = await tmpDir('dmm-trial-scoring-');
    const file = path.join(dir, 'scoring.yaml');
    await writeFile(file, yaml);
    const run = await dmm(['score', '--json'], cliEnv({ DMM_DATA_DIR: path.join(dir, 'data') }, { DMM_SCORING_FILE: file }));
    expect(run.code, run.stderr).not.toBe(0);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    // One line names the file and the problem; at most a heading besides it.
    expect(lines.filter((l) => l.includes('DMM_SCORING_FILE')), run.stderr).toEqual([expect.stringContaining(`DMM_SCORING_FILE ${file}: ${problem}`)]);
    expect(lines.length, run.stderr).toBeLessThanOrEqual(2);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).not.toMatch(/ZodError|unexpected error/);
  }, slow);
});
