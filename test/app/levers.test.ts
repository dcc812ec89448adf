// Levers on each database, as a trial runs them: a treated perpetrator's new incident puts a lever on the
// agenda (the tier the rule gives), overdue once its 72-hour target passes; control members' incidents
// leave no trace of the trial anywhere on the agenda; recording a lever is refused alike for control and
// for people in no trial, and a delivered one is stored with its rapidity, opens the victim's support
// contact and closes the lever's action; rapidity per tier; and the reminders an overdue lever sends.
// The tests run in order on one store: each step builds on the one before, as the days of a trial do.
// All records are synthetic and obviously fictional (TEST-P-…, TEST-V-…, TEST-INC-…).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorOf } from '../../src/app/actor.js';
import { buildAgenda } from '../../src/app/build-agenda.js';
import { createTrial } from '../../src/app/create-trial.js';
import { enrolTrial } from '../../src/app/enrol-trial.js';
import { exitFromTrial } from '../../src/app/leave-trial.js';
import { recordAction } from '../../src/app/record-action.js';
import { leverTiersFor, recordLever, type LeverRequest } from '../../src/app/record-lever.js';
import { planFor, runReminders, type ReminderDeps } from '../../src/app/send-reminders.js';
import { trialRapidity } from '../../src/app/trial-records.js';
import type { Agenda } from '../../src/domain/agenda.js';
import { defaultLeverConfig, leverConfigSchema, scriptVersionOf } from '../../src/domain/levers.js';
import { allocate } from '../../src/domain/randomisation.js';
import { incidentRecordSchema, type IncidentRecord } from '../../src/domain/records.js';
import { defaultReminderPolicy } from '../../src/domain/reminders.js';
import { defaultScoringConfig, scoringConfigHash } from '../../src/domain/scoring.js';
import type { ChatPlatform, DirectDelivery, OutgoingMessage, Recipient, ReminderView } from '../../src/ports.js';
import { manualClock } from '../../src/scheduler/clock.js';
import { treatedPerpetrators } from '../../src/store/levers-repository.js';
import { upsertIncidents } from '../../src/store/records-repository.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { testMeeting } from '../support/meetings.js';
import { baseTrialIncidents, eligibleInOrder, trialIncident } from '../support/trial-data.js';

const meeting = testMeeting();
const timeZone = meeting.timeZone;
const actor = actorOf('console', 'tester', null);
const scoring = { config: defaultScoringConfig, hash: scoringConfigHash(defaultScoringConfig), source: 'test' };
const trialName = 'test-levers';
/** Monday 9 March 2026: the trial enrols its top eight as of this day. */
const asOf = '2026-03-09';
const at = (iso: string) => new Date(iso);
const silent = pino({ level: 'silent' });
const versionOf = (tier: string) => scriptVersionOf(defaultLeverConfig.tiers.find((t) => t.tier === tier)!.script);

/** A chat platform that records each direct message. */
class RecordingChat implements ChatPlatform {
  readonly name = 'console' as const;
  sends: Array<{ memberId: number; view: ReminderView }> = [];
  agendaMessages(agenda: Agenda): OutgoingMessage[] {
    return [{ summary: agenda.meetingDate, payload: null }];
  }
  async post(): Promise<string> {
    return 'post-ref';
  }
  reminderMessage(reminder: ReminderView): OutgoingMessage {
    return { summary: reminder.heading, payload: reminder };
  }
  async sendDirect(recipient: Recipient, message: OutgoingMessage): Promise<DirectDelivery> {
    this.sends.push({ memberId: recipient.memberId, view: message.payload as ReminderView });
    return { ref: `dm-${this.sends.length}`, via: 'direct' };
  }
  to(memberId: number, kind: ReminderView['kind']) {
    return this.sends.filter((s) => s.memberId === memberId && s.view.kind === kind);
  }
}

interface Person {
  id: number;
  ref: string;
  label: string;
}

