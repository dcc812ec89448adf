// Renders the agenda model as Slack Block Kit messages within Slack's limits: at most 50 blocks a
// message, 3,000 characters a section and 150 a header. A long agenda continues in thread replies.
import type { KnownBlock } from '@slack/types';
import { leverActionText, type Agenda } from '../../domain/agenda.js';
import { agendaTitle, dueLeverText, emptySection, formatLocal, overdueLeverLine, windowLine } from '../../domain/agenda-text.js';
import { localDateOf } from '../../domain/agenda-window.js';
import type { OutgoingMessage } from '../../ports.js';
import { escapeMrkdwn } from './mrkdwn.js';

export const slackLimits = { blocksPerMessage: 50, sectionText: 3_000, headerText: 150 } as const;
export const addActionId = 'dmm_add_action';
export const recordLeverId = 'dmm_record_lever';

export interface SlackMessagePayload {
  text: string;
  blocks: KnownBlock[];
}

/**
 * What an "Add action" button carries: the subject to prefill, as chat shows it. A person is named
 * by their label only: button values travel through Slack, and records-system references must not.
 */
export interface AddActionValue {
  kind: 'incident' | 'person';
  /** The incident reference, or the person's pseudonymous label. */
  subject: string;
  /** A due lever prefills its action and due day. */
  text?: string;
  due?: string;
}

function section(text: string, button?: { value: AddActionValue; id: string }): KnownBlock {
  const block: KnownBlock = { type: 'section', text: { type: 'mrkdwn', text: fit(text, slackLimits.sectionText) } };
  if (button) {
    block.accessory = {
      type: 'button',
      action_id: `${addActionId}:${button.id}`,
      text: { type: 'plain_text', text: 'Add action' },
      value: JSON.stringify(button.value),
    };
  }
  return block;
}

/** Item lines are short by construction; a limit is a guard, and a cut line says so. */
/** What a "Record lever" button carries: the treated person's label, the lever's incident and tier. */
export interface RecordLeverValue {
  subject: string;
  incident: string;
  tier: string;
}

