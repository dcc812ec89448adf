// Checks the plain-text agenda: title, window in local time, sections with counts, and the late notice.
import { describe, it, expect } from 'vitest';
import type { Agenda, AgendaAction, AgendaIncident } from '../../src/domain/agenda.js';
import { emptySection, incidentLine, renderAgendaText, windowHours } from '../../src/domain/agenda-text.js';

// Monday 2 March 2026 (GMT): the window runs from Friday's meeting at 09:00 to Monday's, 72 hours.
const winterWindow = { meetingDate: '2026-03-02', start: new Date('2026-02-27T09:00:00Z'), end: new Date('2026-03-02T09:00:00Z') };

function incident(i: number, overrides: Partial<AgendaIncident> = {}): AgendaIncident {
  return {
    ref: `TEST-INC-${i}`,
    label: `TEST-INC-${i}`,
    sourceSystem: 'rms',
    reportedAt: new Date(Date.UTC(2026, 1, 28, 10, i)),
    riskLevel: 'high',
    profJudgement: false,
    category: 'assault',
    area: 'Test Area North',
    childrenPresent: false,
    perpetrator: { ref: `TEST-PERSON-P-${i}`, label: `N-PERPA-AAAA${i}`, activeFlags: [] },
    victim: { ref: `TEST-PERSON-V-${i}`, label: `N-VICTA-AAAA${i}`, incidentsLast365Days: 1 },
    ...overrides,
  };
}

function action(n: number, overrides: Partial<AgendaAction> = {}): AgendaAction {
  return {
    id: `A-${n}`,
    status: 'open',
    ref: 'TEST-INC-1',
    label: 'TEST-INC-1',
    text: `Test action ${n}`,
    dueOn: '2026-03-02',
    overdue: false,
    owner: { memberId: n, name: `Test Member ${n}`, agency: 'Test Agency', slackUserId: null, teamsUserId: null },
    subject: { incidentRef: 'TEST-INC-1', person: null },
    ...overrides,
  };
}

function agenda(overrides: Partial<Agenda> = {}): Agenda {
  return {
    meeting: { key: 'console:console', name: 'Test DMM North', timeZone: 'Europe/London' },
    meetingDate: '2026-03-02',
    window: winterWindow,
    highRiskIncidents: [],
    flaggedPerpetrators: [],
    repeatVictims: [],
    actionsDue: [],
    panels: [],
    ...overrides,
  };
}

const full = () =>
  agenda({
    highRiskIncidents: [
      incident(1, { childrenPresent: true, profJudgement: true, perpetrator: { ref: 'TEST-PERSON-P-1', label: 'N-PERPA-AAAA1', activeFlags: ['marac', 'bail'] } }),
      incident(2),
    ],
    flaggedPerpetrators: [
      {
        ref: 'TEST-PERSON-P-1',
        label: 'N-PERPA-AAAA1',
        flags: [{ kind: 'marac', startsOn: '2026-01-01', endsOn: null }],
        incidents: [{ ref: 'TEST-INC-1', label: 'TEST-INC-1', reportedAt: new Date('2026-02-28T10:01:00Z'), riskLevel: 'high', category: 'assault', area: 'Test Area North' }],
      },
    ],
    repeatVictims: [{ ref: 'TEST-PERSON-V-9', label: 'N-VICTA-BBBBB', incidentsLast365Days: 4, incidentsInWindow: 2 }],
    actionsDue: [action(1, { overdue: true }), action(2)],
    panels: [{ id: 12, ref: 'P-12', label: 'Test Panel', kind: 'marac', title: 'Test MARAC panel', startsAt: new Date('2026-03-04T10:00:00Z') }],
  });

