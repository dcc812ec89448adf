// What a typed due date (`friday`, `+3d`, `panel`, `2026-03-06`) means on a given day in a meeting's calendar.
import { addCalendarDays, isLocalDate, parseLocalDate, type LocalDate } from './calendar.js';
import { weekdays } from './commands.js';

export type DueResult = { ok: true; dueOn: LocalDate } | { ok: false; message: string };

function weekdayIndex(day: LocalDate): number {
  const { year, month, day: d } = parseLocalDate(day);
  // 0 = Monday, as in `weekdays`.
  return (new Date(Date.UTC(year, month - 1, d)).getUTCDay() + 6) % 7;
}

/**
 * `today` is the meeting's local date. A weekday name means the next such day after today; `panel`
 * the day before the next panel; a due date in the past is refused.
 */
export function resolveDue(spec: string, today: LocalDate, nextPanelDay: LocalDate | undefined): DueResult {
  const value = spec.trim().toLowerCase();
  let dueOn: LocalDate;
  if (value === 'today') dueOn = today;
  else if (value === 'tomorrow') dueOn = addCalendarDays(today, 1);
  else if (value === 'panel') {
    if (!nextPanelDay) return { ok: false, message: 'No panel is scheduled, so "panel" has no date: give a date such as +7d or 2026-03-06.' };
    dueOn = addCalendarDays(nextPanelDay, -1);
    if (dueOn < today) return { ok: false, message: `The next panel is on ${nextPanelDay}, so the day before it has passed: give a date.` };
  } else if (/^\+\d{1,3}d$/.test(value)) dueOn = addCalendarDays(today, Number(value.slice(1, -1)));
  else if ((weekdays as readonly string[]).includes(value)) {
    const ahead = ((weekdays.indexOf(value as (typeof weekdays)[number]) - weekdayIndex(today) + 7) % 7) || 7;
    dueOn = addCalendarDays(today, ahead);
  } else if (isLocalDate(value)) dueOn = value;
  else return { ok: false, message: `"${spec.slice(0, 40)}" is not a due date: use YYYY-MM-DD, today, tomorrow, a weekday name, +3d or panel.` };
  if (dueOn < today) return { ok: false, message: `The due date ${dueOn} is in the past (today is ${today}).` };
  return { ok: true, dueOn };
}

/** The due day an "Add action" form starts with: a due lever's day unless it has passed, else tomorrow. */
export function formDefaultDue(prefilled: string | undefined, today: LocalDate): LocalDate {
  return prefilled && isLocalDate(prefilled) && prefilled > today ? prefilled : addCalendarDays(today, 1);
}
