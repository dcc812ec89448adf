// Reads what one day's agenda needs, in a handful of indexed queries, and returns it as the domain's model.
import {
  byReportedAt,
  panelLookaheadDays,
  repeatVictimLookbackDays,
  repeatVictimThreshold,
  type Agenda,
  type ActiveFlag,
  type AgendaAction,
  type AgendaIncident,
  type AgendaLever,
  type AgendaPanel,
  type FlaggedPerpetrator,
  type RepeatVictim,
} from '../domain/agenda.js';
import type { AgendaWindow } from '../domain/agenda-window.js';
import type { LocalDate } from '../domain/calendar.js';
import type { Meeting } from '../domain/meeting.js';
import type { FlagKind, RiskLevel } from '../domain/records.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { LeverDue } from '../domain/levers.js';
import { openActionsDueBefore } from './actions.js';
import { treatedPerpetrators } from './levers-repository.js';

const dayMs = 86_400_000;

export interface AgendaQuery {
  meeting: Meeting;
  window: AgendaWindow;
  /** Actions due before this day are on the agenda (the next working day). */
  nextWorkingDay: LocalDate;
}

interface IncidentRow {
  source_ref: string;
  source_system: string;
  reported_at: Date;
  risk_level: RiskLevel;
  prof_judgement: boolean;
  category: string;
  area: string;
  children_present: boolean;
  p_ref: string;
  p_label: string;
  v_ref: string;
  v_label: string;
  v_count: number;
  p_flags: FlagKind[];
}

export async function loadAgenda(prisma: PrismaClient, query: AgendaQuery): Promise<Agenda> {
  const { meeting, window } = query;
  const [highRiskIncidents, flaggedPerpetrators, repeatVictims, actionsDue, panels, treated] = await Promise.all([
    highRiskIncidentsIn(prisma, query),
    flaggedPerpetratorsIn(prisma, query),
    repeatVictimsIn(prisma, query),
    actionsDueFor(prisma, query),
    panelsAfter(prisma, query),
    treatedPerpetrators(prisma, { timeZone: meeting.timeZone, until: window.end, areas: meeting.areas }),
  ]);
  const leversOf = new Map(treated.map((t) => [t.ref, t.due.map(agendaLeverOf)]));
  for (const p of flaggedPerpetrators) {
    const due = leversOf.get(p.ref);
    if (due?.length) p.leversDue = due;
  }
  const leversOverdue = treated
    .flatMap((t) => t.due.filter((d) => d.overdue).map((d) => ({ ref: t.ref, label: t.label, ...agendaLeverOf(d) })))
    .sort((a, b) => a.dueBy.getTime() - b.dueBy.getTime() || a.label.localeCompare(b.label));
  return {
    meeting: { key: meeting.key, name: meeting.name, timeZone: meeting.timeZone },
    meetingDate: window.meetingDate,
    window,
    highRiskIncidents,
    flaggedPerpetrators,
    repeatVictims,
    actionsDue,
    leversOverdue,
    panels,
  };
}

function agendaLeverOf(due: LeverDue): AgendaLever {
  return { tier: due.tier, tierName: due.tierName, mode: due.mode, incidentRef: due.incidentRef, dueBy: due.dueBy, overdue: due.overdue };
}

function lookbackStart(window: AgendaWindow): Date {
  return new Date(window.end.getTime() - repeatVictimLookbackDays * dayMs);
}

async function highRiskIncidentsIn(prisma: PrismaClient, { meeting, window }: AgendaQuery): Promise<AgendaIncident[]> {
  const rows = await prisma.$queryRaw<IncidentRow[]>`
    SELECT i.source_ref, i.source_system, i.reported_at, i.risk_level::text AS risk_level, i.prof_judgement,
           i.category, i.area, i.children_present,
           p.ref AS p_ref, p.label AS p_label, v.ref AS v_ref, v.label AS v_label,
           (SELECT count(*) FROM incident x
             WHERE x.victim_id = i.victim_id AND x.reported_at >= ${lookbackStart(window)} AND x.reported_at < ${window.end})::int AS v_count,
           COALESCE((SELECT array_agg(DISTINCT f.kind::text) FROM flag f
             WHERE f.perpetrator_id = i.perpetrator_id AND f.starts_on <= ${window.meetingDate}::date
               AND (f.ends_on IS NULL OR f.ends_on >= ${window.meetingDate}::date)), '{}'::text[]) AS p_flags
    FROM incident i
    JOIN nominal p ON p.id = i.perpetrator_id
    JOIN nominal v ON v.id = i.victim_id
    WHERE i.reported_at >= ${window.start} AND i.reported_at < ${window.end} AND i.risk_level = 'high'
      AND (cardinality(${meeting.areas}::text[]) = 0 OR i.area = ANY(${meeting.areas}::text[]))`;
  return rows
    .map((r) => ({
      ref: r.source_ref,
      label: r.source_ref,
      sourceSystem: r.source_system,
      reportedAt: r.reported_at,
      riskLevel: r.risk_level,
      profJudgement: r.prof_judgement,
      category: r.category,
      area: r.area,
      childrenPresent: r.children_present,
      perpetrator: { ref: r.p_ref, label: r.p_label, activeFlags: [...r.p_flags].sort() },
      victim: { ref: r.v_ref, label: r.v_label, incidentsLast365Days: r.v_count },
    }))
    .sort(byReportedAt);
}

