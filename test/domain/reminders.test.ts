// Reminder planning at many instants, for a meeting in Europe/London on the England-and-Wales calendar:
// who is reminded before a panel (5 and 1 working days ahead), who is nudged about overdue actions,
// when chairs get the digest, and that nothing goes out at night, at weekends or on bank holidays.
// Dates used (2026): Mon 2 Mar – Fri 6 Mar, Mon 9 Mar – Fri 13 Mar are working weeks (GMT); clocks
// go forward on Sun 29 Mar; Good Friday is Fri 3 Apr and Easter Monday is Mon 6 Apr.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { workingCalendar, type LocalDate } from '../../src/domain/calendar.js';
import {
  defaultReminderPolicy,
  inWorkingHours,
  planReminders,
  type PlanAction,
  type PlanPanel,
  type PlannedReminder,
  type ReminderInputs,
} from '../../src/domain/reminders.js';

const timeZone = 'Europe/London';
const calendar = workingCalendar('england-and-wales');
const policy = defaultReminderPolicy;

const OWNER_A = 11;
const OWNER_B = 12;
const OWNER_C = 13;
const CHAIR_1 = 1;
const CHAIR_2 = 2;

function action(id: number, ownerId: number, dueOn: LocalDate, more: Partial<PlanAction> = {}): PlanAction {
  return { id, ownerId, dueOn, snoozedUntil: null, lastNudgedOn: null, ...more };
}

/** No chairs unless a test is about the digest, so other plans stay free of it. */
function plan(now: string, over: Partial<Omit<ReminderInputs, 'now'>> = {}): PlannedReminder[] {
  return planReminders({ now: new Date(now), timeZone, calendar, policy, panels: [], openActions: [], chairIds: [], ...over });
}

const keys = (p: PlannedReminder[]) => p.map((r) => r.key);
/** Key → recipient and action ids: what each reminder says to whom. */
const summary = (p: PlannedReminder[]) => p.map((r) => ({ key: r.key, to: r.recipientId, actions: r.actionIds }));

// ---- before a panel on Tuesday 10 March 2026, 10:00 GMT ----

describe('reminders before a panel on Tuesday 10 March 2026', () => {
  const panel: PlanPanel = { id: 7, startsAt: new Date('2026-03-10T10:00:00Z') };
  const actions = [
    action(1, OWNER_A, '2026-03-09'), // the day before the panel: included
    action(2, OWNER_A, '2026-03-10'), // on the panel day: included
    action(3, OWNER_B, '2026-03-10'),
    action(4, OWNER_C, '2026-03-11'), // after the panel: not included
  ];
  const at = (now: string) => plan(now, { panels: [panel], openActions: actions });

  it('reminds each owner once, with all their due actions, on Tuesday 3 March (5 working days before)', () => {
    expect(summary(at('2026-03-03T10:00:00Z'))).toEqual([
      { key: 'panel:7:before:5:to:11', to: OWNER_A, actions: [1, 2] },
      { key: 'panel:7:before:5:to:12', to: OWNER_B, actions: [3] },
    ]);
    const [first] = at('2026-03-03T10:00:00Z');
    expect(first).toEqual({
      key: 'panel:7:before:5:to:11',
      kind: 'panel',
      recipientId: OWNER_A,
      actionIds: [1, 2],
      day: '2026-03-03',
      panelId: 7,
      daysBefore: 5,
    });
  });

  it('reminds again on Monday 9 March (1 working day before)', () => {
    expect(summary(at('2026-03-09T10:00:00Z'))).toEqual([
      { key: 'panel:7:before:1:to:11', to: OWNER_A, actions: [1, 2] },
      { key: 'panel:7:before:1:to:12', to: OWNER_B, actions: [3] },
    ]);
    expect(at('2026-03-09T10:00:00Z').every((r) => r.daysBefore === 1 && r.day === '2026-03-09')).toBe(true);
  });

  it('plans nothing on Monday 2 March, before the 5-day reminder is due', () => {
    expect(at('2026-03-02T10:00:00Z')).toEqual([]);
    expect(at('2026-03-02T17:59:59Z')).toEqual([]);
  });

  it('leaves out an action due after the panel, and its owner, altogether', () => {
    for (const now of ['2026-03-03T10:00:00Z', '2026-03-06T10:00:00Z', '2026-03-09T10:00:00Z']) {
      const p = at(now);
      expect(p.flatMap((r) => r.actionIds)).not.toContain(4);
      expect(p.map((r) => r.recipientId)).not.toContain(OWNER_C);
    }
  });

  it('includes an action due the day before the panel', () => {
    const only = plan('2026-03-09T10:00:00Z', { panels: [panel], openActions: [action(1, OWNER_A, '2026-03-09')] });
    expect(summary(only)).toEqual([{ key: 'panel:7:before:1:to:11', to: OWNER_A, actions: [1] }]);
  });

  it('keeps planning the 5-day reminder (same key) until the 1-day reminder is due, so a missed day is sent late', () => {
    // The bot was down all of Tuesday 3 March: Wednesday still plans `before:5` (late beats none).
    for (const now of ['2026-03-04T08:00:00Z', '2026-03-05T12:00:00Z', '2026-03-06T17:59:00Z']) {
      expect(keys(at(now))).toEqual(['panel:7:before:5:to:11', 'panel:7:before:5:to:12']);
    }
    // Once the 1-day day has come, only `before:1` (never both).
    expect(keys(at('2026-03-09T08:00:00Z'))).toEqual(['panel:7:before:1:to:11', 'panel:7:before:1:to:12']);
  });

  it('on the panel morning itself, before it starts, still sends the 1-day reminder late; after it starts, nothing for it', () => {
    // 08:30 on Tuesday 10 March: action 1 (due Monday) is now overdue as well.
    expect(summary(at('2026-03-10T08:30:00Z'))).toEqual([
      { key: 'panel:7:before:1:to:11', to: OWNER_A, actions: [1, 2] },
      { key: 'panel:7:before:1:to:12', to: OWNER_B, actions: [3] },
      { key: 'nudge:2026-03-10:to:11', to: OWNER_A, actions: [1] },
    ]);
    expect(keys(at('2026-03-10T10:00:00Z'))).toEqual(['nudge:2026-03-10:to:11']);
  });

  it('ignores a panel more than 5 working days away', () => {
    expect(at('2026-02-27T10:00:00Z')).toEqual([]);
  });
});

