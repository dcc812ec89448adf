// Renders the agenda, action cards, reminders and the "Add action" dialog as Adaptive Cards 1.5 (the
// highest Teams supports for bot messages), each message kept under 80 KB counted in UTF-16.
import { leverActionText, type ActionView, type Agenda } from '../../domain/agenda.js';
import { localDateOf } from '../../domain/agenda-window.js';
import { agendaTitle, dueLeverText, emptySection, formatLocal, overdueLeverLine, windowLine } from '../../domain/agenda-text.js';
import type { OutgoingMessage, Reply, ReminderView } from '../../ports.js';

/** Teams refuses messages over 100 KB of UTF-16 (2 bytes a character): 40 K characters keep under 80 KB. */
export const maxMessageChars = 40 * 1024;
export const cardContentType = 'application/vnd.microsoft.card.adaptive';

type Element = Record<string, unknown>;

export interface TeamsActivity {
  type: 'message';
  summary: string;
  text?: string;
  textFormat?: 'plain';
  attachments?: Array<{ contentType: string; content: Record<string, unknown> }>;
  entities?: unknown[];
}

/** What the "Add action" button hands to the dialog. */
export interface AddActionData {
  dmm: 'add-action';
  kind: 'incident' | 'person';
  subject: string;
  /** A due lever prefills its action and due day. */
  text?: string;
  due?: string;
}

