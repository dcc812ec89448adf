// Checks the Slack Block Kit agenda: Slack's limits, "Add action" buttons, splitting a long agenda
// into continued messages without losing anything, escaping, and that no person's reference leaks.
import { describe, it, expect } from 'vitest';
import type { KnownBlock, SectionBlock } from '@slack/types';
import type { Agenda, AgendaAction, AgendaIncident, FlaggedPerpetrator, RepeatVictim } from '../../../src/domain/agenda.js';
import { emptySection } from '../../../src/domain/agenda-text.js';
import {
  addActionId,
  agendaBlocks,
  agendaMessages,
  agendaSummary,
  slackLimits,
  type SlackMessagePayload,
} from '../../../src/chat/slack/agenda-blocks.js';
import type { OutgoingMessage } from '../../../src/ports.js';

// Slack's documented limits (platform notes §5), restated so a change to slackLimits cannot hide a breach.
const limits = { blocks: 50, section: 3_000, header: 150, buttonText: 75, actionId: 255, buttonValue: 2_000 };

// ---- a small factory of synthetic, obviously fictional agendas ----

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
    profJudgement: false,
    category: 'assault',
    area: 'Test Area North',
    childrenPresent: false,
    perpetrator: { ref: perpRef(i), label: perpLabel(i), activeFlags: [] },
    victim: { ref: victimRef(i), label: victimLabel(i), incidentsLast365Days: 1 },
    ...overrides,
  };
}

function flagged(i: number): FlaggedPerpetrator {
  return {
    ref: perpRef(i),
    label: perpLabel(i),
    flags: [{ kind: 'marac', startsOn: '2026-01-05', endsOn: null }],
    incidents: [
      { ref: `TEST-INC-${i}`, label: `TEST-INC-${i}`, reportedAt: new Date('2026-02-28T10:00:00Z'), riskLevel: 'medium', category: 'harassment', area: 'Test Area North' },
    ],
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
    owner: { memberId: n, name: `Test Member ${n}`, agency: 'Test Agency', slackUserId: null, teamsUserId: null },
    subject: { incidentRef: null, person: { ref: perpRef(1), label: perpLabel(1) } },
    ...overrides,
  };
}