describe('which day is "n working days before" a panel', () => {
  const ownerAction = (dueOn: LocalDate) => [action(1, OWNER_A, dueOn)];

  it('for a panel on Monday 9 March: 1 working day before is Friday 6 March, 5 before is Monday 2 March', () => {
    const panel: PlanPanel = { id: 9, startsAt: new Date('2026-03-09T10:00:00Z') };
    const at = (now: string) => keys(plan(now, { panels: [panel], openActions: ownerAction('2026-03-09') }));
    expect(at('2026-02-27T10:00:00Z')).toEqual([]); // Friday 27 Feb: 6 working days before
    expect(at('2026-03-02T10:00:00Z')).toEqual(['panel:9:before:5:to:11']);
    expect(at('2026-03-05T10:00:00Z')).toEqual(['panel:9:before:5:to:11']);
    expect(at('2026-03-06T10:00:00Z')).toEqual(['panel:9:before:1:to:11']);
    expect(at('2026-03-07T10:00:00Z')).toEqual([]); // Saturday
    expect(at('2026-03-08T10:00:00Z')).toEqual([]); // Sunday
  });

  it('for a panel on Tuesday 7 April, after Easter: 1 working day before is Thursday 2 April, 5 before is Friday 27 March', () => {
    const panel: PlanPanel = { id: 21, startsAt: new Date('2026-04-07T09:00:00Z') }; // 10:00 BST
    expect(calendar.addWorkingDays('2026-04-07', -1)).toBe('2026-04-02');
    expect(calendar.addWorkingDays('2026-04-07', -5)).toBe('2026-03-27');
    const at = (now: string) => keys(plan(now, { panels: [panel], openActions: ownerAction('2026-04-07') }));
    expect(at('2026-03-26T10:00:00Z')).toEqual([]);
    expect(at('2026-03-27T10:00:00Z')).toEqual(['panel:21:before:5:to:11']);
    expect(at('2026-04-01T10:00:00Z')).toEqual(['panel:21:before:5:to:11']);
    expect(at('2026-04-02T09:00:00Z')).toEqual(['panel:21:before:1:to:11']);
    expect(at('2026-04-03T09:00:00Z')).toEqual([]); // Good Friday
    expect(at('2026-04-06T09:00:00Z')).toEqual([]); // Easter Monday
  });
});

// ---- when messages may go out ----

