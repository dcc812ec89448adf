// The agenda as readable plain text: for `dmm agenda`, the console channel, and chat fallbacks.
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns/format';
import { leverLine, type Agenda, type AgendaAction, type AgendaIncident, type AgendaLever, type OverdueLever } from './agenda.js';

export function formatLocal(instant: Date, timeZone: string, pattern = 'EEE d MMM HH:mm'): string {
  return format(new TZDate(instant.getTime(), timeZone), pattern);
}

export function formatLocalDay(day: string, pattern = 'EEEE d MMMM yyyy'): string {
  return format(new TZDate(`${day}T12:00:00Z`, 'UTC'), pattern);
}

export function windowHours(agenda: Agenda): number {
  return Math.round((agenda.window.end.getTime() - agenda.window.start.getTime()) / 3_600_000);
}

export function agendaTitle(agenda: Agenda): string {
  return `DMM agenda: ${agenda.meeting.name}, ${formatLocalDay(agenda.meetingDate)}`;
}

export function windowLine(agenda: Agenda): string {
  const tz = agenda.meeting.timeZone;
  return `Covers incidents reported from ${formatLocal(agenda.window.start, tz)} to ${formatLocal(agenda.window.end, tz)} (${windowHours(agenda)} hours, ${tz})`;
}

export function incidentLine(incident: AgendaIncident, timeZone: string): string {
  const flags = incident.perpetrator.activeFlags.length ? ` [${incident.perpetrator.activeFlags.join(', ')}]` : '';
  return [
    `${incident.ref} reported ${formatLocal(incident.reportedAt, timeZone)}, ${incident.area}, ${incident.category}`,
    `perpetrator ${incident.perpetrator.label}${flags}`,
    `victim ${incident.victim.label} (${incident.victim.incidentsLast365Days} in 365 days)`,
    incident.childrenPresent ? 'children present' : 'no children present',
    ...(incident.profJudgement ? ['raised by professional judgement'] : []),
  ].join('; ');
}

export function actionLine(action: AgendaAction): string {
  const about = action.label ? ` (${action.label})` : '';
  const owner = action.owner.name || `member ${action.owner.memberId}`;
  return `${action.id}${about}: ${action.text}; ${owner}, ${action.owner.agency}; due ${action.dueOn}${action.overdue ? ' OVERDUE' : ''}`;
}

export function dueLeverText(lever: AgendaLever, timeZone: string): string {
  return `${leverLine(lever)}, by ${formatLocal(lever.dueBy, timeZone)}${lever.overdue ? ' OVERDUE' : ''}`;
}

export function overdueLeverLine(lever: OverdueLever, timeZone: string): string {
  return `${lever.label}: lever ${lever.tier} (${lever.tierName}) after ${lever.incidentRef} was due by ${formatLocal(lever.dueBy, timeZone)}; OVERDUE`;
}

export const emptySection = {
  highRiskIncidents: 'No new high-risk incidents.',
  flaggedPerpetrators: 'No flagged perpetrator has a new incident.',
  repeatVictims: 'No repeat victims.',
  actionsDue: 'No actions due.',
  panels: 'No panels in the next 7 days.',
} as const;

export function renderAgendaText(agenda: Agenda, options: { late?: boolean } = {}): string {
  const tz = agenda.meeting.timeZone;
  const lines: string[] = [agendaTitle(agenda), windowLine(agenda)];
  if (options.late) lines.push('Posted late: the bot was not running at the meeting time.');
  const section = (title: string, items: string[], empty: string) => {
    lines.push('', `${title} (${items.length})`);
    if (items.length === 0) lines.push(`  ${empty}`);
    for (const item of items) lines.push(`  - ${item}`);
  };
  section('New high-risk incidents', agenda.highRiskIncidents.map((i) => incidentLine(i, tz)), emptySection.highRiskIncidents);
  section(
    'Flagged perpetrators',
    agenda.flaggedPerpetrators.map(
      (p) =>
        `${p.label} [${p.flags.map((f) => f.kind).join(', ')}]: ${p.incidents
          .map((i) => `${i.ref} ${formatLocal(i.reportedAt, tz)} ${i.riskLevel} ${i.category}`)
          .join('; ')}${(p.leversDue ?? []).map((l) => `; ${dueLeverText(l, tz)}`).join('')}`,
    ),
    emptySection.flaggedPerpetrators,
  );
  section(
    'Repeat victims',
    agenda.repeatVictims.map((v) => `${v.label}: ${v.incidentsLast365Days} incidents in 365 days, ${v.incidentsInWindow} new`),
    emptySection.repeatVictims,
  );
  const overdueLevers = (agenda.leversOverdue ?? []).map((l) => overdueLeverLine(l, tz));
  section('Actions due', [...agenda.actionsDue.map(actionLine), ...overdueLevers], emptySection.actionsDue);
  section(
    'Panels',
    agenda.panels.map((p) => `${p.ref} ${formatLocal(p.startsAt, tz)} ${p.label}`),
    emptySection.panels,
  );
  return lines.join('\n');
}