export function card(body: Element[], actions: Element[] = []): Record<string, unknown> {
  return { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.5', body, ...(actions.length ? { actions } : {}) };
}

export function cardActivity(summary: string, body: Element[], actions: Element[] = []): TeamsActivity {
  return { type: 'message', summary, attachments: [{ contentType: cardContentType, content: card(body, actions) }] };
}

/**
 * Card text is shown as typed: Adaptive Cards render neither HTML nor `<at>` mentions from text, and
 * the Markdown marks that make emphasis or links are escaped so a typed `[link](…)` or `**` stays literal.
 */
export function plain(text: string): string {
  return text.replace(/([\\*_\[\]])/g, '\\$1');
}

const text = (value: string, extra: Element = {}): Element => ({ type: 'TextBlock', text: value, wrap: true, ...extra });

function addActionButton(kind: 'incident' | 'person', subject: string, prefill: { text: string; due: string } | undefined = undefined): Element {
  const data: AddActionData & { msteams: { type: 'task/fetch' } } = { msteams: { type: 'task/fetch' }, dmm: 'add-action', kind, subject, ...(prefill ?? {}) };
  return { type: 'ActionSet', actions: [{ type: 'Action.Submit', title: 'Add action', data }] };
}

/** What a "Record lever" button carries: the treated person's label, the lever's incident and tier. */
export interface RecordLeverData {
  dmm: 'record-lever';
  subject: string;
  incident: string;
  tier: string;
}

function recordLeverButton(data: RecordLeverData): Element {
  return { type: 'ActionSet', actions: [{ type: 'Action.Submit', title: `Record lever ${data.tier}`, data: { msteams: { type: 'task/fetch' }, ...data } }] };
}

/** The "Record lever" dialog: tier, mode, outcome and script version, for one lever due. */
export function recordLeverDialog(
  data: Pick<RecordLeverData, 'subject' | 'incident' | 'tier'>,
  tiers: Array<{ tier: string; name: string; mode: string }>,
  modes: readonly string[],
  outcomes: readonly string[],
  problem?: string,
): Record<string, unknown> {
  const due = tiers.find((t) => t.tier === data.tier);
  return card(
    [
      text(`Lever for ${plain(data.subject)} after ${plain(data.incident)}`, { weight: 'Bolder' }),
      { type: 'Input.ChoiceSet', id: 'tier', label: 'Tier', choices: tiers.map((t) => ({ title: `${t.tier}: ${t.name}`, value: t.tier })), value: due?.tier ?? '', isRequired: true, errorMessage: 'Choose the tier' },
      { type: 'Input.ChoiceSet', id: 'mode', label: 'How it was given', choices: modes.map((m) => ({ title: m, value: m })), value: due?.mode ?? '', isRequired: true, errorMessage: 'Choose how' },
      { type: 'Input.ChoiceSet', id: 'outcome', label: 'Outcome', choices: outcomes.map((o) => ({ title: o, value: o })), value: 'delivered', isRequired: true, errorMessage: 'Choose the outcome' },
      { type: 'Input.Text', id: 'script', label: "Script version (empty: the tier's latest)", maxLength: 64 },
      ...(problem ? [text(plain(problem), { color: 'Attention', size: 'Small' })] : []),
    ],
    [{ type: 'Action.Submit', title: 'Record', data: { dmm: 'record-lever-submit', subject: data.subject, incident: data.incident } }],
  );
}

function agendaElements(agenda: Agenda, options: { late: boolean }): Element[] {
  const tz = agenda.meeting.timeZone;
  const elements: Element[] = [text(plain(windowLine(agenda)), { isSubtle: true, spacing: 'None' })];
  if (options.late) elements.push(text('Posted late: the bot was not running at the meeting time.', { color: 'Warning' }));
  const heading = (title: string, count: number) => elements.push(text(`${title} (${count})`, { weight: 'Bolder', size: 'Medium', separator: true }));
  heading('New high-risk incidents', agenda.highRiskIncidents.length);
  if (agenda.highRiskIncidents.length === 0) elements.push(text(emptySection.highRiskIncidents));
  for (const i of agenda.highRiskIncidents) {
    const flags = i.perpetrator.activeFlags.length ? ` [${i.perpetrator.activeFlags.join(', ')}]` : '';
    elements.push({
      type: 'Container',
      items: [
        text(`**${plain(i.ref)}** ${formatLocal(i.reportedAt, tz)} · ${plain(i.area)} · ${plain(i.category)}${i.profJudgement ? ' · raised by professional judgement' : ''}`),
        text(`Perpetrator ${plain(i.perpetrator.label)}${plain(flags)} · Victim ${plain(i.victim.label)} (${i.victim.incidentsLast365Days} in 365 days) · ${i.childrenPresent ? 'children present' : 'no children present'}`, { spacing: 'None' }),
        addActionButton('incident', i.ref),
      ],
    });
  }
  heading('Flagged perpetrators', agenda.flaggedPerpetrators.length);
  if (agenda.flaggedPerpetrators.length === 0) elements.push(text(emptySection.flaggedPerpetrators));
  for (const p of agenda.flaggedPerpetrators) {
    elements.push({
      type: 'Container',
      items: [
        text(`${plain(p.label)} [${p.flags.map((f) => f.kind).join(', ')}]`, { weight: 'Bolder' }),
        ...p.incidents.map((i) => text(`${plain(i.ref)} ${formatLocal(i.reportedAt, tz)} ${i.riskLevel} ${plain(i.category)}`, { spacing: 'None' })),
        ...(p.leversDue ?? []).map((l) => text(plain(dueLeverText(l, tz)), { spacing: 'None', color: l.overdue ? 'Attention' : 'Accent' })),
        p.leversDue?.[0]
          ? addActionButton('incident', p.leversDue[0].incidentRef, { text: leverActionText(p.leversDue[0]), due: localDateOf(p.leversDue[0].dueBy, tz) })
          : addActionButton('person', p.label),
        ...(p.leversDue?.[0] ? [recordLeverButton({ dmm: 'record-lever', subject: p.label, incident: p.leversDue[0].incidentRef, tier: p.leversDue[0].tier })] : []),
      ],
    });
  }
  heading('Repeat victims', agenda.repeatVictims.length);
  if (agenda.repeatVictims.length === 0) elements.push(text(emptySection.repeatVictims));
  for (const v of agenda.repeatVictims) elements.push(text(`${plain(v.label)}: ${v.incidentsLast365Days} incidents in 365 days, ${v.incidentsInWindow} new`));
  const overdueLevers = agenda.leversOverdue ?? [];
  heading('Actions due', agenda.actionsDue.length + overdueLevers.length);
  if (agenda.actionsDue.length + overdueLevers.length === 0) elements.push(text(emptySection.actionsDue));
  for (const a of agenda.actionsDue) elements.push(text(actionText(a)));
  for (const l of overdueLevers) elements.push(text(plain(overdueLeverLine(l, tz)), { color: 'Attention' }));
  heading('Panels in the next 7 days', agenda.panels.length);
  if (agenda.panels.length === 0) elements.push(text(emptySection.panels));
  for (const p of agenda.panels) elements.push(text(`**${plain(p.ref)}** ${formatLocal(p.startsAt, tz)} · ${plain(p.label)}`));
  return elements;
}

function size(activity: TeamsActivity): number {
  return JSON.stringify(activity).length;
}

/** Splits the agenda into cards under the size limit; each continuation says "continued n of m". */
export function agendaMessages(agenda: Agenda, options: { late: boolean }): OutgoingMessage[] {
  const title = agendaTitle(agenda);
  const elements = agendaElements(agenda, options);
  const chunks: Element[][] = [[]];
  // Room for the title, the continuation marker and the envelope.
  const budget = maxMessageChars - 2_000;
  let used = 0;
  for (const element of elements) {
    const cost = JSON.stringify(element).length + 1;
    if (used + cost > budget && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      used = 0;
    }
    chunks.at(-1)!.push(element);
    used += cost;
  }
  const summary = `${title}: ${agenda.highRiskIncidents.length} new high-risk incidents, ${agenda.flaggedPerpetrators.length} flagged perpetrators, ${agenda.repeatVictims.length} repeat victims, ${agenda.actionsDue.length + (agenda.leversOverdue?.length ?? 0)} actions due, ${agenda.panels.length} panels`;
  return chunks.map((chunk, index) => {
    const marker = `continued ${index + 1} of ${chunks.length}`;
    const head = index === 0 ? [text(plain(title), { size: 'Large', weight: 'Bolder' })] : [text(`${plain(title)} (${marker})`, { isSubtle: true })];
    const activity = cardActivity(index === 0 ? summary : `${title} (${marker})`, [...head, ...chunk]);
    if (size(activity) > maxMessageChars) throw new Error('an agenda element alone exceeds the Teams message size');
    return { summary: activity.summary, payload: activity };
  });
}

export function actionText(a: ActionView): string {
  const owner = a.owner.name || `member ${a.owner.memberId}`;
  const state = a.status === 'open' ? (a.overdue ? ' · **overdue**' : '') : ` · ${a.status}`;
  return `**${a.id}**${a.label ? ` (${plain(a.label)})` : ''}: ${plain(a.text)} · ${plain(owner)}, ${plain(a.owner.agency)} · due ${a.dueOn}${state}`;
}

/** An action with "Done" and "Update" (Action.Execute), so the card can be refreshed in place. */
export function actionElements(a: ActionView, note?: { askForNote: boolean }): Element[] {
  const items: Element[] = [text(actionText(a))];
  if (a.status === 'open') {
    if (note?.askForNote) {
      items.push(
        { type: 'Input.Text', id: 'note', isMultiline: true, maxLength: 1000, placeholder: 'Progress note', label: 'Progress note', isRequired: true, errorMessage: 'Write a note' },
        { type: 'ActionSet', actions: [{ type: 'Action.Execute', title: 'Save note', verb: 'save-note', data: { id: a.id } }] },
      );
    } else {
      items.push({
        type: 'ActionSet',
        actions: [
          { type: 'Action.Execute', title: 'Done', verb: 'done', data: { id: a.id }, style: 'positive' },
          { type: 'Action.Execute', title: 'Update', verb: 'update', data: { id: a.id } },
        ],
      });
    }
  }
  return [{ type: 'Container', items, separator: true }];
}

export function replyActivities(reply: Reply): TeamsActivity[] {
  const activities: TeamsActivity[] = [];
  if (reply.agenda) activities.push(...agendaMessages(reply.agenda, { late: false }).map((m) => m.payload as TeamsActivity));
  const actions = reply.actions ?? [];
  if (reply.image) {
    const withImage = cardActivity(reply.text.slice(0, 200) || reply.image.title, [
      text(plain(reply.text)),
      { type: 'Image', url: `data:image/png;base64,${Buffer.from(reply.image.png).toString('base64')}`, altText: reply.image.altText, size: 'Stretch' },
    ]);
    // A chart too large for one Teams message goes without it: the text says where the full report is.
    activities.push(
      JSON.stringify(withImage).length <= maxMessageChars
        ? withImage
        : cardActivity(reply.text.slice(0, 200), [text(plain(`${reply.text}\n\n(The chart is too large for a Teams message: see report.html.)`))]),
    );
    return activities;
  }
  if (actions.length === 0) {
    if (reply.text || activities.length === 0) activities.push({ type: 'message', summary: reply.text.slice(0, 200) || 'Done.', text: reply.text || 'Done.', textFormat: 'plain' });
    return activities;
  }
  const body: Element[] = reply.text ? [text(plain(reply.text))] : [];
  for (const a of actions) body.push(...actionElements(a));
  activities.push(cardActivity(reply.text.slice(0, 200) || actions.map((a) => a.id).join(', '), body));
  return activities;
}

export function reminderMessage(reminder: ReminderView): OutgoingMessage {
  const body: Element[] = [text(plain(reminder.heading), { weight: 'Bolder' })];
  for (const a of reminder.actions) body.push(...actionElements(a));
  const activity = cardActivity(reminder.heading, body);
  return { summary: reminder.heading, payload: activity };
}

export interface DialogChoices {
  owners: Array<{ title: string; value: string }>;
}

/** The "Add action" dialog: owner picker, due date, text, prefilled subject; problems shown in the form. */
export function addActionDialog(subject: string, choices: DialogChoices, defaultDue: string, problems: Partial<Record<'subject' | 'owner' | 'due' | 'text', string>> = {}, values: Partial<Record<string, string>> = {}): Record<string, unknown> {
  const problem = (field: keyof typeof problems): Element[] => (problems[field] ? [text(plain(problems[field]!), { color: 'Attention', spacing: 'None', size: 'Small' })] : []);
  return card(
    [
      { type: 'Input.Text', id: 'subject', label: 'About (an incident reference or a person\'s label)', value: values.subject ?? subject, maxLength: 64, isRequired: true, errorMessage: 'Say what the action is about' },
      ...problem('subject'),
      { type: 'Input.ChoiceSet', id: 'owner', label: 'Owner', choices: choices.owners, value: values.owner ?? '', isRequired: true, errorMessage: 'Choose the owner' },
      ...problem('owner'),
      { type: 'Input.Date', id: 'due', label: 'Due', value: values.due ?? defaultDue, isRequired: true, errorMessage: 'Give a due date' },
      ...problem('due'),
      { type: 'Input.Text', id: 'text', label: 'Action (no names or addresses of victims)', isMultiline: true, maxLength: 1000, value: values.text ?? '', isRequired: true, errorMessage: 'Say what is to be done' },
      ...problem('text'),
    ],
    [{ type: 'Action.Submit', title: 'Record', data: { dmm: 'add-action-submit' } }],
  );
}