describe('working hours, weekends and bank holidays', () => {
  const overdue = [action(1, OWNER_A, '2026-02-20')]; // plans a nudge on any working day below
  const at = (now: string) => keys(plan(now, { openActions: overdue }));

  it('plans nothing before 08:00 or from 18:00, and plans at 08:00 exactly (GMT)', () => {
    expect(at('2026-03-03T07:59:00Z')).toEqual([]);
    expect(at('2026-03-03T07:59:59.999Z')).toEqual([]);
    expect(at('2026-03-03T08:00:00Z')).toEqual(['nudge:2026-03-03:to:11']);
    expect(at('2026-03-03T17:59:59Z')).toEqual(['nudge:2026-03-03:to:11']);
    expect(at('2026-03-03T18:00:00Z')).toEqual([]);
    expect(at('2026-03-03T23:00:00Z')).toEqual([]);
  });

  it('plans nothing at weekends or on bank holidays', () => {
    expect(at('2026-03-07T10:00:00Z')).toEqual([]); // Saturday
    expect(at('2026-03-08T10:00:00Z')).toEqual([]); // Sunday
    expect(at('2026-04-03T10:00:00Z')).toEqual([]); // Good Friday
    expect(at('2026-04-06T10:00:00Z')).toEqual([]); // Easter Monday
    expect(at('2026-05-04T10:00:00Z')).toEqual([]); // Early May bank holiday
    expect(at('2026-12-28T10:00:00Z')).toEqual([]); // Boxing Day (substitute day)
    expect(inWorkingHours(new Date('2026-04-03T10:00:00Z'), timeZone, calendar, policy)).toBe(false);
    expect(inWorkingHours(new Date('2026-04-07T10:00:00Z'), timeZone, calendar, policy)).toBe(true);
  });

  it('follows the local clock across the change to BST (Monday 30 March: 08:00 BST is 07:00Z)', () => {
    expect(at('2026-03-30T06:59:00Z')).toEqual([]); // 07:59 BST
    expect(at('2026-03-30T07:00:00Z')).toEqual(['nudge:2026-03-30:to:11']); // 08:00 BST
    expect(at('2026-03-30T07:30:00Z')).toEqual(['nudge:2026-03-30:to:11']); // 08:30 BST
    expect(at('2026-03-30T16:59:00Z')).toEqual(['nudge:2026-03-30:to:11']); // 17:59 BST
    expect(at('2026-03-30T17:00:00Z')).toEqual([]); // 18:00 BST
    // A UTC reading of the hours would have planned at 18:30 BST and not at 08:30 BST.
    expect(at('2026-03-30T17:30:00Z')).toEqual([]);
  });

  it('uses the local date near midnight in summer (23:30Z on Sunday 29 March is already Monday in London, but outside hours)', () => {
    expect(at('2026-03-29T23:30:00Z')).toEqual([]);
  });
});

// ---- overdue actions ----

describe('nudges about overdue actions', () => {
  it('nudges each owner once a day, with all their overdue actions', () => {
    const actions = [action(1, OWNER_A, '2026-03-02'), action(2, OWNER_A, '2026-02-27'), action(3, OWNER_B, '2026-03-02'), action(4, OWNER_C, '2026-03-03')];
    expect(summary(plan('2026-03-03T10:00:00Z', { openActions: actions }))).toEqual([
      { key: 'nudge:2026-03-03:to:11', to: OWNER_A, actions: [2, 1] }, // oldest first
      { key: 'nudge:2026-03-03:to:12', to: OWNER_B, actions: [3] },
    ]);
  });

  it('does not nudge about an action due today', () => {
    expect(plan('2026-03-03T10:00:00Z', { openActions: [action(1, OWNER_A, '2026-03-03')] })).toEqual([]);
  });

  it('waits 2 working days after the last nudge: nudged Friday → not Monday → Tuesday', () => {
    const nudgedFriday = [action(1, OWNER_A, '2026-03-02', { lastNudgedOn: '2026-03-06' })];
    expect(keys(plan('2026-03-06T15:00:00Z', { openActions: nudgedFriday }))).toEqual([]);
    expect(keys(plan('2026-03-09T10:00:00Z', { openActions: nudgedFriday }))).toEqual([]);
    expect(keys(plan('2026-03-10T10:00:00Z', { openActions: nudgedFriday }))).toEqual(['nudge:2026-03-10:to:11']);
    // Nudged Thursday: Friday and Monday make two working days.
    const nudgedThursday = [action(1, OWNER_A, '2026-03-02', { lastNudgedOn: '2026-03-05' })];
    expect(keys(plan('2026-03-06T10:00:00Z', { openActions: nudgedThursday }))).toEqual([]);
    expect(keys(plan('2026-03-09T10:00:00Z', { openActions: nudgedThursday }))).toEqual(['nudge:2026-03-09:to:11']);
  });

  it('only names the actions whose own nudge is due', () => {
    const actions = [action(1, OWNER_A, '2026-03-02', { lastNudgedOn: '2026-03-09' }), action(2, OWNER_A, '2026-03-05')];
    expect(summary(plan('2026-03-10T10:00:00Z', { openActions: actions }))).toEqual([{ key: 'nudge:2026-03-10:to:11', to: OWNER_A, actions: [2] }]);
  });
});

