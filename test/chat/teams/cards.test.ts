// Checks the Teams Adaptive Cards: the agenda within Teams' size limit (split into "continued n of m"
// cards without losing or repeating anything), Adaptive Card 1.5, no person's reference in chat, the
// Markdown escaping of free text, action cards, reminders and the "Add action" dialog.
import { describe, expect, it } from 'vitest';
import type { Agenda, AgendaAction, AgendaIncident, FlaggedPerpetrator, RepeatVictim } from '../../../src/domain/agenda.js';
import {
  actionElements,
  addActionDialog,
  agendaMessages,
  cardContentType,
  maxMessageChars,
  plain,
  reminderMessage,
  replyActivities,
  type TeamsActivity,
} from '../../../src/chat/teams/cards.js';
import type { OutgoingMessage } from '../../../src/ports.js';

/** Teams' documented bot message limit is 100 KB (UTF-16); the bot keeps each message to 80 KB. */
const eightyKb = 80 * 1024;

// ---- synthetic, obviously fictional agendas ----

const letters = (n: number) => n.toString(10).padStart(5, '0').replace(/\d/g, (d) => 'ABCDEFGHIJ'[Number(d)]!);
const perpRef = (i: number) => `TEST-PERSON-P-${i}`;
const victimRef = (i: number) => `TEST-PERSON-V-${i}`;
const perpLabel = (i: number) => `N-PERPA-${letters(i)}`;
const victimLabel = (i: number) => `N-VICTA-${letters(i)}`;

function incident(i: number, overrides: Partial<AgendaIncident> = {}): AgendaIncident {
  return {
    ref: `TEST-INC-${i}`,
    label: `TEST-INC-${i}`,
    sourceSystem: 'rms',
    reportedAt: new Date(Date.UTC(2026, 1, 27, 9, 0) + i * 60_000),
    riskLevel: 'high',
    profJudgement: i % 5 === 0,
    category: 'assault',
    area: 'Test Area North',
    childrenPresent: i % 2 === 0,
    perpetrator: { ref: perpRef(i), label: perpLabel(i), activeFlags: i % 3 === 0 ? ['marac'] : [] },
    victim: { ref: victimRef(i), label: victimLabel(i), incidentsLast365Days: 1 + (i % 4) },
    ...overrides,
  };
}

function flagged(i: number): FlaggedPerpetrator {
  return {
    ref: perpRef(i),
    label: perpLabel(i),
    flags: [{ kind: 'iom', startsOn: '2026-01-05', endsOn: null }],
    incidents: [{ ref: `TEST-INC-F${i}`, label: `TEST-INC-F${i}`, reportedAt: new Date('2026-02-28T10:00:00Z'), riskLevel: 'medium', category: 'harassment', area: 'Test Area North' }],
  };
}

function repeatVictim(i: number): RepeatVictim {
  return { ref: `TEST-PERSON-RV-${i}`, label: `N-REPVI-${letters(i)}`, incidentsLast365Days: 3 + i, incidentsInWindow: 1 };
}

function action(n: number, overrides: Partial<AgendaAction> = {}): AgendaAction {
  return {
    id: `A-${n}`,
    status: 'open',
    ref: perpRef(1),
    label: perpLabel(1),
    text: `Test action ${n}`,
    dueOn: '2026-03-02',
    overdue: false,
    owner: { memberId: n, name: `Test Member ${n}`, agency: 'idva', slackUserId: null, teamsUserId: null },
    subject: { incidentRef: null, person: { ref: perpRef(1), label: perpLabel(1) } },
    ...overrides,
  };
}

function agenda(overrides: Partial<Agenda> = {}): Agenda {
  return {
    meeting: { key: 'teams:19:testdmm@thread.tacv2', name: 'Test DMM North', timeZone: 'Europe/London' },
    meetingDate: '2026-03-02',
    window: { meetingDate: '2026-03-02', start: new Date('2026-02-27T09:00:00Z'), end: new Date('2026-03-02T09:00:00Z') },
    highRiskIncidents: [],
    flaggedPerpetrators: [],
    repeatVictims: [],
    actionsDue: [],
    panels: [],
    ...overrides,
  };
}

