// Reminder planning: who is told what, and when, before panels and about overdue actions. Pure: the
// same inputs at the same instant always give the same plan, and each reminder has a unique key.
import { cutoffOf, localDateOf } from './agenda-window.js';
import type { LocalDate, WorkingCalendar } from './calendar.js';

export interface ReminderPolicy {
  /** Working days before a panel on which its reminders go out (e.g. 5 and 1). */
  daysBeforePanel: number[];
  /** An overdue action nudges its owner at most once every this many working days. */
  nudgeEveryWorkingDays: number;
  /** Overdue by more than this many working days, an action goes to the chairs' digest. */
  escalateAfterWorkingDays: number;
  /** Local `HH:MM` bounds of the hours in which messages go out. */
  workingHours: { start: string; end: string };
}

export const defaultReminderPolicy: ReminderPolicy = {
  daysBeforePanel: [5, 1],
  nudgeEveryWorkingDays: 2,
  escalateAfterWorkingDays: 5,
  workingHours: { start: '08:00', end: '18:00' },
};

export interface PlanPanel {
  id: number;
  startsAt: Date;
}

export interface PlanAction {
  id: number;
  ownerId: number;
  dueOn: LocalDate;
  snoozedUntil: LocalDate | null;
  lastNudgedOn: LocalDate | null;
}

/** A trial lever past its target: its action's owners are told once, and the chairs see it in their digest. */
export interface PlanLever {
  incidentId: number;
  /** Owners of the open action that delivers it, if the meeting agreed one (the chairs see every overdue lever in their digest). */
  ownerIds: number[];
  actionIds: number[];
}

export interface ReminderInputs {
  now: Date;
  timeZone: string;
  calendar: WorkingCalendar;
  policy: ReminderPolicy;
  panels: PlanPanel[];
  openActions: PlanAction[];
  chairIds: number[];
  overdueLevers?: PlanLever[];
}

export type ReminderKind = 'panel' | 'nudge' | 'digest' | 'lever';

export interface PlannedReminder {
  /** Unique per recipient, kind and panel or day: the outbox's guarantee of "once". */
  key: string;
  kind: ReminderKind;
  recipientId: number;
  actionIds: number[];
  day: LocalDate;
  panelId?: number;
  /** For a panel reminder: how many working days before the panel it is. */
  daysBefore?: number;
  /** For a lever reminder: the incident whose lever is overdue; for a digest, every overdue lever's. */
  leverIncidentIds?: number[];
}

/** Messages go out only on working days, inside working hours. */
export function inWorkingHours(now: Date, timeZone: string, calendar: WorkingCalendar, policy: ReminderPolicy): boolean {
  const today = localDateOf(now, timeZone);
  if (!calendar.isWorkingDay(today)) return false;
  const t = now.getTime();
  return cutoffOf(today, policy.workingHours.start, timeZone).getTime() <= t && t < cutoffOf(today, policy.workingHours.end, timeZone).getTime();
}

function snoozed(action: PlanAction, today: LocalDate): boolean {
  return action.snoozedUntil !== null && action.snoozedUntil >= today;
}

function groupByOwner(actions: PlanAction[]): Map<number, number[]> {
  const byOwner = new Map<number, number[]>();
  for (const a of [...actions].sort((x, y) => x.dueOn.localeCompare(y.dueOn) || x.id - y.id)) {
    byOwner.set(a.ownerId, [...(byOwner.get(a.ownerId) ?? []), a.id]);
  }
  return byOwner;
}

export function planReminders(inputs: ReminderInputs): PlannedReminder[] {
  const { now, timeZone, calendar, policy } = inputs;
  if (!inWorkingHours(now, timeZone, calendar, policy)) return [];
  const today = localDateOf(now, timeZone);
  const plan: PlannedReminder[] = [];
  const awake = inputs.openActions.filter((a) => !snoozed(a, today));

  // Before each panel: the latest reminder whose day has come (one sent late beats none), once.
  const offsets = [...new Set(policy.daysBeforePanel)].sort((a, b) => a - b);
  for (const panel of [...inputs.panels].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id - b.id)) {
    if (panel.startsAt.getTime() <= now.getTime()) continue;
    const panelDay = localDateOf(panel.startsAt, timeZone);
    const daysBefore = offsets.find((offset) => calendar.addWorkingDays(panelDay, -offset) <= today);
    if (daysBefore === undefined) continue;
    const due = awake.filter((a) => a.dueOn <= panelDay);
    for (const [ownerId, actionIds] of groupByOwner(due)) {
      plan.push({ key: `panel:${panel.id}:before:${daysBefore}:to:${ownerId}`, kind: 'panel', recipientId: ownerId, actionIds, day: today, panelId: panel.id, daysBefore });
    }
  }

  const overdue = awake.filter((a) => a.dueOn < today);
  const nudgeable = overdue.filter((a) => a.lastNudgedOn === null || calendar.workingDaysBetween(a.lastNudgedOn, today) >= policy.nudgeEveryWorkingDays);
  for (const [ownerId, actionIds] of groupByOwner(nudgeable)) {
    plan.push({ key: `nudge:${today}:to:${ownerId}`, kind: 'nudge', recipientId: ownerId, actionIds, day: today });
  }

  // An overdue lever is told once to whoever was to deliver it; one nobody owns is in the chairs' digest
  // (every day until it is given), rather than a message per lever.
  const levers = [...(inputs.overdueLevers ?? [])].sort((a, b) => a.incidentId - b.incidentId);
  const chairIds = [...inputs.chairIds].sort((a, b) => a - b);
  for (const lever of levers) {
    for (const recipientId of [...new Set(lever.ownerIds)].sort((a, b) => a - b)) {
      plan.push({ key: `lever:${lever.incidentId}:overdue:to:${recipientId}`, kind: 'lever', recipientId, actionIds: lever.actionIds, day: today, leverIncidentIds: [lever.incidentId] });
    }
  }

  // Snoozing defers the owner's nudges, not the chairs' view of what is long overdue.
  const escalated = inputs.openActions.filter((a) => a.dueOn < today && calendar.workingDaysBetween(a.dueOn, today) > policy.escalateAfterWorkingDays);
  if (escalated.length > 0 || levers.length > 0) {
    const actionIds = [...groupByOwner(escalated).values()].flat();
    const leverIncidentIds = levers.map((l) => l.incidentId);
    for (const chairId of chairIds) {
      plan.push({ key: `digest:${today}:to:${chairId}`, kind: 'digest', recipientId: chairId, actionIds, day: today, ...(leverIncidentIds.length ? { leverIncidentIds } : {}) });
    }
  }
  return plan;
}

/** When the next window for sending opens: later today, or the next working day's start. */
export function nextWindowStart(now: Date, timeZone: string, calendar: WorkingCalendar, policy: ReminderPolicy): Date {
  const today = localDateOf(now, timeZone);
  if (calendar.isWorkingDay(today)) {
    const start = cutoffOf(today, policy.workingHours.start, timeZone);
    if (now.getTime() < start.getTime()) return start;
  }
  return cutoffOf(calendar.nextWorkingDay(today), policy.workingHours.start, timeZone);
}
