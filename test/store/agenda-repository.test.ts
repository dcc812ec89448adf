// The agenda's selection on each database: which incidents, people, actions and panels a day's agenda holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgenda } from '../../src/app/build-agenda.js';
import { NotAWorkingDayError } from '../../src/domain/agenda-window.js';
import { flagRecordSchema, incidentRecordSchema } from '../../src/domain/records.js';
import { upsertFlags, upsertIncidents } from '../../src/store/records-repository.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { testMeeting } from '../support/meetings.js';

const meeting = testMeeting();

function incident(ref: string, reportedAt: string, fields: Partial<Record<string, string>> = {}) {
  return incidentRecordSchema.parse({
    source_ref: ref,
    reported_at: reportedAt,
    occurred_at: '',
    risk_level: 'high',
    category: 'assault',
    area: 'Test Area North',
    perpetrator_ref: 'TEST-P-1',
    victim_ref: 'TEST-V-1',
    children_present: 'false',
    ...fields,
  });
}

describe.each(databaseTargets)('agenda selection on $name', (target) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await target.create();
    // Monday 2 March 2026's window: Friday 27 Feb 09:00 GMT to Monday 2 Mar 09:00 GMT.
    const incidents = [
      incident('TEST-INC-BEFORE', '2026-02-27T08:59:59Z', { victim_ref: 'TEST-V-2' }),
      incident('TEST-INC-AT-START', '2026-02-27T09:00:00Z', { victim_ref: 'TEST-V-2' }),
      incident('TEST-INC-SUNDAY', '2026-03-01T14:00:00Z', { perpetrator_ref: 'TEST-P-2', victim_ref: 'TEST-V-3', children_present: 'true' }),
      incident('TEST-INC-SATURDAY', '2026-02-28T10:00:00+00:00', { area: 'Test Area South', victim_ref: 'TEST-V-2' }),
      incident('TEST-INC-AT-END', '2026-03-02T09:00:00Z', { victim_ref: 'TEST-V-2' }),
      incident('TEST-INC-MEDIUM', '2026-02-28T11:00:00Z', { risk_level: 'medium', perpetrator_ref: 'TEST-P-3', victim_ref: 'TEST-V-4' }),
      incident('TEST-INC-UNFLAGGED', '2026-02-28T12:00:00Z', { risk_level: 'standard', perpetrator_ref: 'TEST-P-4', victim_ref: 'TEST-V-4' }),
      incident('TEST-INC-OLD-1', '2025-04-01T12:00:00Z', { risk_level: 'standard', perpetrator_ref: 'TEST-P-5', victim_ref: 'TEST-V-3' }),
      incident('TEST-INC-OLD-2', '2025-03-02T09:00:00Z', { risk_level: 'standard', perpetrator_ref: 'TEST-P-5', victim_ref: 'TEST-V-3' }),
      incident('TEST-INC-TOO-OLD', '2025-03-02T08:59:59Z', { risk_level: 'standard', perpetrator_ref: 'TEST-P-5', victim_ref: 'TEST-V-4' }),
    ];
    const flags = [
      { perpetrator_ref: 'TEST-P-3', kind: 'iom', note: '', starts_on: '2026-01-01', ends_on: '' },
      { perpetrator_ref: 'TEST-P-3', kind: 'bail', note: '', starts_on: '2026-03-02', ends_on: '2026-03-02' },
      { perpetrator_ref: 'TEST-P-4', kind: 'order', note: '', starts_on: '2025-01-01', ends_on: '2026-03-01' },
      { perpetrator_ref: 'TEST-P-1', kind: 'marac', note: '', starts_on: '2026-03-03', ends_on: '' },
      { perpetrator_ref: 'TEST-P-2', kind: 'matac', note: '', starts_on: '2026-02-01', ends_on: '' },
    ].map((f) => flagRecordSchema.parse(f));
    await db.prisma.$transaction(async (tx) => {
      await upsertIncidents(tx, incidents, db.labelKey);
      await upsertFlags(tx, flags, db.labelKey, 'test');
    });
    const owner = await db.prisma.member.create({ data: { slackUserId: 'U0TESTOWNER', displayName: 'Test Owner', agency: 'idva' } });
    const action = (text: string, dueOn: string, status: 'open' | 'done' = 'open', meetingKey = meeting.key) =>
      db.prisma.action.create({ data: { meetingKey, text, ownerId: owner.id, agency: 'idva', dueOn: new Date(`${dueOn}T00:00:00Z`), status, createdBy: 'test' } });
    await action('overdue', '2026-02-26');
    await action('due today', '2026-03-02');
    await action('due tomorrow', '2026-03-03');
    await action('closed', '2026-02-20', 'done');
    await action('other meeting', '2026-02-20', 'open', 'slack:C0OTHER');
    const panel = (title: string, startsAt: string) => db.prisma.panel.create({ data: { meetingKey: meeting.key, kind: 'monthly_review', title, startsAt: new Date(startsAt), createdBy: 'test' } });
    await panel('before the meeting', '2026-03-02T08:00:00Z');
    await panel('this week', '2026-03-05T10:00:00Z');
    await panel('in a fortnight', '2026-03-16T10:00:00Z');
  });
  afterAll(() => db.destroy());

  it('lists new high-risk incidents in the window, oldest first, an incident at a cutoff in the later window', async () => {
    const agenda = await buildAgenda(db, meeting, '2026-03-02');
    expect(agenda.window.start.toISOString()).toBe('2026-02-27T09:00:00.000Z');
    expect(agenda.window.end.toISOString()).toBe('2026-03-02T09:00:00.000Z');
    expect(agenda.highRiskIncidents.map((i) => i.ref)).toEqual(['TEST-INC-AT-START', 'TEST-INC-SATURDAY', 'TEST-INC-SUNDAY']);
    const tuesday = await buildAgenda(db, meeting, '2026-03-03');
    expect(tuesday.highRiskIncidents.map((i) => i.ref)).toEqual(['TEST-INC-AT-END']);
  });

  it('gives each incident the people as labels, active flags, the victim count and children present', async () => {
    const agenda = await buildAgenda(db, meeting, '2026-03-02');
    const sunday = agenda.highRiskIncidents.find((i) => i.ref === 'TEST-INC-SUNDAY')!;
    const labels = await db.prisma.nominal.findMany({ where: { ref: { in: ['TEST-P-2', 'TEST-V-3'] } } });
    expect(sunday.perpetrator).toEqual({ ref: 'TEST-P-2', label: labels.find((l) => l.ref === 'TEST-P-2')!.label, activeFlags: ['matac'] });
    // Two older incidents within 365 days of the cutoff (one exactly 365 days before), plus this one.
    expect(sunday.victim).toMatchObject({ ref: 'TEST-V-3', incidentsLast365Days: 3 });
    expect(sunday.childrenPresent).toBe(true);
    // TEST-P-1's MARAC flag starts the day after.
    expect(agenda.highRiskIncidents.find((i) => i.ref === 'TEST-INC-AT-START')!.perpetrator.activeFlags).toEqual([]);
  });

  it('lists flagged perpetrators with any incident in the window, by flags active on the meeting day', async () => {
    const agenda = await buildAgenda(db, meeting, '2026-03-02');
    // TEST-P-3: IOM, and bail starting and ending that day; TEST-P-4's order ended the day before.
    expect(agenda.flaggedPerpetrators.map((p) => [p.ref, p.flags.map((f) => f.kind)])).toEqual([
      ['TEST-P-3', ['bail', 'iom']],
      ['TEST-P-2', ['matac']],
    ]);
    expect(agenda.flaggedPerpetrators[0]!.incidents.map((i) => i.ref)).toEqual(['TEST-INC-MEDIUM']);
  });

  it('lists repeat victims: 3 or more incidents in the 365 days before the cutoff, one of them in the window', async () => {
    const agenda = await buildAgenda(db, meeting, '2026-03-02');
    // Equal counts are ordered by label, which differs from store to store.
    expect(agenda.repeatVictims.map((v) => [v.ref, v.incidentsLast365Days, v.incidentsInWindow]).sort()).toEqual([
      ['TEST-V-2', 3, 2],
      ['TEST-V-3', 3, 1],
    ]);
    // TEST-V-4 has 2 in the year (the third is just over 365 days before the cutoff).
    expect(agenda.repeatVictims.find((v) => v.ref === 'TEST-V-4')).toBeUndefined();
  });

  it('lists open actions due before the next working day, overdue ones marked, of this meeting only', async () => {
    const agenda = await buildAgenda(db, meeting, '2026-03-02');
    expect(agenda.actionsDue.map((a) => [a.text, a.overdue])).toEqual([
      ['overdue', true],
      ['due today', false],
    ]);
    expect(agenda.actionsDue[0]).toMatchObject({ id: expect.stringMatching(/^A-\d+$/), owner: { agency: 'idva', slackUserId: 'U0TESTOWNER' } });
    // Friday's agenda takes in what falls due over the weekend.
    const friday = await buildAgenda(db, meeting, '2026-02-27');
    expect(friday.actionsDue.map((a) => a.text)).toEqual(['overdue']);
  });

  it('lists panels in the 7 days after the meeting', async () => {
    const agenda = await buildAgenda(db, meeting, '2026-03-02');
    expect(agenda.panels.map((p) => p.title)).toEqual(['this week']);
  });

  it("keeps to a meeting's areas when it has some", async () => {
    const south = await buildAgenda(db, testMeeting({ areas: ['Test Area South'] }), '2026-03-02');
    expect(south.highRiskIncidents.map((i) => i.ref)).toEqual(['TEST-INC-SATURDAY']);
    expect(south.flaggedPerpetrators).toEqual([]);
  });

  it('refuses a day with no meeting and names the next', async () => {
    await expect(buildAgenda(db, meeting, '2026-02-28')).rejects.toThrow(NotAWorkingDayError);
    await expect(buildAgenda(db, meeting, '2026-04-03')).rejects.toMatchObject({ nextWorkingDay: '2026-04-07' });
  });
});