function longAgenda(incidents: number): Agenda {
  return agenda({
    highRiskIncidents: Array.from({ length: incidents }, (_, i) => incident(i + 1)),
    flaggedPerpetrators: Array.from({ length: 30 }, (_, i) => flagged(1_000 + i)),
    repeatVictims: Array.from({ length: 40 }, (_, i) => repeatVictim(i + 1)),
    actionsDue: Array.from({ length: 60 }, (_, i) => action(i + 1)),
    panels: [{ id: 12, ref: 'P-12', label: 'Test Panel', kind: 'marac', title: 'Test MARAC panel', startsAt: new Date('2026-03-04T10:00:00Z') }],
  });
}

// ---- reading cards ----

type Element = Record<string, unknown>;

const activityOf = (m: OutgoingMessage) => m.payload as TeamsActivity;

function cardOf(activity: TeamsActivity): { type: string; version: string; body: Element[]; actions?: Element[] } {
  expect(activity.attachments).toHaveLength(1);
  const attachment = activity.attachments![0]!;
  expect(attachment.contentType).toBe(cardContentType);
  return attachment.content as { type: string; version: string; body: Element[]; actions?: Element[] };
}

/** Every element, depth first (containers' items and action sets' actions included). */
function walk(elements: Element[]): Element[] {
  return elements.flatMap((e) => [
    e,
    ...walk(((e.items as Element[] | undefined) ?? []).concat((e.actions as Element[] | undefined) ?? [])),
  ]);
}

const textsOf = (elements: Element[]) => walk(elements).filter((e) => e.type === 'TextBlock').map((e) => String(e.text));

/** The incident references of the agenda's incident containers, in order (`**TEST-INC-n**` opens each). */
function incidentRefsIn(body: Element[]): string[] {
  return body
    .filter((e) => e.type === 'Container')
    .map((e) => String(((e.items as Element[])[0] ?? ({} as Element)).text ?? ''))
    .map((text) => /^\*\*(TEST-INC-\d+)\*\* /.exec(text)?.[1])
    .filter((ref): ref is string => ref !== undefined);
}

function addActionSubjects(body: Element[]): string[] {
  return walk(body)
    .filter((e) => e.type === 'Action.Submit')
    .map((e) => e.data as { dmm?: string; kind?: string; subject?: string; msteams?: { type?: string } })
    .filter((d) => d.dmm === 'add-action' && d.kind === 'incident')
    .map((d) => {
      expect(d.msteams).toEqual({ type: 'task/fetch' });
      return d.subject!;
    });
}

// ---- the agenda ----