export function fit(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 12)}… (cut)`;
}

export function agendaSummary(agenda: Agenda): string {
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  return `${escapeMrkdwn(agendaTitle(agenda))}: ${n(agenda.highRiskIncidents.length, 'new high-risk incident', 'new high-risk incidents')}, ${n(
    agenda.flaggedPerpetrators.length,
    'flagged perpetrator',
    'flagged perpetrators',
  )}, ${n(agenda.repeatVictims.length, 'repeat victim', 'repeat victims')}, ${n(agenda.actionsDue.length + (agenda.leversOverdue?.length ?? 0), 'action due', 'actions due')}, ${n(
    agenda.panels.length,
    'panel',
    'panels',
  )}`;
}

export function agendaBlocks(agenda: Agenda, options: { late: boolean }): KnownBlock[] {
  const tz = agenda.meeting.timeZone;
  const e = escapeMrkdwn;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: fit(agendaTitle(agenda), slackLimits.headerText) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: e(windowLine(agenda)) }] },
  ];
  if (options.late) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: ':warning: Posted late: the bot was not running at the meeting time.' }] });
  const heading = (title: string, count: number) => {
    blocks.push({ type: 'divider' }, section(`*${title}* (${count})`));
  };
  heading('New high-risk incidents', agenda.highRiskIncidents.length);
  if (agenda.highRiskIncidents.length === 0) blocks.push(section(emptySection.highRiskIncidents));
  agenda.highRiskIncidents.forEach((i, index) => {
    const flags = i.perpetrator.activeFlags.length ? ` [${i.perpetrator.activeFlags.join(', ')}]` : '';
    blocks.push(
      section(
        `*${e(i.ref)}* ${formatLocal(i.reportedAt, tz)} · ${e(i.area)} · ${e(i.category)}${i.profJudgement ? ' · raised by professional judgement' : ''}\n` +
          `Perpetrator \`${e(i.perpetrator.label)}\`${e(flags)} · Victim \`${e(i.victim.label)}\` (${i.victim.incidentsLast365Days} in 365 days) · ${
            i.childrenPresent ? 'children present' : 'no children present'
          }`,
        { id: `i${index}`, value: { kind: 'incident', subject: i.ref } },
      ),
    );
  });
  heading('Flagged perpetrators', agenda.flaggedPerpetrators.length);
  if (agenda.flaggedPerpetrators.length === 0) blocks.push(section(emptySection.flaggedPerpetrators));
  agenda.flaggedPerpetrators.forEach((p, index) => {
    const incidents = p.incidents.map((i) => `${e(i.ref)} ${formatLocal(i.reportedAt, tz)} ${i.riskLevel} ${e(i.category)}`).join('\n');
    const lever = p.leversDue?.[0];
    const levers = (p.leversDue ?? []).map((l) => `\n:bell: ${e(dueLeverText(l, tz))}`).join('');
    blocks.push(
      section(`\`${e(p.label)}\` [${p.flags.map((f) => f.kind).join(', ')}]\n${incidents}${levers}`, {
        id: `p${index}`,
        value: lever
          ? { kind: 'incident', subject: lever.incidentRef, text: leverActionText(lever), due: localDateOf(lever.dueBy, tz) }
          : { kind: 'person', subject: p.label },
      }),
    );
    if (lever) {
      const value: RecordLeverValue = { subject: p.label, incident: lever.incidentRef, tier: lever.tier };
      blocks.push({
        type: 'actions',
        elements: [{ type: 'button', action_id: `${recordLeverId}:p${index}`, text: { type: 'plain_text', text: `Record lever ${lever.tier}` }, value: JSON.stringify(value) }],
      });
    }
  });
  heading('Repeat victims', agenda.repeatVictims.length);
  if (agenda.repeatVictims.length === 0) blocks.push(section(emptySection.repeatVictims));
  for (const v of agenda.repeatVictims) {
    blocks.push(section(`\`${e(v.label)}\`: ${v.incidentsLast365Days} incidents in 365 days, ${v.incidentsInWindow} new`));
  }
  const overdueLevers = agenda.leversOverdue ?? [];
  heading('Actions due', agenda.actionsDue.length + overdueLevers.length);
  if (agenda.actionsDue.length + overdueLevers.length === 0) blocks.push(section(emptySection.actionsDue));
  for (const l of overdueLevers) blocks.push(section(`:warning: ${e(overdueLeverLine(l, tz))}`));
  for (const a of agenda.actionsDue) {
    const owner = a.owner.slackUserId ? `<@${a.owner.slackUserId}>` : e(a.owner.name || `member ${a.owner.memberId}`);
    blocks.push(
      section(`*${a.id}*${a.label ? ` (${e(a.label)})` : ''}: ${e(a.text)}\n${owner}, ${e(a.owner.agency)} · due ${a.dueOn}${a.overdue ? ' · *overdue*' : ''}`),
    );
  }
  heading('Panels in the next 7 days', agenda.panels.length);
  if (agenda.panels.length === 0) blocks.push(section(emptySection.panels));
  for (const p of agenda.panels) blocks.push(section(`*${p.ref}* ${formatLocal(p.startsAt, tz)} · ${e(p.label)}`));
  return blocks;
}

/** Splits the blocks into messages; each continuation opens with "continued n of m". */
export function agendaMessages(agenda: Agenda, options: { late: boolean }): OutgoingMessage[] {
  const blocks = agendaBlocks(agenda, options);
  const perContinuation = slackLimits.blocksPerMessage - 1;
  const chunks: KnownBlock[][] = [blocks.slice(0, slackLimits.blocksPerMessage)];
  for (let i = slackLimits.blocksPerMessage; i < blocks.length; i += perContinuation) chunks.push(blocks.slice(i, i + perContinuation));
  const summary = agendaSummary(agenda);
  return chunks.map((chunk, index) => {
    const marker = `continued ${index + 1} of ${chunks.length}`;
    const payload: SlackMessagePayload =
      index === 0
        ? { text: chunks.length > 1 ? `${summary} (1 of ${chunks.length})` : summary, blocks: chunk }
        : { text: `${escapeMrkdwn(agendaTitle(agenda))} (${marker})`, blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: `_${marker}_` }] }, ...chunk] };
    return { summary: payload.text, payload };
  });
}