async function flaggedPerpetratorsIn(prisma: PrismaClient, { meeting, window }: AgendaQuery): Promise<FlaggedPerpetrator[]> {
  const day = window.meetingDate;
  // The flags come with each incident rather than from a second round trip. They are a subquery in the
  // select list, run only for the rows EXISTS keeps: as a lateral join the planner cannot tell how few
  // incidents have a flagged perpetrator, and merges with every nominal instead of looking a few up.
  const rows = await prisma.$queryRaw<
    Array<{ perpetrator_id: number; p_ref: string; p_label: string; source_ref: string; reported_at: Date; risk_level: RiskLevel; category: string; area: string; flags: ActiveFlag[] }>
  >`
    SELECT i.perpetrator_id, p.ref AS p_ref, p.label AS p_label, i.source_ref, i.reported_at,
           i.risk_level::text AS risk_level, i.category, i.area,
           (SELECT json_agg(json_build_object('kind', f.kind, 'startsOn', to_char(f.starts_on, 'YYYY-MM-DD'), 'endsOn', to_char(f.ends_on, 'YYYY-MM-DD')))
              FROM flag f WHERE f.perpetrator_id = i.perpetrator_id
               AND f.starts_on <= ${day}::date AND (f.ends_on IS NULL OR f.ends_on >= ${day}::date)) AS flags
    FROM incident i
    JOIN nominal p ON p.id = i.perpetrator_id
    WHERE i.reported_at >= ${window.start} AND i.reported_at < ${window.end}
      AND (cardinality(${meeting.areas}::text[]) = 0 OR i.area = ANY(${meeting.areas}::text[]))
      AND EXISTS (SELECT 1 FROM flag f WHERE f.perpetrator_id = i.perpetrator_id
                    AND f.starts_on <= ${day}::date AND (f.ends_on IS NULL OR f.ends_on >= ${day}::date))`;
  const byPerpetrator = new Map<number, FlaggedPerpetrator>();
  for (const r of rows) {
    let entry = byPerpetrator.get(r.perpetrator_id);
    if (!entry) {
      entry = { ref: r.p_ref, label: r.p_label, flags: r.flags, incidents: [] };
      byPerpetrator.set(r.perpetrator_id, entry);
    }
    entry.incidents.push({ ref: r.source_ref, label: r.source_ref, reportedAt: r.reported_at, riskLevel: r.risk_level, category: r.category, area: r.area });
  }
  const list = [...byPerpetrator.values()];
  for (const p of list) {
    p.incidents.sort(byReportedAt);
    p.flags.sort((a, b) => a.kind.localeCompare(b.kind) || a.startsOn.localeCompare(b.startsOn));
  }
  // The perpetrator whose first incident in the window came first leads, as on the high-risk list.
  return list.sort((a, b) => byReportedAt(a.incidents[0]!, b.incidents[0]!));
}

async function repeatVictimsIn(prisma: PrismaClient, { meeting, window }: AgendaQuery): Promise<RepeatVictim[]> {
  const rows = await prisma.$queryRaw<Array<{ v_ref: string; v_label: string; in_window: number; last_365: number }>>`
    WITH in_window AS (
      SELECT victim_id, count(*)::int AS in_window
      FROM incident
      WHERE reported_at >= ${window.start} AND reported_at < ${window.end}
        AND (cardinality(${meeting.areas}::text[]) = 0 OR area = ANY(${meeting.areas}::text[]))
      GROUP BY victim_id
    ), counted AS (
      SELECT w.victim_id, w.in_window,
             (SELECT count(*) FROM incident x
               WHERE x.victim_id = w.victim_id AND x.reported_at >= ${lookbackStart(window)} AND x.reported_at < ${window.end})::int AS last_365
      FROM in_window w
    )
    SELECT v.ref AS v_ref, v.label AS v_label, c.in_window, c.last_365
    FROM counted c JOIN nominal v ON v.id = c.victim_id
    WHERE c.last_365 >= ${repeatVictimThreshold}`;
  return rows
    .map((r) => ({ ref: r.v_ref, label: r.v_label, incidentsLast365Days: r.last_365, incidentsInWindow: r.in_window }))
    .sort((a, b) => b.incidentsLast365Days - a.incidentsLast365Days || a.label.localeCompare(b.label));
}

function actionsDueFor(prisma: PrismaClient, { meeting, window, nextWorkingDay }: AgendaQuery): Promise<AgendaAction[]> {
  return openActionsDueBefore(prisma, meeting.key, nextWorkingDay, window.meetingDate);
}

async function panelsAfter(prisma: PrismaClient, { meeting, window }: AgendaQuery): Promise<AgendaPanel[]> {
  const panels = await prisma.panel.findMany({
    where: {
      meetingKey: meeting.key,
      cancelledAt: null,
      startsAt: { gte: window.end, lt: new Date(window.end.getTime() + panelLookaheadDays * dayMs) },
    },
    orderBy: [{ startsAt: 'asc' }, { id: 'asc' }],
  });
  return panels.map((p) => ({ id: p.id, ref: `P-${p.id}`, label: p.title || p.kind.replace('_', ' '), kind: p.kind, title: p.title, startsAt: p.startsAt }));
}