describe('the Teams agenda card', () => {
  it('a short agenda is one Adaptive Card 1.5 with a summary, labels and "Add action" buttons, and no person reference', () => {
    const small = agenda({
      highRiskIncidents: [incident(1), incident(2)],
      flaggedPerpetrators: [flagged(7)],
      repeatVictims: [repeatVictim(1)],
      actionsDue: [action(1, { overdue: true })],
    });
    const messages = agendaMessages(small, { late: false });
    expect(messages).toHaveLength(1);
    const activity = activityOf(messages[0]!);
    expect(activity.type).toBe('message');
    expect(activity.summary).toMatch(/2 new high-risk incidents, 1 flagged perpetrators, 1 repeat victims, 1 actions due, 0 panels$/);
    expect(messages[0]!.summary).toBe(activity.summary);
    const card = cardOf(activity);
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    const texts = textsOf(card.body);
    expect(texts.join('\n')).not.toMatch(/continued/);
    expect(texts.join('\n')).not.toContain('Posted late');
    expect(incidentRefsIn(card.body)).toEqual(['TEST-INC-1', 'TEST-INC-2']);
    expect(addActionSubjects(card.body)).toEqual(['TEST-INC-1', 'TEST-INC-2']);
    const json = JSON.stringify(activity);
    for (const label of [perpLabel(1), victimLabel(1), perpLabel(7), `N-REPVI-${letters(1)}`]) expect(json).toContain(label);
    expect(json).not.toMatch(/TEST-PERSON-/);
    expect(json).toContain('**overdue**');

    const late = activityOf(agendaMessages(small, { late: true })[0]!);
    expect(textsOf(cardOf(late).body)).toContain('Posted late: the bot was not running at the meeting time.');
  });

  it('a 400-incident agenda splits into cards of at most 80 KB, "continued n of m", every item once and in order', () => {
    const long = longAgenda(400);
    const messages = agendaMessages(long, { late: false });
    const m = messages.length;
    expect(m).toBeGreaterThan(1);
    expect(maxMessageChars).toBeLessThanOrEqual(eightyKb);

    const allRefs: string[] = [];
    const allSubjects: string[] = [];
    const everything: string[] = [];
    messages.forEach((message, index) => {
      const activity = activityOf(message);
      const size = JSON.stringify(activity).length;
      expect(size, `card ${index + 1} is ${size} characters`).toBeLessThanOrEqual(eightyKb);
      expect(activity.summary.length).toBeGreaterThan(0);
      const card = cardOf(activity);
      expect(card.version).toBe('1.5');
      const first = card.body[0]!;
      if (index === 0) {
        expect(String(first.text)).toBe('DMM agenda: Test DMM North, Monday 2 March 2026');
        expect(activity.summary).toContain('400 new high-risk incidents');
      } else {
        expect(String(first.text)).toContain(`continued ${index + 1} of ${m}`);
        expect(activity.summary).toContain(`continued ${index + 1} of ${m}`);
      }
      allRefs.push(...incidentRefsIn(card.body));
      allSubjects.push(...addActionSubjects(card.body));
      everything.push(JSON.stringify(activity));
    });
    const expected = long.highRiskIncidents.map((i) => i.ref);
    // Every incident exactly once, in the agenda's order, each with its "Add action" button.
    expect(allRefs).toEqual(expected);
    expect(allSubjects).toEqual(expected);
    const joined = everything.join('\n');
    for (const a of long.actionsDue) expect(joined.split(`**${a.id}**`).length - 1, a.id).toBe(1);
    for (const v of long.repeatVictims) expect(joined.split(v.label).length - 1, v.label).toBe(1);
    for (const p of long.flaggedPerpetrators) expect(joined).toContain(p.label);
    expect(joined).toContain('**P-12**');
    expect(joined).not.toMatch(/TEST-PERSON-/);
    // Each section heading once.
    for (const heading of ['New high-risk incidents (400)', 'Flagged perpetrators (30)', 'Repeat victims (40)', 'Actions due (60)', 'Panels in the next 7 days (1)']) {
      expect(joined.split(heading).length - 1, heading).toBe(1);
    }
  });

  it('keeps within the limit when every text is long and non-ASCII (counted in UTF-16 units)', () => {
    const long = agenda({
      highRiskIncidents: Array.from({ length: 300 }, (_, i) =>
        incident(i + 1, { area: `Test Área ${'É'.repeat(60)}`, category: `coercive_control_${'é'.repeat(40)}` }),
      ),
    });
    const messages = agendaMessages(long, { late: true });
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) expect(JSON.stringify(message.payload).length).toBeLessThanOrEqual(eightyKb);
    expect(messages.flatMap((message) => incidentRefsIn(cardOf(activityOf(message)).body))).toEqual(long.highRiskIncidents.map((i) => i.ref));
  });
});

// ---- escaping ----

describe('plain()', () => {
  it('escapes the Markdown marks * _ [ ] (and the backslash), so typed text stays literal', () => {
    expect(plain('*bold* _it_ [link](https://example.org)')).toBe('\\*bold\\* \\_it\\_ \\[link\\](https://example.org)');
    expect(plain('a\\b')).toBe('a\\\\b');
    expect(plain('**')).toBe('\\*\\*');
    expect(plain('TEST-INC-1 · no marks here')).toBe('TEST-INC-1 · no marks here');
  });

  it('leaves <at> and HTML as text: Adaptive Cards render neither from a TextBlock', () => {
    expect(plain('<at>Someone</at> <b>x</b>')).toBe('<at>Someone</at> <b>x</b>');
  });

  it('is applied to an action\'s free text on its card', () => {
    const [container] = actionElements(action(5, { text: 'Call *now* [here](http://x) <at>Someone</at>' }));
    const text = String(((container!.items as Element[])[0]!).text);
    expect(text).toContain('Call \\*now\\* \\[here\\](http://x) <at>Someone</at>');
    expect(JSON.stringify(container)).not.toContain('msteams');
  });
});