describe('snoozed actions', () => {
  it('get no nudge while snoozed (through the snooze day itself), and do after it', () => {
    const actions = [action(1, OWNER_A, '2026-03-02', { snoozedUntil: '2026-03-05' })];
    expect(plan('2026-03-04T10:00:00Z', { openActions: actions })).toEqual([]);
    expect(plan('2026-03-05T10:00:00Z', { openActions: actions })).toEqual([]);
    expect(keys(plan('2026-03-06T10:00:00Z', { openActions: actions }))).toEqual(['nudge:2026-03-06:to:11']);
  });

  it('get no panel reminder while snoozed, and do after it (the 5-day one, late)', () => {
    const panel: PlanPanel = { id: 7, startsAt: new Date('2026-03-10T10:00:00Z') };
    const actions = [action(1, OWNER_A, '2026-03-10', { snoozedUntil: '2026-03-03' }), action(2, OWNER_B, '2026-03-10')];
    expect(summary(plan('2026-03-03T10:00:00Z', { panels: [panel], openActions: actions }))).toEqual([{ key: 'panel:7:before:5:to:12', to: OWNER_B, actions: [2] }]);
    expect(summary(plan('2026-03-04T10:00:00Z', { panels: [panel], openActions: actions }))).toEqual([
      { key: 'panel:7:before:5:to:11', to: OWNER_A, actions: [1] },
      { key: 'panel:7:before:5:to:12', to: OWNER_B, actions: [2] },
    ]);
  });

  it('leave the other, unsnoozed actions of the same owner in the reminder', () => {
    const actions = [action(1, OWNER_A, '2026-03-02', { snoozedUntil: '2026-03-20' }), action(2, OWNER_A, '2026-03-02')];
    expect(summary(plan('2026-03-04T10:00:00Z', { openActions: actions }))).toEqual([{ key: 'nudge:2026-03-04:to:11', to: OWNER_A, actions: [2] }]);
  });
});

describe("escalation to the chairs' digest", () => {
  // Due Monday 2 March: Monday 9 March is 5 working days later, Tuesday 10 March 6.
  const late = [action(1, OWNER_A, '2026-03-02', { lastNudgedOn: '2026-03-09' }), action(2, OWNER_B, '2026-03-02', { lastNudgedOn: '2026-03-09' })];

  const chairIds = [CHAIR_1, CHAIR_2];

  it('is not sent for an action overdue by exactly 5 working days', () => {
    expect(calendar.workingDaysBetween('2026-03-02', '2026-03-09')).toBe(5);
    expect(plan('2026-03-09T10:00:00Z', { openActions: late, chairIds }).filter((r) => r.kind === 'digest')).toEqual([]);
  });

  it('goes to every chair, naming every such action, once overdue by more than 5 working days', () => {
    const p = plan('2026-03-10T10:00:00Z', { openActions: [...late, action(3, OWNER_C, '2026-03-06', { lastNudgedOn: '2026-03-09' })], chairIds: [CHAIR_2, CHAIR_1] });
    expect(summary(p)).toEqual([
      { key: 'digest:2026-03-10:to:1', to: CHAIR_1, actions: [1, 2] },
      { key: 'digest:2026-03-10:to:2', to: CHAIR_2, actions: [1, 2] },
    ]);
    expect(p.every((r) => r.kind === 'digest' && r.day === '2026-03-10')).toBe(true);
  });

  it('still counts a snoozed action (snoozing defers the owner’s nudges, not the chairs’ view)', () => {
    const snoozed = [action(1, OWNER_A, '2026-03-02', { snoozedUntil: '2026-03-31' })];
    expect(keys(plan('2026-03-10T10:00:00Z', { openActions: snoozed, chairIds }))).toEqual(['digest:2026-03-10:to:1', 'digest:2026-03-10:to:2']);
  });

  it('goes to no one when there are no chairs', () => {
    expect(keys(plan('2026-03-10T10:00:00Z', { openActions: late, chairIds: [] }))).toEqual([]);
  });
});