describe.each(databaseTargets)('levers on $name', (target) => {
  let db: TestDatabase;
  let chair: number;
  let idva: number;
  let police: number;
  let trialId: number;
  /** T1 and T2: treatment members with a new incident each; C1: a control member with two. */
  let t1: Person;
  let t2: Person;
  /** T3: a treatment member who exits. */
  let t3: Person;
  let c1: Person;
  let controls: Person[];
  let neverEnrolled: Person;
  let leverActionId: number;
  const incidentId = new Map<string, number>();
  const chat = new RecordingChat();

  const lever = (subject: string, fields: Partial<LeverRequest>, now: Date, key?: string) =>
    recordLever(db, meeting, actor, { subject, tier: 'C', mode: 'in-person', outcome: 'delivered', ...fields }, now, key);
  const deps = (now: Date): ReminderDeps => ({ db, chats: new Map([[meeting.platform, chat]]), clock: manualClock(now), log: silent, instanceId: 'test', policy: defaultReminderPolicy, concurrency: 2 });
  const addIncidents = async (records: IncidentRecord[]) => {
    await db.prisma.$transaction((tx) => upsertIncidents(tx, records, db.labelKey));
    for (const i of await db.prisma.incident.findMany({ where: { sourceRef: { in: records.map((r) => r.source_ref) } } })) incidentId.set(i.sourceRef, i.id);
  };
  const rec = (...args: Parameters<typeof trialIncident>) => incidentRecordSchema.parse(trialIncident(...args));

  beforeAll(async () => {
    db = await target.create();
    chair = (await db.prisma.member.create({ data: { slackUserId: 'U0TESTCHAIR', displayName: 'Test Chair', agency: 'police', role: 'chair' } })).id;
    idva = (await db.prisma.member.create({ data: { slackUserId: 'U0TESTIDVA', displayName: 'Test IDVA', agency: 'idva' } })).id;
    police = (await db.prisma.member.create({ data: { slackUserId: 'U0TESTPOLICE', displayName: 'Test Officer', agency: 'police' } })).id;
    await addIncidents(baseTrialIncidents.map((row) => incidentRecordSchema.parse(row)));

    const trial = await createTrial(db, { name: trialName, arms: 'treatment,control', seed: '20260309', from: asOf, levers: defaultLeverConfig }, 'cli:test-lead');
    trialId = trial.id;
    const outcome = await enrolTrial(db, scoring, timeZone, { trial: trialName, asOf, top: 8 }, 'cli:test-lead');
    expect(outcome).toMatchObject({ kind: 'enrolled', enrolled: 8 });
    // Who is in which arm, read back from the store.
    const rows = await db.prisma.trialAllocation.findMany({ include: { nominal: true } });
    const person = (r: (typeof rows)[number]): Person => ({ id: r.nominalId, ref: r.nominal.ref, label: r.nominal.label });
    const treated = rows.filter((r) => r.arm === 'treatment').map(person).sort((a, b) => (a.ref < b.ref ? -1 : 1));
    controls = rows.filter((r) => r.arm === 'control').map(person).sort((a, b) => (a.ref < b.ref ? -1 : 1));
    expect(treated.length).toBeGreaterThanOrEqual(3);
    expect(controls.length).toBeGreaterThanOrEqual(1);
    [t1, t2, t3] = treated as [Person, Person, Person];
    c1 = controls[0]!;
    const p101 = await db.prisma.nominal.findUniqueOrThrow({ where: { ref: 'TEST-P-101' } });
    neverEnrolled = { id: p101.id, ref: p101.ref, label: p101.label };

    // Tuesday 10 March, after enrolment: T1 a crime, T2 a non-crime, C1 one of each (standard risk).
    await addIncidents([
      rec('TEST-INC-L01', '2026-03-10T10:00:00Z', t1.ref, 'TEST-V-901', 'assault', true),
      rec('TEST-INC-L02', '2026-03-10T11:00:00Z', t2.ref, 'TEST-V-902', 'verbal argument', false),
      rec('TEST-INC-L03', '2026-03-10T12:00:00Z', c1.ref, 'TEST-V-903', 'criminal damage', true, { risk_level: 'standard' }),
      rec('TEST-INC-L04', '2026-03-10T13:00:00Z', c1.ref, 'TEST-V-904', 'threats', false, { risk_level: 'standard' }),
    ]);
    // The meeting agreed who delivers T1's lever (as the agenda's "Add action" button prefills it).
    const added = await recordAction(
      db,
      meeting,
      actor,
      { subject: 'TEST-INC-L01', ownerUserId: 'U0TESTPOLICE', due: '2026-03-12', text: 'Deliver lever C (face-to-face notice, in-person) after TEST-INC-L01' },
      at('2026-03-10T12:00:00Z'),
    );
    if (!added.ok) throw new Error(JSON.stringify(added.problems));
    leverActionId = Number(added.action.id.replace(/^A-/, ''));
  });
  afterAll(() => db.destroy());

  it('puts the rule’s tier on the next agenda for treatment, and nothing of the trial for control', async () => {
    // Wednesday 11 March: Tuesday 09:00 to Wednesday 09:00.
    const agenda = await buildAgenda(db, meeting, '2026-03-11');
    expect(agenda.flaggedPerpetrators.map((p) => p.ref).sort()).toEqual([t1.ref, t2.ref].sort());
    const p1 = agenda.flaggedPerpetrators.find((p) => p.ref === t1.ref)!;
    expect(p1.label).toBe(t1.label);
    expect(p1.flags).toEqual([{ kind: 'cohort', startsOn: asOf, endsOn: null }]);
    expect(p1.incidents.map((i) => i.ref)).toEqual(['TEST-INC-L01']);
    // The first crime since enrolment: tier C.
    expect(p1.leversDue).toEqual([{ tier: 'C', tierName: 'face-to-face notice', mode: 'in-person', incidentRef: 'TEST-INC-L01', dueBy: at('2026-03-13T10:00:00Z'), overdue: false }]);
    // A non-crime: tier D.
    const p2 = agenda.flaggedPerpetrators.find((p) => p.ref === t2.ref)!;
    expect(p2.flags.map((f) => f.kind)).toEqual(['cohort']);
    expect(p2.leversDue).toEqual([{ tier: 'D', tierName: 'letter', mode: 'letter', incidentRef: 'TEST-INC-L02', dueBy: at('2026-03-13T11:00:00Z'), overdue: false }]);
    expect(agenda.leversOverdue).toEqual([]);

    // Control: C1's two incidents are standard risk, so without the trial nothing about them would be on
    // the agenda; with it, nothing is either: no flag, no lever, not their label, ref or incidents.
    const json = JSON.stringify(agenda);
    expect(json).toContain(t1.label);
    for (const c of controls) {
      expect(json).not.toContain(c.label);
      expect(json).not.toContain(c.ref);
    }
    expect(json).not.toContain('TEST-INC-L03');
    expect(json).not.toContain('TEST-INC-L04');
    // Nor does the store hold any lever or flag for control that a later read could show.
    expect(await db.prisma.flag.count({ where: { perpetratorId: { in: controls.map((c) => c.id) } } })).toBe(0);
    expect((await treatedPerpetrators(db.prisma, { timeZone, until: at('2026-03-20T00:00:00Z') })).map((t) => t.ref)).not.toContain(c1.ref);
  });

  it('lists a lever as overdue once its 72-hour target has passed, and not before', async () => {
    // Friday 13 March's agenda runs to 09:00, before the 10:00 and 11:00 targets.
    expect((await buildAgenda(db, meeting, '2026-03-13')).leversOverdue).toEqual([]);
    // Monday 16 March: both past their targets, oldest first, each once.
    const monday = await buildAgenda(db, meeting, '2026-03-16');
    expect(monday.leversOverdue).toEqual([
      { ref: t1.ref, label: t1.label, tier: 'C', tierName: 'face-to-face notice', mode: 'in-person', incidentRef: 'TEST-INC-L01', dueBy: at('2026-03-13T10:00:00Z'), overdue: true },
      { ref: t2.ref, label: t2.label, tier: 'D', tierName: 'letter', mode: 'letter', incidentRef: 'TEST-INC-L02', dueBy: at('2026-03-13T11:00:00Z'), overdue: true },
    ]);
    for (const c of controls) expect(JSON.stringify(monday)).not.toContain(c.label);
  });

  it('reminds the lever action’s owner once, and lists both levers (owned or not) in the chairs’ digest', async () => {
    // Friday 13 March 11:30 GMT: working hours, both levers past their targets.
    const friday = at('2026-03-13T11:30:00Z');
    await runReminders(deps(friday), [meeting]);
    await runReminders(deps(friday), [meeting]);

    const toOwner = chat.to(police, 'lever');
    expect(toOwner).toHaveLength(1);
    expect(toOwner[0]!.view.heading).toMatch(/^A trial lever is past its target and not yet recorded:\n/);
    expect(toOwner[0]!.view.heading).toContain(`${t1.label}: lever C (face-to-face notice) after TEST-INC-L01 was due by Fri 13 Mar 10:00; OVERDUE`);
    expect(toOwner[0]!.view.heading).not.toContain('TEST-INC-L02');
    expect(toOwner[0]!.view.actions.map((a) => a.id)).toEqual([`A-${leverActionId}`]);
    // T2's lever has no action: no message of its own; the chairs see it in their digest.
    expect(chat.to(chair, 'lever')).toEqual([]);
    expect(chat.to(idva, 'lever')).toEqual([]);
    // The chairs' digest that day: one, naming both levers.
    const digest = chat.to(chair, 'digest');
    expect(digest).toHaveLength(1);
    expect(digest[0]!.view.heading).toContain('2 trial lever(s) past their target');
    expect(digest[0]!.view.heading).toContain(`${t1.label}: lever C (face-to-face notice) after TEST-INC-L01`);
    expect(digest[0]!.view.heading).toContain(`${t2.label}: lever D (letter) after TEST-INC-L02`);
    for (const s of chat.sends) for (const c of controls) expect(s.view.heading).not.toContain(c.label);

    // Until it is recorded, a later day's plan still holds the lever (the outbox sends it only once).
    const later = await planFor(db, meeting, at('2026-03-16T10:00:00Z'), defaultReminderPolicy);
    expect(later.filter((r) => r.kind === 'lever').map((r) => r.leverIncidentIds)).toEqual([[incidentId.get('TEST-INC-L01')]]);
    expect(later.filter((r) => r.kind === 'digest').map((r) => r.leverIncidentIds)).toEqual([[incidentId.get('TEST-INC-L01'), incidentId.get('TEST-INC-L02')].sort((a, b) => a! - b!)]);
  });

  it('refuses a lever for a control member and for someone in no trial with the same words, audited, and records nothing', async () => {
    const now = at('2026-03-13T14:00:00Z');
    const refusedBefore = await db.prisma.auditEvent.count({ where: { action: 'lever.refused' } });
    const control = await lever(c1.label, { tier: 'D', mode: 'letter' }, now);
    const nobody = await lever(neverEnrolled.label, { tier: 'D', mode: 'letter' }, now);
    const byIncident = await lever('TEST-INC-L03', { tier: 'C' }, now);
    expect(control.ok).toBe(false);
    expect(nobody.ok).toBe(false);
    expect(byIncident.ok).toBe(false);
    expect(control.message).toBe(`${c1.label} is not in a trial's treatment arm, so no lever may be recorded for them: it would break the trial. Nothing was recorded.`);
    expect(nobody.message.replace(neverEnrolled.label, '<label>')).toBe(control.message.replace(c1.label, '<label>'));
    expect(byIncident.message).toBe(control.message);
    const refused = await db.prisma.auditEvent.findMany({ where: { action: 'lever.refused' }, orderBy: { id: 'asc' } });
    expect(refused.length - refusedBefore).toBe(3);
    expect(refused.slice(-3).map((e) => e.subject)).toEqual([c1.label, neverEnrolled.label, c1.label]);
    expect(refused.slice(-3).every((e) => e.actor === 'console:tester' && e.channel === meeting.key)).toBe(true);
    expect(await db.prisma.leverDelivery.count()).toBe(0);
  });

  it('refuses an unknown script version (naming the versions there are) and a tier the trial does not have', async () => {
    const now = at('2026-03-13T14:00:00Z');
    const script = await lever(t1.label, { tier: 'C', script: 'zzzz' }, now);
    expect(script).toEqual({ ok: false, message: `Script version zzzz of tier C does not exist; its versions are ${versionOf('C')}. Nothing was recorded.` });
    const tier = await lever(t1.label, { tier: 'Z' }, now);
    expect(tier).toEqual({ ok: false, message: "Tier Z is not one of this trial's tiers (D letter, C face-to-face notice, B call-in, A enforcement). Nothing was recorded." });
    expect(await db.prisma.leverDelivery.count()).toBe(0);
    expect(await db.prisma.action.findUniqueOrThrow({ where: { id: leverActionId } })).toMatchObject({ status: 'open' });
  });

  it('records a delivered lever: its rapidity, the victim’s support contact, and the lever’s action closed', async () => {
    // Friday 13 March 14:15 GMT: 76.25 hours after TEST-INC-L01 was reported (Tuesday 10:00).
    const now = at('2026-03-13T14:15:00Z');
    const result = await lever(t1.label, { tier: 'C', mode: 'in-person', script: versionOf('C').slice(0, 6) }, now);
    if (!result.ok) throw new Error(result.message);
    expect(result.repeated).toBe(false);
    expect(result.message).toMatch(/tier C \(face-to-face notice\) delivered in person .* after TEST-INC-L01 .*76\.25 hours later, OVER the 72-hour target/);

    const rows = await db.prisma.leverDelivery.findMany();
    expect(rows).toHaveLength(1);
    const delivery = rows[0]!;
    expect(delivery).toMatchObject({
      trialId,
      nominalId: t1.id,
      incidentId: incidentId.get('TEST-INC-L01'),
      tier: 'C',
      scriptVersion: versionOf('C'),
      mode: 'in-person',
      outcome: 'delivered',
      deliveredBy: 'console:tester',
      deliveredAt: now,
      rapidityHours: 76.25,
      idempotencyKey: null,
    });
    const reportedAt = (await db.prisma.incident.findUniqueOrThrow({ where: { id: delivery.incidentId } })).reportedAt;
    expect(delivery.rapidityHours).toBe((now.getTime() - reportedAt.getTime()) / 3_600_000);

    // The victim's support contact: an idva action, due the next working day (Monday 16 March).
    expect(delivery.victimActionId).not.toBeNull();
    const victimAction = await db.prisma.action.findUniqueOrThrow({ where: { id: delivery.victimActionId! } });
    expect(victimAction).toMatchObject({ ownerId: idva, agency: 'idva', status: 'open', incidentId: incidentId.get('TEST-INC-L01'), nominalId: t1.id, meetingKey: meeting.key });
    expect(victimAction.text).toBe(`Contact the victim: lever C (face-to-face notice) was delivered to ${t1.label} after TEST-INC-L01`);
    expect(victimAction.dueOn.toISOString().slice(0, 10)).toBe('2026-03-16');
    expect(result.victimAction?.id).toBe(`A-${victimAction.id}`);

    // The "Deliver lever" action is done, with its history.
    const closed = await db.prisma.action.findUniqueOrThrow({ where: { id: leverActionId }, include: { updates: true } });
    expect(closed).toMatchObject({ status: 'done', closedAt: now, closedNote: `lever L-${delivery.id} delivered` });
    expect(closed.updates.sort((a, b) => a.id - b.id).map((u) => [u.kind, u.note])).toEqual([
      ['created', ''],
      ['done', `lever L-${delivery.id} delivered`],
    ]);
    const audit = await db.prisma.auditEvent.findMany({ where: { action: 'lever.record' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ subject: t1.label, details: { delivery: delivery.id, trial: trialName, tier: 'C', incident: 'TEST-INC-L01', hours: 76.25 } });

    // No longer due: not on the next agenda, not overdue.
    const wednesday = await buildAgenda(db, meeting, '2026-03-11');
    const p1 = wednesday.flaggedPerpetrators.find((p) => p.ref === t1.ref)!;
    expect(p1.leversDue).toBeUndefined();
    expect(wednesday.flaggedPerpetrators.find((p) => p.ref === t2.ref)!.leversDue?.map((l) => l.tier)).toEqual(['D']);
    expect((await buildAgenda(db, meeting, '2026-03-16')).leversOverdue?.map((l) => l.incidentRef)).toEqual(['TEST-INC-L02']);

    // Again: nothing is due any more.
    expect(await lever(t1.label, { tier: 'C' }, at('2026-03-13T15:00:00Z'))).toEqual({
      ok: false,
      message: `No lever is due for ${t1.label}: every incident since enrolment has had its lever. Nothing was recorded.`,
    });
    expect(await lever(t1.label, { tier: 'C', incident: 'TEST-INC-L01' }, at('2026-03-13T15:00:00Z'))).toEqual({
      ok: false,
      message: `No lever is due for ${t1.label} after TEST-INC-L01: it is not their incident since enrolment, or its lever was already given. Nothing was recorded.`,
    });
    expect(await db.prisma.leverDelivery.count()).toBe(1);
  });

  it('keeps a lever due after a not-found attempt, and records one delivery for one idempotency key', async () => {
    const notFound = await lever(t2.label, { tier: 'D', mode: 'letter', outcome: 'not-found' }, at('2026-03-11T09:00:00Z'));
    if (!notFound.ok) throw new Error(notFound.message);
    expect(notFound.message).toMatch(/The lever is still due: the notification was not given\./);
    expect(notFound.victimAction).toBeUndefined();
    const attempt = await db.prisma.leverDelivery.findFirstOrThrow({ where: { nominalId: t2.id } });
    expect(attempt).toMatchObject({ outcome: 'not-found', tier: 'D', victimActionId: null, rapidityHours: 22 });
    // Still due on the agenda, and still overdue after its target.
    expect((await buildAgenda(db, meeting, '2026-03-11')).flaggedPerpetrators.find((p) => p.ref === t2.ref)!.leversDue?.map((l) => l.incidentRef)).toEqual(['TEST-INC-L02']);
    expect((await buildAgenda(db, meeting, '2026-03-16')).leversOverdue?.map((l) => l.incidentRef)).toEqual(['TEST-INC-L02']);
    expect(await db.prisma.action.count({ where: { nominalId: t2.id, text: { startsWith: 'Contact the victim' } } })).toBe(0);

    // Thursday 12 March 09:45: 46.75 hours after Tuesday 11:00. The same request twice records once.
    const now = at('2026-03-12T09:45:00Z');
    const first = await lever(t2.label, { tier: 'D', mode: 'letter', incident: 'TEST-INC-L02' }, now, 'test-lever-key-1');
    const second = await lever(t2.label, { tier: 'D', mode: 'letter', incident: 'TEST-INC-L02' }, now, 'test-lever-key-1');
    if (!first.ok || !second.ok) throw new Error(`${first.message} / ${second.message}`);
    expect(first.repeated).toBe(false);
    expect(second.repeated).toBe(true);
    const delivered = await db.prisma.leverDelivery.findMany({ where: { nominalId: t2.id, outcome: 'delivered' } });
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ idempotencyKey: 'test-lever-key-1', rapidityHours: 46.75 });
    expect(second.message).toBe(`That lever was already recorded (L-${delivered[0]!.id}).`);
    expect(await db.prisma.leverDelivery.count({ where: { idempotencyKey: 'test-lever-key-1' } })).toBe(1);
    expect(await db.prisma.action.count({ where: { nominalId: t2.id, text: { startsWith: 'Contact the victim' } } })).toBe(1);
    expect((await buildAgenda(db, meeting, '2026-03-16')).leversOverdue).toEqual([]);
  });

  it('reports rapidity per tier: median and 90th percentile hours of delivered levers', async () => {
    // More incidents since enrolment: two non-crimes for T2 (tier D) and T1's second crime (tier B).
    await addIncidents([
      rec('TEST-INC-L05', '2026-03-16T10:00:00Z', t2.ref, 'TEST-V-902', 'harassment', false),
      rec('TEST-INC-L06', '2026-03-17T08:00:00Z', t2.ref, 'TEST-V-902', 'verbal argument', false),
      rec('TEST-INC-L07', '2026-03-17T09:00:00Z', t1.ref, 'TEST-V-901', 'assault', true),
    ]);
    const [due1] = await treatedPerpetrators(db.prisma, { timeZone, until: at('2026-03-18T00:00:00Z'), nominalIds: [t1.id] });
    expect(due1!.due.map((d) => [d.incidentRef, d.tier])).toEqual([['TEST-INC-L07', 'B']]);

    const record = async (label: string, fields: Partial<LeverRequest>, now: string) => {
      const result = await lever(label, fields, at(now));
      if (!result.ok) throw new Error(result.message);
    };
    await record(t2.label, { tier: 'D', mode: 'letter', incident: 'TEST-INC-L05' }, '2026-03-16T20:00:00Z'); // 10 h
    await record(t2.label, { tier: 'D', mode: 'letter', incident: 'TEST-INC-L06' }, '2026-03-20T12:00:00Z'); // 76 h
    await record(t1.label, { tier: 'B', mode: 'call-in', incident: 'TEST-INC-L07' }, '2026-03-18T15:30:00Z'); // 30.5 h

    const report = await trialRapidity(db, trialName, timeZone, at('2026-03-23T10:00:00Z'), 'cli:test-lead');
    expect(report).toMatchObject({ trial: trialName, targetHours: 72, due: 0, overdue: 0 });
    // D: 10, 46.75, 76 (the not-found attempt is not a delivery); C: 76.25; B: 30.5; A: none.
    // Quantiles interpolate linearly between order statistics (type 7): the 90th of three is at
    // position 0.9 × 2 = 1.8, so 46.75 + 0.8 × (76 − 46.75) = 70.15.
    expect(report.tiers[0]!.p90Hours).toBeCloseTo(70.15, 9);
    expect(report.tiers).toEqual([
      { tier: 'D', deliveries: 3, medianHours: 46.75, p90Hours: report.tiers[0]!.p90Hours, withinTarget: 2 },
      { tier: 'C', deliveries: 1, medianHours: 76.25, p90Hours: 76.25, withinTarget: 0 },
      { tier: 'B', deliveries: 1, medianHours: 30.5, p90Hours: 30.5, withinTarget: 1 },
      { tier: 'A', deliveries: 0, medianHours: null, p90Hours: null, withinTarget: 0 },
    ]);
    // While one is outstanding the report counts it as due, and overdue once past its target.
    await addIncidents([rec('TEST-INC-L08', '2026-03-23T08:00:00Z', t2.ref, 'TEST-V-902', 'threats', false)]);
    expect(await trialRapidity(db, trialName, timeZone, at('2026-03-23T10:00:00Z'), 'cli:test-lead')).toMatchObject({ due: 1, overdue: 0 });
    expect(await trialRapidity(db, trialName, timeZone, at('2026-03-26T10:00:00Z'), 'cli:test-lead')).toMatchObject({ due: 1, overdue: 1 });
    await record(t2.label, { tier: 'D', mode: 'letter', incident: 'TEST-INC-L08' }, '2026-03-23T09:00:00Z'); // 1 h
    const after = await trialRapidity(db, trialName, timeZone, at('2026-03-26T10:00:00Z'), 'cli:test-lead');
    expect(after).toMatchObject({ due: 0, overdue: 0 });
    // D: 1, 10, 46.75, 76 → median (10 + 46.75) / 2; the 90th at position 2.7: 46.75 + 0.7 × 29.25.
    expect(after.tiers[0]).toMatchObject({ tier: 'D', deliveries: 4, medianHours: 28.375, withinTarget: 3 });
    expect(after.tiers[0]!.p90Hours).toBeCloseTo(67.225, 9);
  });

  it('sends no lever reminder on a new day once every lever is recorded', async () => {
    const tuesday = at('2026-03-24T10:00:00Z');
    const plan = await planFor(db, meeting, tuesday, defaultReminderPolicy);
    expect(plan.filter((r) => r.kind === 'lever')).toEqual([]);
    expect(plan.filter((r) => r.leverIncidentIds?.length)).toEqual([]);
    const sentBefore = chat.sends.length;
    await runReminders(deps(tuesday), [meeting]);
    const sent = chat.sends.slice(sentBefore);
    expect(sent.filter((s) => s.view.kind === 'lever')).toEqual([]);
    for (const s of sent) expect(s.view.heading).not.toMatch(/trial lever/);
  });

  it('makes levers due up to the end of the exit day only, and refuses a lever after it', async () => {
    await exitFromTrial(db, { trial: trialName, ref: t3.ref, on: '2026-03-25', reason: 'custody' }, 'cli:test-lead');
    // 20:00 GMT on the exit day counts; half past midnight the next day does not.
    await addIncidents([
      rec('TEST-INC-L09', '2026-03-25T20:00:00Z', t3.ref, 'TEST-V-909', 'threats', false),
      rec('TEST-INC-L10', '2026-03-26T00:30:00Z', t3.ref, 'TEST-V-909', 'assault', true),
    ]);
    const [treated] = await treatedPerpetrators(db.prisma, { timeZone, until: at('2026-03-27T12:00:00Z'), nominalIds: [t3.id] });
    expect(treated!.due.map((d) => [d.incidentRef, d.tier])).toEqual([['TEST-INC-L09', 'D']]);
    // The cohort flag ended on the exit day, so the next day's agenda does not show them at all.
    const thursday = await buildAgenda(db, meeting, '2026-03-26');
    expect(JSON.stringify(thursday)).not.toContain(t3.label);

    const after = await lever(t3.label, { tier: 'D', mode: 'letter', incident: 'TEST-INC-L09' }, at('2026-03-26T10:00:00Z'));
    expect(after).toEqual({ ok: false, message: `${t3.label} left the trial on 2026-03-25; no lever may be recorded for them now. Nothing was recorded.` });
    expect(await db.prisma.leverDelivery.count({ where: { nominalId: t3.id } })).toBe(0);
    // On the exit day itself it may still be recorded.
    const sameDay = await lever(t3.label, { tier: 'D', mode: 'letter', incident: 'TEST-INC-L09' }, at('2026-03-25T21:00:00Z'));
    expect(sameDay.ok).toBe(true);
    expect(await db.prisma.leverDelivery.findFirstOrThrow({ where: { nominalId: t3.id } })).toMatchObject({ tier: 'D', rapidityHours: 1 });
  });

  it('offers a control member the same lever tiers as someone in no trial (the form must not tell them apart)', async () => {
    // A second trial with its own lever protocol, enrolling the next two eligible people (TEST-P-012 and TEST-P-005).
    const custom = leverConfigSchema.parse({
      tiers: [{ tier: 'E', name: 'test notice', mode: 'letter', script: 'TEST SCRIPT: an illustrative notice for a fictional trial.' }],
      rule: { non_crime: 'E', crimes: ['E'] },
    });
    await createTrial(db, { name: 'test-levers-custom', arms: 'treatment,control', seed: '20260309', from: asOf, levers: custom }, 'cli:test-lead');
    await enrolTrial(db, scoring, timeZone, { trial: 'test-levers-custom', asOf, top: 2 }, 'cli:test-lead');
    const rows = await db.prisma.trialAllocation.findMany({ where: { trial: { name: 'test-levers-custom' } }, include: { nominal: true } });
    expect(rows.map((r) => r.nominal.ref).sort()).toEqual(eligibleInOrder.slice(8, 10).sort());
    const expected = allocate({ seed: 20260309, phase: 1, arms: [{ name: 'treatment', ratio: 1 }, { name: 'control', ratio: 1 }], candidates: rows.map((r) => ({ ref: r.nominal.ref, stratum: 'all' })) });
    expect(rows.map((r) => r.arm).sort()).toEqual(expected.map((a) => a.arm).sort());
    const control = rows.find((r) => r.arm === 'control');
    expect(control, 'seed 20260309 gives this trial a control member').toBeDefined();

    const forNobody = await leverTiersFor(db, neverEnrolled.label);
    expect(forNobody.map((t) => t.tier)).toEqual(['D', 'C', 'B', 'A']);
    expect(await leverTiersFor(db, control!.nominal.label)).toEqual(forNobody);
  });
});
