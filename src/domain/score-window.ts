// The instants a score "as of" a day looks over: the window of months before the end of that day, in the meeting's zone.
import { DateTime } from 'luxon';
import type { LocalDate } from './calendar.js';

export interface ScoreWindow {
  asOf: LocalDate;
  /** The first instant counted (inclusive). */
  start: Date;
  /** Where "recent" starts, for eligibility (inclusive). */
  recentStart: Date;
  /** The end of the as-of day (exclusive): an incident reported that day counts. */
  end: Date;
}

export function scoreWindowFor(asOf: LocalDate, windowMonths: number, recentMonths: number, timeZone: string): ScoreWindow {
  const end = DateTime.fromISO(asOf, { zone: timeZone }).startOf('day').plus({ days: 1 });
  return {
    asOf,
    start: end.minus({ months: windowMonths }).toJSDate(),
    recentStart: end.minus({ months: recentMonths }).toJSDate(),
    end: end.toJSDate(),
  };
}