describe('renderAgendaText', () => {
  it('opens with the title naming the meeting and the weekday date', () => {
    const lines = renderAgendaText(agenda()).split('\n');
    expect(lines[0]).toBe('DMM agenda: Test DMM North, Monday 2 March 2026');
  });

  it('gives the window in local time with its length in hours: 72 over a winter weekend', () => {
    const lines = renderAgendaText(agenda()).split('\n');
    expect(windowHours(agenda())).toBe(72);
    expect(lines[1]).toBe('Covers incidents reported from Fri 27 Feb 09:00 to Mon 2 Mar 09:00 (72 hours, Europe/London)');
  });

  it('shows summer windows in BST, not UTC', () => {
    // Tuesday 2 June 2026: 09:00 BST is 08:00Z.
    const summer = agenda({
      meetingDate: '2026-06-02',
      window: { meetingDate: '2026-06-02', start: new Date('2026-06-01T08:00:00Z'), end: new Date('2026-06-02T08:00:00Z') },
    });
    const lines = renderAgendaText(summer).split('\n');
    expect(lines[0]).toBe('DMM agenda: Test DMM North, Tuesday 2 June 2026');
    expect(lines[1]).toBe('Covers incidents reported from Mon 1 Jun 09:00 to Tue 2 Jun 09:00 (24 hours, Europe/London)');
  });

  it('counts 23 hours across the spring clock change', () => {
    // Monday 30 March 2026 after clocks went forward on Sunday 29 March; Friday 27 March was GMT.
    const spring = agenda({
      meetingDate: '2026-03-30',
      window: { meetingDate: '2026-03-30', start: new Date('2026-03-27T09:00:00Z'), end: new Date('2026-03-30T08:00:00Z') },
    });
    expect(renderAgendaText(spring).split('\n')[1]).toBe(
      'Covers incidents reported from Fri 27 Mar 09:00 to Mon 30 Mar 09:00 (71 hours, Europe/London)',
    );
  });

  it('says each empty section is empty, with a zero count', () => {
    const text = renderAgendaText(agenda());
    expect(text).toContain(`New high-risk incidents (0)\n  ${emptySection.highRiskIncidents}`);
    expect(text).toContain(`Flagged perpetrators (0)\n  ${emptySection.flaggedPerpetrators}`);
    expect(text).toContain(`Repeat victims (0)\n  ${emptySection.repeatVictims}`);
    expect(text).toContain(`Actions due (0)\n  ${emptySection.actionsDue}`);
    expect(text).toContain(`Panels (0)\n  ${emptySection.panels}`);
    expect(text).not.toContain('  - ');
  });

  it('lists each section with its count and one line per item', () => {
    const text = renderAgendaText(full());
    const lines = text.split('\n');
    expect(text).toContain('New high-risk incidents (2)');
    expect(text).toContain('Flagged perpetrators (1)');
    expect(text).toContain('Repeat victims (1)');
    expect(text).toContain('Actions due (2)');
    expect(text).toContain('Panels (1)');
    expect(lines.filter((l) => l.startsWith('  - '))).toHaveLength(2 + 1 + 1 + 2 + 1);
    for (const empty of Object.values(emptySection)) expect(text).not.toContain(empty);

    const first = lines.find((l) => l.startsWith('  - TEST-INC-1 '));
    expect(first).toBe(
      '  - TEST-INC-1 reported Sat 28 Feb 10:01, Test Area North, assault; perpetrator N-PERPA-AAAA1 [marac, bail]; victim N-VICTA-AAAA1 (1 in 365 days); children present; raised by professional judgement',
    );
    expect(lines.find((l) => l.startsWith('  - TEST-INC-2 '))).toContain('no children present');
    expect(lines.find((l) => l.startsWith('  - TEST-INC-2 '))).not.toContain('professional judgement');
    expect(text).toContain('  - N-PERPA-AAAA1 [marac]: TEST-INC-1 Sat 28 Feb 10:01 high assault');
    expect(text).toContain('  - N-VICTA-BBBBB: 4 incidents in 365 days, 2 new');
    expect(text).toContain('  - A-1 (TEST-INC-1): Test action 1; Test Member 1, Test Agency; due 2026-03-02 OVERDUE');
    expect(text).toContain('  - A-2 (TEST-INC-1): Test action 2; Test Member 2, Test Agency; due 2026-03-02');
    expect(lines.find((l) => l.startsWith('  - A-2 '))).not.toContain('OVERDUE');
    expect(text).toContain('  - P-12 Wed 4 Mar 10:00 Test Panel');
  });

  it('keeps the sections in agenda order', () => {
    const text = renderAgendaText(full());
    const order = ['New high-risk incidents', 'Flagged perpetrators', 'Repeat victims', 'Actions due', 'Panels'].map((h) => text.indexOf(`${h} (`));
    expect(order.every((p) => p >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('adds the late line only when posted late', () => {
    const late = renderAgendaText(agenda(), { late: true }).split('\n');
    expect(late[2]).toBe('Posted late: the bot was not running at the meeting time.');
    expect(renderAgendaText(agenda())).not.toContain('Posted late');
    expect(renderAgendaText(agenda(), { late: false })).not.toContain('Posted late');
  });

  it('never shows a person’s records-system reference', () => {
    const text = renderAgendaText(full());
    expect(text).not.toMatch(/TEST-PERSON-/);
    expect(text).toContain('TEST-INC-1');
  });

  it('names an owner with no name by member number', () => {
    const text = renderAgendaText(agenda({ actionsDue: [action(7, { owner: { memberId: 7, name: '', agency: 'Test Agency', slackUserId: null, teamsUserId: null } })] }));
    expect(text).toContain('A-7 (TEST-INC-1): Test action 7; member 7, Test Agency');
  });
});

describe('incidentLine', () => {
  it('formats the reported time in the given zone', () => {
    const i = incident(3, { reportedAt: new Date('2026-06-01T23:30:00Z') });
    expect(incidentLine(i, 'Europe/London')).toMatch(/^TEST-INC-3 reported Tue 2 Jun 00:30, /);
    expect(incidentLine(i, 'UTC')).toMatch(/^TEST-INC-3 reported Mon 1 Jun 23:30, /);
  });
});