function agenda(overrides: Partial<Agenda> = {}): Agenda {
  return {
    meeting: { key: 'slack:C0TEST0001', name: 'Test DMM North', timeZone: 'Europe/London' },
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

function smallAgenda(): Agenda {
  return agenda({
    highRiskIncidents: [
      incident(1, { childrenPresent: true, perpetrator: { ref: perpRef(1), label: perpLabel(1), activeFlags: ['marac', 'bail'] } }),
      incident(2, { profJudgement: true }),
      incident(3),
    ],
    flaggedPerpetrators: [flagged(1), flagged(4)],
    repeatVictims: [repeatVictim(1), repeatVictim(2)],
    actionsDue: [
      action(1, { overdue: true, owner: { memberId: 1, name: 'Test Member 1', agency: 'Test Agency', slackUserId: 'U0TESTOWNER', teamsUserId: null } }),
      action(2, {
        ref: 'TEST-INC-2',
        label: 'TEST-INC-2',
        subject: { incidentRef: 'TEST-INC-2', person: null },
      }),
      action(3, { ref: victimRef(2), label: victimLabel(2), subject: { incidentRef: null, person: { ref: victimRef(2), label: victimLabel(2) } } }),
    ],
    panels: [{ id: 12, ref: 'P-12', label: 'Test Panel', kind: 'marac', title: 'Test MARAC panel', startsAt: new Date('2026-03-04T10:00:00Z') }],
  });
}

/** Every person's records-system reference in an agenda (perpetrators, victims, action subjects). */
function personRefs(a: Agenda): string[] {
  const refs = new Set<string>();
  for (const i of a.highRiskIncidents) refs.add(i.perpetrator.ref).add(i.victim.ref);
  for (const p of a.flaggedPerpetrators) refs.add(p.ref);
  for (const v of a.repeatVictims) refs.add(v.ref);
  for (const x of a.actionsDue) {
    if (x.subject.person) refs.add(x.subject.person.ref).add(x.ref);
  }
  return [...refs];
}

// ---- reading the rendered blocks ----

const payloadOf = (m: OutgoingMessage) => m.payload as SlackMessagePayload;

function sections(blocks: KnownBlock[]): SectionBlock[] {
  return blocks.filter((b): b is SectionBlock => b.type === 'section');
}

function textOf(block: KnownBlock): string {
  if (block.type === 'section') return block.text?.text ?? '';
  if (block.type === 'header') return block.text.text;
  if (block.type === 'context') return block.elements.map((e) => ('text' in e ? e.text : '')).join(' ');
  return '';
}

const headings = {
  highRiskIncidents: 'New high-risk incidents',
  flaggedPerpetrators: 'Flagged perpetrators',
  repeatVictims: 'Repeat victims',
  actionsDue: 'Actions due',
  panels: 'Panels in the next 7 days',
} as const;

/** The item sections under each heading (a divider, then `*Title* (n)`, then the items). */
function itemsByHeading(blocks: KnownBlock[]): Map<string, SectionBlock[]> {
  const result = new Map<string, SectionBlock[]>();
  let current: SectionBlock[] | undefined;
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!;
    if (block.type === 'divider') {
      const heading = blocks[i + 1];
      const m = heading && /^\*(.+)\* \((\d+)\)$/.exec(textOf(heading));
      if (!m) throw new Error(`a divider not followed by a heading at block ${i}`);
      current = [];
      result.set(m[1]!, current);
      i++;
      continue;
    }
    if (block.type === 'section' && current) current.push(block);
  }
  return result;
}

interface Button {
  action_id: string;
  text: { type: string; text: string };
  value: string;
}

function buttonOf(block: SectionBlock): Button | undefined {
  const accessory = block.accessory as unknown as (Button & { type: string }) | undefined;
  if (!accessory) return undefined;
  expect(accessory.type).toBe('button');
  return accessory;
}

function allButtons(blocks: KnownBlock[]): Button[] {
  return sections(blocks).flatMap((b) => {
    const button = buttonOf(b);
    return button ? [button] : [];
  });
}

function expectWithinSlackLimits(messages: OutgoingMessage[]) {
  for (const m of messages) {
    const { text, blocks } = payloadOf(m);
    expect(text.length).toBeGreaterThan(0);
    expect(m.summary).toBe(text);
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.length).toBeLessThanOrEqual(limits.blocks);
    for (const block of blocks) {
      if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(limits.header);
      if (block.type === 'section') {
        const text = block.text?.text ?? '';
        expect(text.length).toBeGreaterThan(0);
        expect(text.length).toBeLessThanOrEqual(limits.section);
      }
    }
    const ids = allButtons(blocks).map((b) => b.action_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const b of allButtons(blocks)) {
      expect(b.text.text.length).toBeLessThanOrEqual(limits.buttonText);
      expect(b.action_id.length).toBeLessThanOrEqual(limits.actionId);
      expect(b.value.length).toBeLessThanOrEqual(limits.buttonValue);
    }
  }
}

const incidentRefPattern = /^\*(TEST-INC-\d+)\* /;