// ---- actions, replies, reminders, the dialog ----

describe('action cards and replies', () => {
  it('an open action has Done and Update (Action.Execute with its id); a closed one has no buttons', () => {
    const open = walk(actionElements(action(3)));
    expect(open.filter((e) => e.type === 'Action.Execute').map((e) => [e.verb, e.title, e.data])).toEqual([
      ['done', 'Done', { id: 'A-3' }],
      ['update', 'Update', { id: 'A-3' }],
    ]);
    const asking = walk(actionElements(action(3), { askForNote: true }));
    expect(asking.find((e) => e.type === 'Input.Text')).toMatchObject({ id: 'note', isRequired: true });
    expect(asking.filter((e) => e.type === 'Action.Execute').map((e) => e.verb)).toEqual(['save-note']);
    const done = walk(actionElements(action(3, { status: 'done' })));
    expect(done.filter((e) => e.type === 'ActionSet' || e.type === 'Action.Execute')).toEqual([]);
    expect(textsOf(actionElements(action(3, { status: 'done' })))[0]).toContain('· done');
  });

  it('a text reply is a plain-text message; a reply with actions is one card', () => {
    const [problem] = replyActivities({ visibility: 'private', text: 'Unknown command "<b>x</b>".', problem: true });
    expect(problem).toEqual({ type: 'message', summary: 'Unknown command "<b>x</b>".', text: 'Unknown command "<b>x</b>".', textFormat: 'plain' });
    const withActions = replyActivities({ visibility: 'meeting', text: 'Action A-1 recorded.', actions: [action(1)] });
    expect(withActions).toHaveLength(1);
    expect(withActions[0]!.summary).toBe('Action A-1 recorded.');
    expect(withActions[0]!.text).toBeUndefined();
    expect(textsOf(cardOf(withActions[0]!).body)[0]).toBe('Action A-1 recorded.');
  });

  it('a reminder is a card with its heading and the actions', () => {
    const message = reminderMessage({ kind: 'panel', heading: 'Before Test MARAC (P-1): please report progress on your 2 open actions.', actions: [action(1), action(2)], timeZone: 'Europe/London' });
    const activity = activityOf(message);
    expect(message.summary).toBe(activity.summary);
    const texts = textsOf(cardOf(activity).body);
    expect(texts[0]).toBe('Before Test MARAC (P-1): please report progress on your 2 open actions.');
    expect(texts.join('\n')).toContain('**A-1**');
    expect(texts.join('\n')).toContain('**A-2**');
  });

  it('the "Add action" dialog has an owner picker, a date and a text, prefilled, and shows problems beside their fields', () => {
    const owners = { owners: [{ title: 'Test Owner (idva)', value: '0a0a0a0a-0000-4000-8000-000000000001' }] };
    const form = addActionDialog('TEST-INC-1', owners, '2026-03-03') as { version: string; body: Element[]; actions: Element[] };
    expect(form.version).toBe('1.5');
    expect(form.body.map((e) => [e.type, e.id])).toEqual([
      ['Input.Text', 'subject'],
      ['Input.ChoiceSet', 'owner'],
      ['Input.Date', 'due'],
      ['Input.Text', 'text'],
    ]);
    expect(form.body[0]).toMatchObject({ value: 'TEST-INC-1' });
    expect(form.body[1]).toMatchObject({ choices: owners.owners });
    expect(form.body[2]).toMatchObject({ value: '2026-03-03' });
    expect(form.actions.map((a) => a.type)).toEqual(['Action.Submit']);

    const again = addActionDialog('TEST-INC-1', owners, '2026-03-03', { due: 'The due date 2020-01-01 is in the past (today is 2026-03-02).' }, { due: '2020-01-01', text: 'x *y*' }) as { body: Element[] };
    const due = again.body.findIndex((e) => e.id === 'due');
    expect(again.body[due]).toMatchObject({ value: '2020-01-01' });
    expect(again.body[due + 1]).toMatchObject({ type: 'TextBlock', text: 'The due date 2020-01-01 is in the past (today is 2026-03-02).', color: 'Attention' });
    expect(again.body.find((e) => e.id === 'text')).toMatchObject({ value: 'x *y*' });
  });
});
