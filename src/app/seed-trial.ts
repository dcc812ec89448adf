// Builds a synthetic trial with a known effect on top of the demo data, so that a newcomer sees a full
// outcome report at once: 260 fictional perpetrators (SIM-P-…), the top 240 enrolled and randomised by
// dmm's own allocation, then followed up at 0.6 times the control arm's rate in the treatment arm.
import type { LeverConfig } from '../domain/levers.js';
import { addCalendarDays, type LocalDate } from '../domain/calendar.js';
import { cutoffOf, localDateOf } from '../domain/agenda-window.js';
import { simulateTrial } from '../domain/trial-simulation.js';
import type { ParticipantRecord } from '../domain/outcomes.js';
import { contactRecordSchema, flagRecordSchema, incidentRecordSchema, type IncidentRecord } from '../domain/records.js';
import type { ScoringSettings } from '../config.js';
import { appendAuditMany } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { upsertContacts, upsertFlags, upsertIncidents } from '../store/records-repository.js';
import { createTrial } from './create-trial.js';
import { enrolTrial } from './enrol-trial.js';
import { exitFromTrial } from './leave-trial.js';
import { StoreNotEmptyError } from './seed-demo.js';

export const demoTrialName = 'demo';
/** The simulated treatment arm's rate over control's, during participation: the effect the report should find. */
export const demoTrueRatio = 0.6;
const perArm = 130;
const enrolled = 240;
const seed = 20_261_125;
type Part = 'pre' | 'post';
const areas = ['Demo North', 'Demo South', 'Demo East', 'Demo West', 'Demo Central'];

export interface TrialSeedSummary {
  trial: string;
  enrolledOn: LocalDate;
  enrolled: number;
  incidents: number;
  contacts: number;
  exits: number;
}

export async function seedTrial(
  db: Database,
  settings: { scoring: ScoringSettings; levers: LeverConfig; timeZone: string },
  today: LocalDate,
  actor: string,
): Promise<TrialSeedSummary> {
  if (await db.prisma.trial.findUnique({ where: { name: demoTrialName } })) {
    throw new StoreNotEmptyError(`The store already holds the demo trial "${demoTrialName}"; remove the data folder to start again.`);
  }
  const enrolledOn = addCalendarDays(today, -300);
  // Two simulations from one seed: one gives everyone's history before enrolment, the other the follow-up
  // of each arm, handed out to whoever dmm's randomisation puts in that arm.
  const simulated = simulateTrial({ seed, perArm, trueRatio: demoTrueRatio, enrolFrom: enrolledOn, enrolDays: 0, asOf: today, timeZone: settings.timeZone });
  // Everyone enrols as the enrolment day begins: what came before is history, the rest follow-up.
  const start = cutoffOf(enrolledOn, '00:00', settings.timeZone).getTime();
  const inPart = (at: Date, part: Part) => (part === 'pre' ? at.getTime() < start : at.getTime() >= start);
  const history = simulated.map((p, n) => ({ ref: `SIM-P-${String(n + 1).padStart(4, '0')}`, record: p }));

  const incidentsOf = (ref: string, p: ParticipantRecord, part: Part): IncidentRecord[] =>
    p.incidents.filter((i) => inPart(i.reportedAt, part)).map((i, k) =>
      incidentRecordSchema.parse({
        source_ref: `SIM-INC-${ref.slice(6)}-${part}-${k + 1}`,
        source_system: 'sim',
        reported_at: i.reportedAt.toISOString(),
        occurred_at: '',
        risk_level: i.crime ? 'medium' : 'standard',
        category: i.category,
        crime: i.crime,
        area: areas[Number(ref.slice(6)) % areas.length],
        perpetrator_ref: ref,
        victim_ref: `SIM-V-${ref.slice(6)}-1`,
        children_present: false,
      }),
    );
  const contactsOf = (ref: string, p: ParticipantRecord, part: Part) =>
    p.victimContacts
      .filter((c) => inPart(c.contactedAt, part))
      .map((c, k) =>
        contactRecordSchema.parse({
          source_ref: `SIM-C-${ref.slice(6)}-${part}-${k + 1}`,
          victim_ref: `SIM-V-${ref.slice(6)}-1`,
          contacted_at: c.contactedAt.toISOString(),
          perceived_risk: c.perceivedRisk,
          agency: 'idva',
        }),
      );
  const maracOf = (ref: string, p: ParticipantRecord, part: Part) =>
    p.maracFlagsStarted
      .filter((at) => inPart(at, part))
      .map((at) => flagRecordSchema.parse({ perpetrator_ref: ref, kind: 'marac', note: 'Demo: MARAC referral (simulated)', starts_on: localDateOf(at, settings.timeZone), ends_on: '' }));
  let incidents = 0;
  let contacts = 0;
  const write = async (records: IncidentRecord[], contactRows: ReturnType<typeof contactsOf>, flags: ReturnType<typeof maracOf>) => {
    incidents += records.length;
    contacts += contactRows.length;
    await db.prisma.$transaction(
      async (tx) => {
        await upsertIncidents(tx, records, db.labelKey);
        await upsertContacts(tx, contactRows, db.labelKey);
        await upsertFlags(tx, flags, db.labelKey, 'demo');
      },
      { timeout: 120_000 },
    );
  };
  await write(
    history.flatMap(({ ref, record }) => incidentsOf(ref, record, 'pre')),
    history.flatMap(({ ref, record }) => contactsOf(ref, record, 'pre')),
    history.flatMap(({ ref, record }) => maracOf(ref, record, 'pre')),
  );

  await createTrial(db, { name: demoTrialName, arms: 'treatment,control', seed: String(seed % 100_000), from: enrolledOn, levers: settings.levers }, actor);
  await enrolTrial(db, settings.scoring, settings.timeZone, { trial: demoTrialName, asOf: enrolledOn, top: enrolled }, actor);
  const allocations = await db.prisma.trialAllocation.findMany({ where: { trial: { name: demoTrialName } }, include: { nominal: { select: { ref: true } } }, orderBy: { id: 'asc' } });
  const pools = new Map<string, ParticipantRecord[]>();
  for (const p of simulated) pools.set(p.arm, [...(pools.get(p.arm) ?? []), p]);

  const exits: Array<{ ref: string; on: LocalDate }> = [];
  const followUp = allocations.flatMap((allocation) => {
    const source = pools.get(allocation.arm)?.shift();
    if (!source) return [];
    if (source.exitedOn && source.exitedOn <= today) exits.push({ ref: allocation.nominal.ref, on: source.exitedOn });
    return [{ ref: allocation.nominal.ref, record: source }];
  });
  await write(
    followUp.flatMap(({ ref, record }) => incidentsOf(ref, record, 'post')),
    followUp.flatMap(({ ref, record }) => contactsOf(ref, record, 'post')),
    followUp.flatMap(({ ref, record }) => maracOf(ref, record, 'post')),
  );
  await appendAuditMany(db.prisma, [{ actor, action: 'seed.trial', channel: 'cli', details: { trial: demoTrialName, incidents, contacts, trueRatio: demoTrueRatio } }]);
  const reasons = ['moved', 'custody', 'safety', 'other'] as const;
  for (const [k, exit] of exits.entries()) {
    await exitFromTrial(db, { trial: demoTrialName, ref: exit.ref, on: exit.on, reason: reasons[k % reasons.length]! }, actor);
  }
  return { trial: demoTrialName, enrolledOn, enrolled: allocations.length, incidents, contacts, exits: exits.length };
}