describe('agendaMessages: a small agenda', () => {
  const a = smallAgenda();
  const messages = agendaMessages(a, { late: false });
  const blocks = payloadOf(messages[0]!).blocks;
  const items = itemsByHeading(blocks);

  it('fits in one message within Slack limits', () => {
    expect(messages).toHaveLength(1);
    expectWithinSlackLimits(messages);
    expect(slackLimits).toEqual({ blocksPerMessage: limits.blocks, sectionText: limits.section, headerText: limits.header });
  });

  it('opens with the title as a header and the window as context', () => {
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'DMM agenda: Test DMM North, Monday 2 March 2026' } });
    expect(blocks[1]!.type).toBe('context');
    expect(textOf(blocks[1]!)).toBe('Covers incidents reported from Fri 27 Feb 09:00 to Mon 2 Mar 09:00 (72 hours, Europe/London)');
  });

  it('uses the summary as the notification text', () => {
    const summary = agendaSummary(a);
    expect(summary).toBe(
      'DMM agenda: Test DMM North, Monday 2 March 2026: 3 new high-risk incidents, 2 flagged perpetrators, 2 repeat victims, 3 actions due, 1 panel',
    );
    expect(payloadOf(messages[0]!).text).toBe(summary);
  });

  it('has every section, in order, with its count', () => {
    expect([...items.keys()]).toEqual(Object.values(headings));
    expect(items.get(headings.highRiskIncidents)).toHaveLength(3);
    expect(items.get(headings.flaggedPerpetrators)).toHaveLength(2);
    expect(items.get(headings.repeatVictims)).toHaveLength(2);
    expect(items.get(headings.actionsDue)).toHaveLength(3);
    expect(items.get(headings.panels)).toHaveLength(1);
    const headingTexts = sections(blocks).map(textOf).filter((t) => /^\*[^*]+\* \(\d+\)$/.test(t));
    expect(headingTexts).toEqual([
      '*New high-risk incidents* (3)',
      '*Flagged perpetrators* (2)',
      '*Repeat victims* (2)',
      '*Actions due* (3)',
      '*Panels in the next 7 days* (1)',
    ]);
  });

  it('gives every high-risk incident an "Add action" button carrying its reference', () => {
    const incidentBlocks = items.get(headings.highRiskIncidents)!;
    incidentBlocks.forEach((block, index) => {
      const ref = a.highRiskIncidents[index]!.ref;
      expect(textOf(block)).toMatch(new RegExp(`^\\*${ref}\\* `));
      const button = buttonOf(block);
      expect(button).toBeDefined();
      expect(button!.text.text).toBe('Add action');
      expect(button!.action_id.startsWith(addActionId)).toBe(true);
      expect(addActionId).toBe('dmm_add_action');
      expect(JSON.parse(button!.value)).toEqual({ kind: 'incident', subject: ref });
    });
  });

  it('gives every flagged perpetrator an "Add action" button carrying the label, not the reference', () => {
    const perpBlocks = items.get(headings.flaggedPerpetrators)!;
    perpBlocks.forEach((block, index) => {
      const p = a.flaggedPerpetrators[index]!;
      expect(textOf(block)).toContain(`\`${p.label}\` [marac]`);
      const button = buttonOf(block);
      expect(button).toBeDefined();
      expect(button!.action_id.startsWith(addActionId)).toBe(true);
      const value = JSON.parse(button!.value) as unknown;
      expect(value).toEqual({ kind: 'person', subject: p.label });
      expect(button!.value).not.toContain(p.ref);
    });
  });

  it('gives buttons action ids unique within the message', () => {
    const ids = allButtons(blocks).map((b) => b.action_id);
    expect(ids).toHaveLength(a.highRiskIncidents.length + a.flaggedPerpetrators.length);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives repeat victims, actions and panels no button', () => {
    for (const heading of [headings.repeatVictims, headings.actionsDue, headings.panels]) {
      const blocksUnder = items.get(heading)!;
      expect(blocksUnder.length).toBeGreaterThan(0);
      for (const block of blocksUnder) expect(block.accessory).toBeUndefined();
    }
    // Nor do the header, headings or context.
    const withButtons = sections(blocks).filter((b) => b.accessory);
    expect(withButtons).toHaveLength(5);
  });

  it('renders an owner with a Slack user id as a mention, and one without by name', () => {
    const actions = items.get(headings.actionsDue)!.map(textOf);
    expect(actions[0]).toContain('\n<@U0TESTOWNER>, Test Agency · due 2026-03-02 · *overdue*');
    expect(actions[0]).not.toContain('Test Member 1');
    expect(actions[1]).toBe('*A-2* (TEST-INC-2): Test action 2\nTest Member 2, Test Agency · due 2026-03-02');
    expect(actions[1]).not.toContain('<@');
  });

  it('adds the late notice only when late', () => {
    expect(JSON.stringify(messages)).not.toContain('Posted late');
    const late = agendaMessages(a, { late: true });
    const lateBlocks = payloadOf(late[0]!).blocks;
    expect(lateBlocks[2]!.type).toBe('context');
    expect(textOf(lateBlocks[2]!)).toContain('Posted late: the bot was not running at the meeting time.');
    expect(lateBlocks).toHaveLength(blocks.length + 1);
  });
});