// ---- determinism ----

describe('the plan does not depend on the order of its inputs', () => {
  const days = ['2026-02-23', '2026-02-27', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-06', '2026-03-09', '2026-03-10', '2026-03-11', '2026-03-13', '2026-03-20', '2026-04-02', '2026-04-07'];
  const dayArb = fc.constantFrom(...days);
  const actionArb = fc.record({
    ownerId: fc.integer({ min: 10, max: 15 }),
    dueOn: dayArb,
    snoozedUntil: fc.option(dayArb, { nil: null }),
    lastNudgedOn: fc.option(dayArb, { nil: null }),
  });
  const actionsArb = fc.array(actionArb, { maxLength: 25 }).map((list) => list.map((a, i) => ({ id: i + 1, ...a })));
  const panelsArb = fc
    .array(fc.record({ startsAt: fc.integer({ min: Date.parse('2026-03-02T09:00:00Z') / 60_000, max: Date.parse('2026-04-10T17:00:00Z') / 60_000 }).map((m) => new Date(m * 60_000)) }), { maxLength: 4 })
    .map((list) => list.map((p, i) => ({ id: 100 + i, ...p })));
  // Also instants on the same minute grid, so some panels start exactly "now".
  const nowArb = fc.integer({ min: Date.parse('2026-03-02T00:00:00Z') / 60_000, max: Date.parse('2026-04-10T23:59:00Z') / 60_000 }).map((m) => new Date(m * 60_000));
  const chairsArb = fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { maxLength: 3 });

  it('gives the same plan for any shuffle of panels, actions and chairs, with unique keys', () => {
    fc.assert(
      fc.property(
        nowArb,
        panelsArb.chain((panels) => fc.tuple(fc.constant(panels), fc.shuffledSubarray(panels, { minLength: panels.length }))),
        actionsArb.chain((actions) => fc.tuple(fc.constant(actions), fc.shuffledSubarray(actions, { minLength: actions.length }))),
        chairsArb.chain((chairs) => fc.tuple(fc.constant(chairs), fc.shuffledSubarray(chairs, { minLength: chairs.length }))),
        (now, [panels, panels2], [actions, actions2], [chairs, chairs2]) => {
          const base = { now, timeZone, calendar, policy };
          const a = planReminders({ ...base, panels, openActions: actions, chairIds: chairs });
          const b = planReminders({ ...base, panels: panels2, openActions: actions2, chairIds: chairs2 });
          expect(b).toEqual(a);
          expect(new Set(a.map((r) => r.key)).size).toBe(a.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---- trial levers past their target ----

describe('overdue trial levers', () => {
  const levers = [
    { incidentId: 502, ownerIds: [OWNER_B], actionIds: [41] },
    { incidentId: 501, ownerIds: [], actionIds: [] },
  ];

  it("tell each lever action's owner once (keyed by the lever, not the day), and put every overdue lever in each chair's digest", () => {
    const monday = plan('2026-03-09T10:00:00Z', { overdueLevers: levers, chairIds: [CHAIR_2, CHAIR_1] });
    expect(monday.map((r) => ({ key: r.key, to: r.recipientId, actions: r.actionIds, levers: r.leverIncidentIds }))).toEqual([
      { key: 'lever:502:overdue:to:12', to: OWNER_B, actions: [41], levers: [502] },
      { key: 'digest:2026-03-09:to:1', to: CHAIR_1, actions: [], levers: [501, 502] },
      { key: 'digest:2026-03-09:to:2', to: CHAIR_2, actions: [], levers: [501, 502] },
    ]);
    // The next day the owner's lever reminder has the same key, so the outbox sends it once; the digest is that day's.
    const tuesday = plan('2026-03-10T10:00:00Z', { overdueLevers: levers, chairIds: [CHAIR_1] });
    expect(keys(tuesday)).toEqual(['lever:502:overdue:to:12', 'digest:2026-03-10:to:1']);
  });

  it('send nothing outside working hours', () => {
    expect(plan('2026-03-09T19:00:00Z', { overdueLevers: levers, chairIds: [CHAIR_1] })).toEqual([]);
    expect(plan('2026-03-07T10:00:00Z', { overdueLevers: levers, chairIds: [CHAIR_1] })).toEqual([]);
  });
});
