// The daily agenda as a platform-neutral model: what the meeting must look at, built once and
// rendered by each chat adapter. Labels, references and counts only; no names, no free text about people.
import type { AgendaWindow } from './agenda-window.js';
import type { LocalDate } from './calendar.js';
import type { FlagKind, RiskLevel } from './records.js';

/** MARAC's "potential escalation" criterion: 3 or more incidents in the 12 months before. */
export const repeatVictimThreshold = 3;
export const repeatVictimLookbackDays = 365;
export const panelLookaheadDays = 7;

export interface PersonRef {
  /** The records-system reference: for analysts' output, never shown in chat. */
  ref: string;
  /** The pseudonymous label chat shows. */
  label: string;
}

export interface AgendaIncident {
  /** The incident's records-system reference (`source_ref`). */
  ref: string;
  /** What chat shows for the incident: its reference, which names no one. */
  label: string;
  sourceSystem: string;
  reportedAt: Date;
  riskLevel: RiskLevel;
  profJudgement: boolean;
  category: string;
  area: string;
  childrenPresent: boolean;
  perpetrator: PersonRef & { activeFlags: FlagKind[] };
  victim: PersonRef & { incidentsLast365Days: number };
}

export interface ActiveFlag {
  kind: FlagKind;
  startsOn: LocalDate;
  endsOn: LocalDate | null;
}

/** A focused-deterrence lever a treated perpetrator's incident made due, not yet given. */
export interface AgendaLever {
  tier: string;
  tierName: string;
  mode: string;
  incidentRef: string;
  dueBy: Date;
  overdue: boolean;
}

export interface FlaggedPerpetrator extends PersonRef {
  flags: ActiveFlag[];
  incidents: Array<Pick<AgendaIncident, 'ref' | 'label' | 'reportedAt' | 'riskLevel' | 'category' | 'area'>>;
  /** For a trial's treated perpetrator: the levers due, oldest first. */
  leversDue?: AgendaLever[];
}

export type OverdueLever = PersonRef & AgendaLever;

export interface RepeatVictim extends PersonRef {
  incidentsLast365Days: number;
  incidentsInWindow: number;
}

export type ActionStatus = 'open' | 'done' | 'cancelled';

/** An action as chat and the agenda show it. */
export interface AgendaAction {
  /** Short human id, `A-123`. */
  id: string;
  status: ActionStatus;
  /** The records-system reference of what the action is about (an incident or a person). */
  ref: string;
  /** What chat shows for it: the incident reference or the person's label. */
  label: string;
  text: string;
  dueOn: LocalDate;
  overdue: boolean;
  owner: { memberId: number; name: string; agency: string; slackUserId: string | null; teamsUserId: string | null };
  /** The incident reference or the person's label the action is about. */
  subject: { incidentRef: string | null; person: PersonRef | null };
}

export type ActionView = AgendaAction;

export interface AgendaPanel {
  id: number;
  /** Short human id, `P-12`. */
  ref: string;
  label: string;
  kind: string;
  title: string;
  startsAt: Date;
}

export interface Agenda {
  meeting: { key: string; name: string; timeZone: string };
  meetingDate: LocalDate;
  window: AgendaWindow;
  highRiskIncidents: AgendaIncident[];
  flaggedPerpetrators: FlaggedPerpetrator[];
  repeatVictims: RepeatVictim[];
  actionsDue: AgendaAction[];
  /** Levers past their target (e.g. 72 hours after the incident), listed with the actions due. */
  leversOverdue?: OverdueLever[];
  panels: AgendaPanel[];
}

/** The action the "Add action" button of a due lever prefills. */
export function leverActionText(lever: AgendaLever): string {
  return `Deliver lever ${lever.tier} (${lever.tierName}, ${lever.mode}) after ${lever.incidentRef}`;
}

/** An action whose text starts like this is a lever's: recording the lever for its incident closes it. */
export const leverActionPrefix = /^deliver lever\b/i;

export function leverLine(lever: AgendaLever): string {
  return `lever ${lever.tier} (${lever.tierName}) due after ${lever.incidentRef}`;
}

export function actionId(id: number): string {
  return `A-${id}`;
}

/** `A-123`, `a-123` or `123` → 123; anything else → undefined. */
export function parseActionId(text: string): number | undefined {
  const match = /^(?:[Aa]-)?(\d{1,9})$/.exec(text.trim());
  return match ? Number(match[1]) : undefined;
}

/** Oldest first, then by reference, so the order never depends on how the store returns rows. */
export function byReportedAt<T extends { reportedAt: Date; ref: string }>(a: T, b: T): number {
  return a.reportedAt.getTime() - b.reportedAt.getTime() || a.ref.localeCompare(b.ref);
}

/** The agenda as JSON for `dmm agenda --json`: instants as ISO 8601 strings. */
export function agendaAsJson(agenda: Agenda): unknown {
  return JSON.parse(
    JSON.stringify({
      meeting: agenda.meeting,
      meetingDate: agenda.meetingDate,
      window: { start: agenda.window.start, end: agenda.window.end },
      highRiskIncidents: agenda.highRiskIncidents,
      flaggedPerpetrators: agenda.flaggedPerpetrators,
      repeatVictims: agenda.repeatVictims,
      actionsDue: agenda.actionsDue,
      leversOverdue: agenda.leversOverdue ?? [],
      panels: agenda.panels,
    }),
  );
}