describe('agendaBlocks: empty sections', () => {
  it('says in one line that each section is empty', () => {
    const blocks = agendaBlocks(agenda(), { late: false });
    const items = itemsByHeading(blocks);
    const expected: Record<string, string> = {
      [headings.highRiskIncidents]: emptySection.highRiskIncidents,
      [headings.flaggedPerpetrators]: emptySection.flaggedPerpetrators,
      [headings.repeatVictims]: emptySection.repeatVictims,
      [headings.actionsDue]: emptySection.actionsDue,
      [headings.panels]: emptySection.panels,
    };
    expect([...items.keys()]).toEqual(Object.values(headings));
    for (const [heading, text] of Object.entries(expected)) {
      const under = items.get(heading)!;
      expect(under).toHaveLength(1);
      expect(textOf(under[0]!)).toBe(text);
      expect(textOf(under[0]!)).not.toContain('\n');
      expect(under[0]!.accessory).toBeUndefined();
    }
    expect(sections(blocks).map(textOf)).toContain('*New high-risk incidents* (0)');
    expect(agendaSummary(agenda())).toMatch(/: 0 new high-risk incidents, 0 flagged perpetrators, 0 repeat victims, 0 actions due, 0 panels$/);
  });
});

describe('agendaMessages: a long agenda', () => {
  const count = 120;
  const a = agenda({
    highRiskIncidents: Array.from({ length: count }, (_, i) => incident(i + 1)),
    flaggedPerpetrators: Array.from({ length: 8 }, (_, i) => flagged(i + 1)),
    repeatVictims: Array.from({ length: 6 }, (_, i) => repeatVictim(i + 1)),
    actionsDue: Array.from({ length: 10 }, (_, i) => action(i + 1)),
  });
  const messages = agendaMessages(a, { late: true });
  const n = messages.length;

  it('splits into several messages, each within Slack limits', () => {
    const total = agendaBlocks(a, { late: true }).length;
    expect(total).toBeGreaterThan(limits.blocks * 2);
    expect(n).toBeGreaterThanOrEqual(Math.ceil(total / limits.blocks));
    expectWithinSlackLimits(messages);
  });

  it('opens each continuation with "continued k of n", and the first with the title', () => {
    expect(payloadOf(messages[0]!).blocks[0]!.type).toBe('header');
    expect(JSON.stringify(payloadOf(messages[0]!).blocks)).not.toContain('continued');
    messages.slice(1).forEach((m, index) => {
      const first = payloadOf(m).blocks[0]!;
      expect(first.type).toBe('context');
      expect(textOf(first)).toBe(`_continued ${index + 2} of ${n}_`);
    });
  });

  it('has a plain-text fallback on every message', () => {
    expect(payloadOf(messages[0]!).text).toBe(`${agendaSummary(a)} (1 of ${n})`);
    messages.slice(1).forEach((m, index) => {
      expect(payloadOf(m).text).toBe(`DMM agenda: Test DMM North, Monday 2 March 2026 (continued ${index + 2} of ${n})`);
    });
  });

  it('loses no block: the messages hold every block, in order', () => {
    const rejoined = messages.flatMap((m, index) => (index === 0 ? payloadOf(m).blocks : payloadOf(m).blocks.slice(1)));
    expect(rejoined).toEqual(agendaBlocks(a, { late: true }));
  });

  it('shows all 120 incidents across the messages, in order, each once', () => {
    const refs = messages.flatMap((m) =>
      sections(payloadOf(m).blocks)
        .map((b) => incidentRefPattern.exec(textOf(b))?.[1])
        .filter((r): r is string => r !== undefined),
    );
    expect(refs).toEqual(a.highRiskIncidents.map((i) => i.ref));
    expect(refs).toHaveLength(count);
  });

  it('keeps button action ids unique, with every incident and flagged perpetrator still having one', () => {
    const buttons = messages.flatMap((m) => allButtons(payloadOf(m).blocks));
    expect(buttons).toHaveLength(count + 8);
    expect(new Set(buttons.map((b) => b.action_id)).size).toBe(buttons.length);
    const subjects = buttons.map((b) => (JSON.parse(b.value) as { subject: string }).subject);
    expect(subjects).toEqual([...a.highRiskIncidents.map((i) => i.ref), ...a.flaggedPerpetrators.map((p) => p.label)]);
  });

  it('keeps a section within 3,000 characters even when an item is huge, and says it was cut', () => {
    const huge = agenda({ actionsDue: [action(1, { text: '&'.repeat(2_000) })], meeting: { key: 'slack:C0TEST0001', name: `Test ${'N'.repeat(200)}`, timeZone: 'Europe/London' } });
    const hugeMessages = agendaMessages(huge, { late: false });
    expectWithinSlackLimits(hugeMessages);
    const actionText = textOf(itemsByHeading(payloadOf(hugeMessages[0]!).blocks).get(headings.actionsDue)![0]!);
    expect(actionText.endsWith('… (cut)')).toBe(true);
    const header = payloadOf(hugeMessages[0]!).blocks[0]!;
    expect(textOf(header).endsWith('… (cut)')).toBe(true);
  });
});

describe('privacy: no person reference reaches Slack', () => {
  it('shows labels and incident references, never a person’s records-system reference', () => {
    const cases = [smallAgenda(), agenda({ highRiskIncidents: Array.from({ length: 120 }, (_, i) => incident(i + 1)), flaggedPerpetrators: [flagged(7)] })];
    for (const a of cases) {
      const json = JSON.stringify(agendaMessages(a, { late: true }));
      const refs = personRefs(a);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) expect(json).not.toContain(ref);
      expect(json).not.toContain('TEST-PERSON-');
      for (const i of a.highRiskIncidents) {
        expect(json).toContain(i.ref);
        expect(json).toContain(i.perpetrator.label);
        expect(json).toContain(i.victim.label);
      }
    }
  });

  it('carries no person reference in any button value', () => {
    const a = smallAgenda();
    const refs = personRefs(a);
    for (const button of allButtons(agendaBlocks(a, { late: false }))) {
      for (const ref of refs) expect(button.value).not.toContain(ref);
    }
  });
});

describe('escaping', () => {
  it('escapes text from people and records so it can never ping, link or mention', () => {
    const hostile = '<!channel> *bold* & <@U123>';
    const a = agenda({
      highRiskIncidents: [incident(1, { area: '<!here> Test Area', category: '<https://example.invalid|click>' })],
      actionsDue: [action(1, { text: hostile, label: '<!everyone>' })],
    });
    const messages = agendaMessages(a, { late: false });
    const json = JSON.stringify(messages);
    for (const raw of ['<!channel>', '<@U123>', '<!here>', '<!everyone>', '<https://example.invalid']) expect(json).not.toContain(raw);
    const blocks = payloadOf(messages[0]!).blocks;
    const actionText = textOf(itemsByHeading(blocks).get(headings.actionsDue)![0]!);
    expect(actionText).toContain('&lt;!channel&gt; *bold* &amp; &lt;@U123&gt;');
    expect(actionText).toContain('(&lt;!everyone&gt;)');
    const incidentText = textOf(itemsByHeading(blocks).get(headings.highRiskIncidents)![0]!);
    expect(incidentText).toContain('&lt;!here&gt; Test Area');
    expect(incidentText).toContain('&lt;https://example.invalid|click&gt;');
  });
});
